"""A source's tags are checked on a sample; a tag the sample finds wrong is checked everywhere.

Detecting every tagged text doubled preprocessing for nothing on well-tagged files, so each
tag is checked on its first texts and a stride of the rest (`preprocess.tags`).
"""

from __future__ import annotations

import pytest

from reviewops.preprocess import pipeline, prepare
from reviewops.preprocess.language import Guess, guess_language
from reviewops.preprocess.tags import SAMPLE_FIRST, SAMPLE_STRIDE, sampled
from reviewops.records import Review
from reviewops.spec import Preprocessing

FRENCH = "La livraison a été rapide et le service client a répondu à toutes mes questions, commande {}."
ENGLISH = (
    "The parcel arrived two days late, but the support team was friendly and refunded the shipping "
    "costs without any questions, which I appreciated a lot. Order {}."
)


def test_each_tag_is_sampled_on_its_first_texts_then_a_stride() -> None:
    tags: list[str | None] = ["fr"] * (SAMPLE_FIRST + 3 * SAMPLE_STRIDE) + ["en", None]
    chosen = sampled(tags)
    assert all(chosen[:SAMPLE_FIRST]) and chosen[-2] and not chosen[-1]  # None: detected anyway
    later = chosen[SAMPLE_FIRST : SAMPLE_FIRST + 3 * SAMPLE_STRIDE]
    assert sum(later) == 3


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def counted(text: str) -> Guess:
        seen.append(text)
        return guess_language(text)

    monkeypatch.setattr(pipeline, "guess_language", counted)
    return seen


def test_a_well_tagged_file_is_detected_on_a_sample_only(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _counting(monkeypatch)
    reviews = [Review(id=str(i), text=FRENCH.format(i), language="fr") for i in range(1000)]
    prepared = prepare(reviews, Preprocessing(), workers=1)
    assert set(prepared.languages) == {"fr"} and not any("contradicts" in w for w in prepared.warnings)
    assert len(seen) == SAMPLE_FIRST + (1000 - SAMPLE_FIRST) // SAMPLE_STRIDE


def test_wrong_tags_beyond_the_sample_are_all_found(monkeypatch: pytest.MonkeyPatch) -> None:
    # English reviews tagged "fr" (a country column) after 320 right ones: the stride meets
    # one of them, so every text tagged "fr" is detected and all 39 are overruled.
    seen = _counting(monkeypatch)
    reviews = [Review(id=f"f{i}", text=FRENCH.format(i), language="fr") for i in range(320)]
    reviews += [Review(id=f"e{i}", text=ENGLISH.format(i), language="fr") for i in range(39)]
    prepared = prepare(reviews, Preprocessing(), workers=1)
    assert prepared.languages[320:] == ["en"] * 39 and set(prepared.languages[:320]) == {"fr"}
    assert any(w.startswith("39 reviews tagged by the source") for w in prepared.warnings), prepared.warnings
    assert len(seen) == len(reviews)
