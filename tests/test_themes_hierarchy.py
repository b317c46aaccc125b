"""Two-level themes: the structure records.TopicResult promises, readable labels, bounded k.

Synthetic reviews written here (no real data): six complaints (two each about claims, price
and the app) and two kinds of praise-only reviews. Tokens are the texts' words without stop words, as
preprocessing makes them, with the brand "acme" dropped from the tokens but left in the text.
"""

from __future__ import annotations

import random

import pytest

from reviewops.records import TopicResult
from reviewops.spec import Topics
from reviewops.topics import fit_topics, hierarchy
from reviewops.topics.by_language import fit_topics_by_language
from reviewops.topics.fit import REVIEWS_PER_TOPIC
from reviewops.topics.phrases import stop_words

# subject -> sub-subject -> phrases its reviews write
SUBJECTS = {
    "claims": {
        "waiting": ["the waiting period was too long", "a waiting period of weeks", "waiting period again"],
        "denied": ["my claim was denied", "claim denied for no reason", "denied claim appeal"],
    },
    "price": {
        "increase": ["premium increase at renewal", "huge premium increase", "premium increase every year"],
        "deductible": ["high annual deductible", "annual deductible too high", "the annual deductible"],
    },
    "app": {
        "login": ["cannot login to the app", "app login fails", "login error in the app"],
        "upload": ["upload receipts in the portal", "portal upload broken", "receipt upload failed"],
    },
}
PRAISE = [
    ["great service", "excellent company", "happy customer", "highly recommend"],
    ["amazing experience", "wonderful service", "love it", "recommend them"],
]
BRAND = "acme"


def _corpus(per_sub: int = 130, per_praise: int = 150, seed: int = 1) -> tuple[list[str], list[list[str]]]:
    rng = random.Random(seed)
    texts = []
    for subs in SUBJECTS.values():
        for phrases in subs.values():
            for _ in range(per_sub):
                texts.append(f"{rng.choice(phrases).capitalize()} with {BRAND}. {rng.choice(phrases)}.")
    for words in PRAISE:
        for _ in range(per_praise):
            texts.append(f"{rng.choice(words).capitalize()}, {rng.choice(words)}!")
    stops = stop_words("en")
    tokens = [
        [w for w in t.lower().replace(".", " ").replace(",", " ").replace("!", " ").split() if w not in stops]
        for t in texts
    ]
    return texts, [[w for w in doc if w != BRAND] for doc in tokens]


@pytest.fixture(scope="module")
def result() -> TopicResult:
    texts, tokens = _corpus()
    # 8 = the 6 sub-subjects and the 2 kinds of praise: the praise must end up as one theme
    return fit_topics(tokens, Topics(num_topics=8), texts=texts, language="en", brands=[BRAND])


def test_ids_parents_and_sub_assignments_are_consistent(result: TopicResult) -> None:
    themes, subs = result.themes(), result.subthemes()
    assert [t.id for t in result.topics] == list(range(len(result.topics)))
    assert result.topics[: len(themes)] == themes  # themes first
    assert subs, "large themes get sub-themes"
    assert all(s.parent is not None and 0 <= s.parent < len(themes) for s in subs)
    parents = [s.parent for s in subs]
    assert parents == sorted(parents, key=lambda p: p if p is not None else -1)  # grouped by parent
    assert len(result.sub_assignments) == len(result.assignments)
    for theme, sub in zip(result.assignments, result.sub_assignments, strict=True):
        if sub >= 0:
            assert result.topics[sub].parent == theme
    sizes = [result.assignments.count(t.id) for t in themes]
    assert sizes == sorted(sizes, reverse=True)
    for broad in themes:
        sub_sizes = [result.sub_assignments.count(s.id) for s in result.subthemes(broad.id)]
        assert sub_sizes == sorted(sub_sizes, reverse=True)


