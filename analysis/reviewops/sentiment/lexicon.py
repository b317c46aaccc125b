"""The `lexicon` method: VADER for English, the project's own French scorer, neutral otherwise.

No training and no stars needed: a review's score is its lexicon polarity in [-1, 1] and its
label follows the +-0.05 thresholds VADER's authors recommend (`base.POLARITY_THRESHOLD`).
Reviews in a language without a lexicon get score 0 (neutral) and a warning that names the
languages and suggests `supervised`, which learns any language from its stars. When reviews
have stars, the result reports how well the lexicon agrees with them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from reviewops.records import Prepared, ProgressFn, Review, SentimentResult
from reviewops.sentiment.base import METHODS, agreement_with_stars, score_to_label
from reviewops.sentiment.trust import lexicon_trust
from reviewops.spec import Sentiment

log = logging.getLogger(__name__)

LEXICONS = {"en": "VADER (vaderSentiment)", "fr": "reviewops French lexicon"}
_CHUNK = 500


@cache
def _vader() -> Callable[[str], float]:
    # Loading VADER reads its lexicon file (~0.1 s): once per process is enough.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return lambda text: float(analyzer.polarity_scores(text)["compound"])


def _scorer(language: str) -> Callable[[str], float] | None:
    if language == "en":
        return _vader()
    if language == "fr":
        from reviewops.sentiment.french import score_french

        return score_french
    return None


def lexicon_scores(
    texts: Sequence[str], languages: Sequence[str], progress: ProgressFn
) -> tuple[list[float], list[str]]:
    """Lexicon polarity of each text in its language, and the warnings worth showing a user.

    `progress` receives counts that sum to len(texts).
    """
    scores: list[float] = []
    unsupported: Counter[str] = Counter()
    for start in range(0, len(texts), _CHUNK):
        for text, language in zip(
            texts[start : start + _CHUNK], languages[start : start + _CHUNK], strict=True
        ):
            scorer = _scorer(language)
            if scorer is None:
                unsupported[language] += 1
                scores.append(0.0)
            else:
                scores.append(scorer(text))
        progress(len(texts[start : start + _CHUNK]))
    warnings = []
    if unsupported:
        listed = ", ".join(f"{lang} ({n})" for lang, n in unsupported.most_common())
        warnings.append(
            f"sentiment lexicon: no lexicon for {listed} review(s): they are labelled neutral "
            f"with score 0 (lexicons exist for {', '.join(LEXICONS)}); use method "
            "'supervised' to learn these languages from their stars"
        )
        log.warning(warnings[-1])
    return scores, warnings


@METHODS.register("lexicon")
def lexicon(
    reviews: Sequence[Review],
    prepared: Prepared,
    options: Sentiment,
    *,
    save_model: Path | None,
    progress: ProgressFn,
) -> SentimentResult:
    """Label reviews from their lexicon polarity (see the module docstring)."""
    del options, save_model  # nothing to tune and no model to save
    scores, warnings = lexicon_scores(prepared.texts, prepared.languages, progress)
    labels = [score_to_label(score) for score in scores]
    languages = Counter(prepared.languages)
    lexicons = {lang: LEXICONS.get(lang, "none (neutral)") for lang in sorted(languages)}
    evaluation = agreement_with_stars(reviews, labels)
    return SentimentResult(
        method="lexicon",
        labels=labels,
        scores=scores,
        evaluation=evaluation,
        details={
            "lexicons": lexicons,
            "languages": dict(languages),
            "warnings": warnings,
            "trust": lexicon_trust(lexicons, evaluation),
        },
    )
