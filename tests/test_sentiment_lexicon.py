"""The lexicon method (VADER in English, our French scorer) and the ratings method."""

from __future__ import annotations

import pytest

from reviewops.records import Review
from reviewops.registry import UnknownName
from reviewops.sentiment import METHODS, analyze_sentiment
from reviewops.sentiment.french import score_french
from reviewops.spec import Sentiment
from tests.support.sentiment import prepared_for

LEXICON = Sentiment(method="lexicon")
RATINGS = Sentiment(method="ratings")


def label_of(text: str, language: str) -> str:
    review = Review(id="1", text=text, language=language)
    return analyze_sentiment([review], prepared_for([review]), LEXICON).labels[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Très satisfait, livraison rapide.", "positive"),
        ("Je ne suis pas satisfait.", "negative"),
        ("Pas du tout satisfaite de ma commande.", "negative"),
        ("Le téléphone ne fonctionne pas.", "negative"),
        ("Aucun problème, je recommande.", "positive"),
        ("Livraison sans souci.", "positive"),
        ("Je n'ai jamais été aussi déçu.", "negative"),
        ("Jamais reçu mon colis.", "negative"),
        ("Pas terrible.", "negative"),
        ("Pas mal du tout.", "positive"),
        ("Je recommande pas.", "negative"),
        ("Produit à fuir, une arnaque.", "negative"),
        ("Rien à redire.", "positive"),
        ("Commande passée mardi.", "neutral"),
    ],
)
def test_french_polarity(text: str, expected: str) -> None:
    assert label_of(text, "fr") == expected


def test_french_intensifiers_and_softeners_scale_the_score() -> None:
    assert score_french("très satisfait") > score_french("satisfait") > 0
    assert score_french("cher") < score_french("un peu cher") < 0
    assert score_french("Livraison rapide !!!") > score_french("Livraison rapide")


def test_french_what_follows_mais_weighs_more() -> None:
    assert score_french("Bon produit mais livraison très lente") < 0
    assert score_french("Livraison lente mais très bon produit") > 0


def test_french_accents_and_capitals() -> None:
    assert score_french("decue") == pytest.approx(score_french("déçue"))
    assert score_french("Service NUL") < score_french("Service nul") < 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Great service, fast delivery, highly recommend!", "positive"),
        ("Terrible experience, the worst insurance ever.", "negative"),
        ("I was not happy with the claim process.", "negative"),
        ("The parcel arrived on Tuesday.", "neutral"),
    ],
)
def test_vader_on_obvious_english(text: str, expected: str) -> None:
    assert label_of(text, "en") == expected


def test_languages_without_a_lexicon_are_neutral_with_a_warning() -> None:
    reviews = [
        Review(id="1", text="Sehr gut, schnelle Lieferung", language="de", rating=5),
        Review(id="2", text="Great!", language="en", rating=5),
    ]
    result = analyze_sentiment(reviews, prepared_for(reviews), LEXICON)
    assert result.labels == ["neutral", "positive"]
    assert result.scores[0] == 0.0
    warnings = result.details["warnings"]
    assert isinstance(warnings, list) and "de (1)" in warnings[0] and "supervised" in warnings[0]


def test_lexicon_reports_agreement_with_stars() -> None:
    reviews = [
        Review(id="1", text="Awful, broken.", rating=1, language="en"),
        Review(id="2", text="Wonderful!", rating=5, language="en"),
        Review(id="3", text="Wonderful!", rating=1, language="en"),
        Review(id="4", text="No stars here, lovely.", language="en"),
    ]
    result = analyze_sentiment(reviews, prepared_for(reviews), LEXICON)
    assert result.evaluation is not None
    assert result.evaluation.kind == "agreement with stars"
    assert result.evaluation.n == 3  # the review without stars is not counted
    assert result.evaluation.accuracy == pytest.approx(2 / 3)


def test_ratings_map_stars_to_labels_and_scores() -> None:
    reviews = [Review(id=str(s), text="x", rating=s, language="en") for s in (1, 2, 3, 4, 5)]
    result = analyze_sentiment(reviews, prepared_for(reviews), RATINGS)
    assert result.labels == ["negative", "negative", "neutral", "positive", "positive"]
    assert result.scores == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert result.evaluation is None


def test_ratings_fall_back_to_the_lexicon_without_stars() -> None:
    reviews = [
        Review(id="1", text="Horrible, a scam.", language="en"),
        Review(id="2", text="ok", rating=4, language="en"),
    ]
    done: list[int] = []
    result = analyze_sentiment(reviews, prepared_for(reviews), RATINGS, progress=done.append)
    assert result.labels == ["negative", "positive"]
    assert result.scores[0] < 0
    assert result.details["from_lexicon"] == 1
    assert sum(done) == len(reviews)


def test_ratings_reject_impossible_stars_with_the_review_origin() -> None:
    reviews = [Review(id="1", text="x", rating=7, origin="reviews.csv:3")]
    with pytest.raises(ValueError, match=r"reviews.csv:3: .*1 to 5 stars, got 7"):
        analyze_sentiment(reviews, prepared_for(reviews), RATINGS)


def test_methods_are_registered_by_name() -> None:
    assert METHODS.names() == ["lexicon", "ratings", "supervised"]
    with pytest.raises(UnknownName, match="choose one of: lexicon, ratings, supervised"):
        METHODS.get("bert")


def test_misaligned_prepared_corpus_is_refused() -> None:
    reviews = [Review(id="1", text="a"), Review(id="2", text="b")]
    with pytest.raises(ValueError, match="2 reviews, 1 texts"):
        analyze_sentiment(reviews, prepared_for(reviews[:1]), LEXICON)
