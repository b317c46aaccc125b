"""A bilingual corpus: one topic model per language, so themes are found in each language."""

from __future__ import annotations

import pytest

from reviewops.demo import generate
from reviewops.preprocess import prepare
from reviewops.spec import Preprocessing, Topics
from reviewops.topics.by_language import fit_topics_by_language
from reviewops.topics.recovery import recovery


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["nmf", "lda"])
def test_mixed_english_french_demo_recovers_themes_in_each_language(algorithm: str) -> None:
    reviews, themes = generate(4000, seed=7, languages=("en", "fr"))
    prepared = prepare(reviews, Preprocessing(), company_name="ReMarket", workers=1)
    result = fit_topics_by_language(
        prepared.tokens, prepared.languages, Topics(algorithm=algorithm, num_topics=8)
    )
    assert len(result.themes()) == 16
    assert {t.label[-4:] for t in result.topics} == {"[en]", "[fr]"}
    assert set(result.details["by_language"]) == {"en", "fr"}  # type: ignore[arg-type]
    for lang in ("en", "fr"):
        idx = [i for i, code in enumerate(prepared.languages) if code == lang and result.assignments[i] >= 0]
        score = recovery([result.assignments[i] for i in idx], [themes[i] for i in idx])
        assert score.f1 >= 0.8, (lang, score)


def test_a_small_language_gets_no_topics_and_a_warning() -> None:
    tokens = [["battery", "dead", "week"], ["delivery", "fast", "parcel"]] * 60 + [["akku", "leer"]] * 5
    languages = ["en"] * 120 + ["de"] * 5
    result = fit_topics_by_language(tokens, languages, Topics(num_topics=2), min_reviews=50)
    # one big language: an ordinary single model, the German reviews still in it
    assert not any(t.label.endswith("]") for t in result.topics)
    tokens += [["livraison", "rapide", "colis"], ["batterie", "morte", "semaine"]] * 30
    languages += ["fr"] * 60
    result = fit_topics_by_language(tokens, languages, Topics(num_topics=2), min_reviews=50)
    assert all(a == -1 for a in result.assignments[120:125])
    assert "5 in 'de'" in str(result.details["warning"])
    assert {t.label[-4:] for t in result.topics} == {"[en]", "[fr]"}
