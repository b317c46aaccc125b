"""How much to trust a run's sentiment, in one plain sentence (`SentimentResult.details["trust"]`).

A macro-F1 alone does not tell a reader what to believe: the neutral class (3 stars) is 2-5 %
of Trustpilot reviews, so a model can split negative from positive well and still get the
neutral share wrong, and a held-out set with a dozen neutral reviews gives a neutral F1 that
is mostly noise. The statement names the method, what it learned from, the figure it was
judged on, and then what to rely on. The limits below come from the cross-company and
cross-trade figures of bench/bench_sentiment_cross.py:
- the two polarities: F1 >= 0.80 on both is a split worth trusting; below 0.60 on either,
  the labels are indicative only;
- neutral: an F1 under 0.40, or fewer than MIN_NEUTRAL_SUPPORT neutral reviews held out,
  means the neutral share is not to be read (across companies English models reached a
  neutral F1 of 0.15-0.59, French ones 0.00-0.80 on a handful of reviews);
- a held-out set under SMALL_EVALUATION reviews makes every figure rough (French banks of a
  few hundred reviews swung by +-0.15 macro-F1 in bootstrap intervals);
- a model reused on another company, or a lexicon, is judged on its agreement with this
  file's stars when it has some; without stars, on the bench's figures across companies.
"""

from __future__ import annotations

from collections.abc import Collection

from reviewops.records import Evaluation

GOOD_POLARITY_F1 = 0.80
WEAK_POLARITY_F1 = 0.60
GOOD_NEUTRAL_F1 = 0.40
MIN_NEUTRAL_SUPPORT = 20
SMALL_EVALUATION = 300
LEXICON_LANGUAGES = frozenset({"en", "fr"})  # as `lexicon.LEXICONS`, without importing it

# What each method scored on companies it never saw (bench_sentiment_cross.py, means over the
# held-out companies and trades), quoted when a run has no stars to check its labels against.
UNCHECKED = {
    "lexicon": "the lexicons scored 0.55 macro-F1 (English, VADER) and 0.51-0.56 (French) "
    "against other companies' stars",
    "supervised": "models trained on other companies scored 0.58-0.60 (French) and 0.68 "
    "(English) macro-F1 on companies they never saw",
}


def ratings_trust(from_stars: int, from_lexicon: int) -> str:
    """The stars are the labels; only reviews without stars are guessed (by the lexicon)."""
    statement = f"labels are the stars of {from_stars:,} reviews: exact by definition"
    if from_lexicon:
        statement += (
            f"; {from_lexicon:,} reviews without stars were labelled by the lexicon "
            f"({UNCHECKED['lexicon']}): trust their negative/positive split only roughly"
        )
    return statement


def evaluated_trust(source: str, evaluation: Evaluation | None, method: str) -> str:
    """`source` (what the labels come from) + the figure + what to rely on.

    `evaluation` is the held-out split of a trained model, or the agreement of a reused model
    or a lexicon with this file's stars; None when nothing could be checked.
    """
    if evaluation is None or not evaluation.n:
        return (
            f"{source}; no stars to check the labels against ({UNCHECKED[method]}): "
            "read the negative/positive split as rough, not the neutral share"
        )
    neutral = evaluation.per_class["neutral"]
    figure = (
        f"{evaluation.kind} macro-F1 {evaluation.macro_f1:.2f} on {evaluation.n:,} reviews "
        f"(neutral {neutral.f1:.2f} on {neutral.support:,})"
    )
    return f"{source}; {figure}: {verdict(evaluation)}"


def verdict(evaluation: Evaluation) -> str:
    """What to rely on, given the per-class figures (see the module docstring for the limits)."""
    polarity = min(evaluation.per_class["negative"].f1, evaluation.per_class["positive"].f1)
    neutral = evaluation.per_class["neutral"]
    neutral_ok = neutral.f1 >= GOOD_NEUTRAL_F1 and neutral.support >= MIN_NEUTRAL_SUPPORT
    if polarity < WEAK_POLARITY_F1:
        advice = "the labels are indicative only; the stars are the better guide"
    elif polarity < GOOD_POLARITY_F1:
        advice = "trust the broad negative/positive split, loosely"
    else:
        advice = "trust the negative/positive split"
    if polarity >= WEAK_POLARITY_F1:
        advice += ", and the neutral share too" if neutral_ok else ", not the neutral share"
    if evaluation.n < SMALL_EVALUATION:
        advice += f" (only {evaluation.n} reviews checked: the figures are rough)"
    return advice


def supervised_trust(
    *,
    reused: bool,
    training_size: object,
    evaluation: Evaluation | None,
    unseen_languages: Collection[str] = (),
) -> str:
    """The statement for `supervised`: a model trained on this file, or reused from elsewhere."""
    size = f"{training_size:,}" if isinstance(training_size, int) else "an unknown number of"
    if reused:
        source = f"model trained elsewhere on {size} reviews"
    else:
        source = f"trained on {size} of this file's rated reviews"
    statement = evaluated_trust(source, evaluation, "supervised")
    if unseen_languages:
        statement += f"; reviews in {', '.join(sorted(unseen_languages))} were never seen in training"
    return statement


def lexicon_trust(lexicons: dict[str, str], evaluation: Evaluation | None) -> str:
    """The statement for `lexicon`: fixed word lists, no training."""
    names = ", ".join(f"{name} ({lang})" for lang, name in lexicons.items() if lang in LEXICON_LANGUAGES)
    without = sorted(lang for lang in lexicons if lang not in LEXICON_LANGUAGES)
    source = f"lexicon scores, no training: {names or 'no lexicon for these languages'}"
    if without and names:
        source += f" (no lexicon for {', '.join(without)}: neutral)"
    return evaluated_trust(source, evaluation, "lexicon")