def test_labels_are_phrases_reviewers_wrote_and_never_a_brand(result: TopicResult) -> None:
    labels = [t.label for t in result.topics]
    assert len(set(labels)) == len(labels)
    assert not any(BRAND in label for label in labels), labels
    everything = " ".join(labels)
    for phrase in ("waiting period", "premium increase", "annual deductible"):
        assert phrase in everything, labels


def test_praise_only_themes_are_one_general_praise_theme(result: TopicResult) -> None:
    praise = [t for t in result.themes() if t.label == "general praise"]
    assert len(praise) == 1, [t.label for t in result.themes()]
    praise_reviews = range(len(result.assignments) - 2 * 150, len(result.assignments))
    assert sum(result.assignments[i] == praise[0].id for i in praise_reviews) >= 0.9 * 300


def test_same_seed_same_themes() -> None:
    texts, tokens = _corpus(per_sub=60, per_praise=80)
    first = fit_topics(tokens, Topics(num_topics=4, seed=3), texts=texts, language="en")
    second = fit_topics(tokens, Topics(num_topics=4, seed=3), texts=texts, language="en")
    assert [(t.label, t.parent) for t in first.topics] == [(t.label, t.parent) for t in second.topics]
    assert first.assignments == second.assignments
    assert first.sub_assignments == second.sub_assignments


def test_sub_themes_fitted_in_threads_are_those_fitted_one_by_one(
    result: TopicResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hierarchy, "_FIT_THREADS", 1)
    texts, tokens = _corpus()
    alone = fit_topics(tokens, Topics(num_topics=8), texts=texts, language="en", brands=[BRAND])
    assert [(t.label, t.parent, t.terms) for t in alone.topics] == [
        (t.label, t.parent, t.terms) for t in result.topics
    ]
    assert alone.sub_assignments == result.sub_assignments


def test_auto_k_is_bounded_by_the_languages_review_count() -> None:
    # 92 reviews on 12 distinct subjects: without the bound auto picks 12 topics of 7 reviews.
    words = [f"subject{i} detail{i} issue{i} matter{i}".split() for i in range(12)]
    tokens = [words[i % 12] + [f"extra{i % 5}"] for i in range(92)]
    result = fit_topics(tokens, Topics(min_topics=4, max_topics=12))
    assert len(result.themes()) <= 92 // REVIEWS_PER_TOPIC
    languages = ["en"] * 92 + ["fr"] * 400
    french = [[f"sujet{i % 6}", f"détail{i % 6}", f"problème{i % 6}"] for i in range(400)]
    merged = fit_topics_by_language(tokens + french, languages, Topics(min_topics=4, max_topics=12))
    english = [t for t in merged.themes() if t.label.endswith("[en]")]
    assert 1 <= len(english) <= 92 // REVIEWS_PER_TOPIC


def test_by_language_keeps_the_hierarchy_and_tags_every_label() -> None:
    texts, tokens = _corpus(per_sub=60, per_praise=60)
    french_texts = [
        ("Des frais bancaires élevés." if i % 2 else "Ma carte bloquée à l'étranger.") for i in range(200)
    ]
    french_tokens = [
        (["frais", "bancaire", "élevé"] if i % 2 else ["carte", "bloquer", "étranger"]) for i in range(200)
    ]
    languages = ["en"] * len(texts) + ["fr"] * 200
    result = fit_topics_by_language(
        tokens + french_tokens, languages, Topics(num_topics=4), texts=texts + french_texts
    )
    k = len(result.themes())
    assert [t.id for t in result.topics] == list(range(len(result.topics)))
    assert all(t.parent is None for t in result.topics[:k]) and all(
        t.parent is not None for t in result.topics[k:]
    )
    assert all(t.label.endswith(("[en]", "[fr]")) for t in result.topics)
    for theme, sub in zip(result.assignments, result.sub_assignments, strict=True):
        if sub >= 0:
            assert result.topics[sub].parent == theme
    assert any("frais bancaires" in t.label or "carte bloquée" in t.label for t in result.topics), [
        t.label for t in result.topics
    ]
