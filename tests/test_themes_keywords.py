"""The complaints an analyst acts on get a theme or sub-theme whose label names them.

On the real reviews of ../shared/data (skipped when absent): the 11,694 English pet-insurance
reviews, the French Cdiscount and bank reviews, and the 6,064 English food reviews (a trade
the labelling rules were never tuned on). Each complaint is defined here by a keyword rule
written by hand (a regular expression over the review's cleaned text). For a complaint, the
*named share* is the largest share of its reviews (those with a theme) that fall in one
theme or sub-theme whose label names the complaint (holds one of the rule's label words).
A complaint passes when its named share reaches the threshold set from its measured share
(seed 0, printed with -s) minus a margin for other machines' numerics. Complaints no labelled
theme holds yet have a threshold of 0 and a "not found" note: the printed report shows them.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewops.records import Prepared, Review, TopicResult
from reviewops.spec import Preprocessing, Topics
from reviewops.topics.by_language import fit_topics_by_language
from tests.test_theme_labels import junk_parts

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


@dataclass(frozen=True)
class Complaint:
    name: str
    rule: str  # regular expression over the lowercase cleaned text
    label_words: tuple[str, ...]  # a label naming the complaint holds one of these


ENGLISH = (
    Complaint("pre-existing condition", r"pre-?\s?existing", ("pre-existing", "pre existing", "preexisting")),
    Complaint("waiting period", r"waiting period", ("waiting period", "wait")),
    Complaint("cancellation", r"\bcancel", ("cancel",)),
    Complaint("claim denied", r"\b(denied|deny|denial)\b", ("deni", "deny", "reject")),
    Complaint(
        "premium increase",
        r"(premium|rate|price)s? (went up|increased|doubled)",
        ("increase", "premium", "rate"),
    ),
    Complaint("slow reimbursement", r"\bslow\b.{0,40}(reimburs|claim|pay)", ("slow", "wait", "week")),
)
# The French bank reviews are 94 % four and five stars: "frais" is in 3 of 2,521 of them,
# "virement" in 31. The complaints are checked on the Cdiscount reviews (165 one-star).
FRENCH = (
    Complaint("livraison", r"livraison|livr[ée]", ("livraison", "livr")),
    Complaint("remboursement", r"rembours", ("rembours",)),
    Complaint("colis", r"\bcolis\b", ("colis",)),
    Complaint("service client / SAV", r"service client|\bsav\b", ("service client", "sav")),
    Complaint("commande annulée", r"annul", ("annul",)),
)
# A trade the labelling and the sub-theme rules were never tuned on: nine food companies
# (meal kits, delivery apps, coffee, tea, fruit gifts), 6,064 English reviews.
FOOD = (
    Complaint("missing items", r"\bmissing\b", ("missing", "miss")),
    Complaint("late delivery", r"\blate\b|\bnever (arrived|came|showed)", ("late", "wait", "hour", "arriv")),
    Complaint("cancellation", r"\bcancel", ("cancel",)),
    Complaint("charged", r"\bcharged?\b", ("charge",)),
    Complaint("fees / tips", r"\b(fees?|tips?)\b", ("fee", "tip")),
    Complaint("refund", r"\brefund", ("refund",)),
    Complaint("cold food", r"\bcold\b", ("cold",)),
    Complaint("damaged", r"\bdamaged?\b|\bbroken\b", ("damage", "broken")),
)
# Measured named shares (seed 0, Dec 2026) minus ~0.1.
ENGLISH_MIN = {
    "pre-existing condition": 0.65,  # 78 % in "pre-existing condition / denied"
    "waiting period": 0.2,  # 29 % in "wellness / waiting period"
    # 23 % in "email / cancel" (the sub-theme whose terms are "email cancel refund"); 65 % of
    # them are in the complaints theme, whose two label parts name pre-existing conditions
    # and denials
    "cancellation": 0.15,
    "claim denied": 0.7,  # 84 % in "pre-existing condition / denied"
    "premium increase": 0.8,  # 98 % in "increase / price"
    "slow reimbursement": 0.0,  # not found: 26 reviews only, 8 in the largest sub-theme
}
FRENCH_MIN = {
    "livraison": 0.25,  # 34 % in "livraison rapide / bien"
    "remboursement": 0.35,  # 50 % in "service client / remboursement"
    # 65 % in "service client / remboursement / colis" (a theme without sub-themes names a
    # third subject; with two parts the label did not name it)
    "colis": 0.5,
    "service client / SAV": 0.25,  # 33 % in "service client / remboursement"
    "commande annulée": 0.0,  # not found: 17 reviews
}
FOOD_MIN = {
    "missing items": 0.33,  # 44 % in "missing items / weeks in a row"
    "late delivery": 0.15,  # 25 % in "cancel the order / hours"
    "cancellation": 0.33,  # 43 % in "box / cancel"
    "charged": 0.32,  # 43 % in "charged / canceled my subscription"
    "fees / tips": 0.35,  # 46 % in "delivery fee / tip"
    # not found: refunds are asked for in every complaint (279 reviews); cold food (117) and
    # damaged goods (66) are spread over the delivery-app and fruit-gift themes
    "refund": 0.0,
    "cold food": 0.0,
    "damaged": 0.0,
}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _english(shared: Path) -> list[Review]:
    rows = _read(shared / "reviews" / "en_pet_insurance_trustpilot.csv")
    return [
        Review(id=r["id"], text=r["text"], title=r["title"], company=r["company"], language="en")
        for r in rows
    ]


def _french(shared: Path) -> list[Review]:
    rows = _read(shared / "reviews" / "fr_cdiscount_trustpilot.csv")
    return [
        Review(id=str(i), text=r["body"], title=r["headline"], company="Cdiscount", language="fr")
        for i, r in enumerate(rows)
    ]


def _food(shared: Path) -> list[Review]:
    rows = _read(shared / "reviews" / "en_food_trustpilot.csv")
    return [
        Review(id=str(i), text=r["Review"], title=r["Headline"], company=r["Brand"], language="en")
        for i, r in enumerate(rows)
    ]


def _banks(shared: Path) -> list[Review]:
    rows = _read(shared / "reviews" / "fr_banks_trustpilot.csv")
    # "Experience" is the review (title and body); the file's Language column is a country.
    return [
        Review(id=str(i), text=r["Experience"], company=r["Company"], language="fr")
        for i, r in enumerate(rows)
    ]


def _themes(reviews: list[Review], language: str) -> tuple[Prepared, TopicResult]:
    from reviewops.preprocess import prepare

    prepared = prepare(reviews, Preprocessing(), languages=[language])
    result = fit_topics_by_language(
        prepared.tokens, prepared.languages, Topics(), texts=prepared.texts, brands=prepared.brands
    )
    return prepared, result


def named_share(complaint: Complaint, texts: list[str], result: TopicResult) -> tuple[float, str, int]:
    """(named share, the label holding it, the rule's reviews with a theme)."""
    rule = re.compile(complaint.rule)
    matched = [i for i, text in enumerate(texts) if rule.search(text.lower()) and result.assignments[i] >= 0]
    best, best_label = 0.0, "-"
    for topic in result.topics:
        label = topic.label.lower()
        if not any(word in label for word in complaint.label_words):
            continue
        members = result.assignments if topic.parent is None else result.sub_assignments
        share = sum(1 for i in matched if members[i] == topic.id) / len(matched) if matched else 0.0
        if share > best:
            best, best_label = share, topic.label
    return best, best_label, len(matched)


def _check(
    complaints: tuple[Complaint, ...], minimum: dict[str, float], prepared: Prepared, result: TopicResult
) -> None:
    lines = []
    failed = []
    for complaint in complaints:
        share, label, n = named_share(complaint, prepared.texts, result)
        lines.append(f"{complaint.name:<28} {n:>5} reviews  named share {share:6.1%}  in {label!r}")
        if share < minimum[complaint.name]:
            failed.append(complaint.name)
    print("\n" + "\n".join(lines))
    assert not failed, "\n".join(lines)


@pytest.fixture(scope="module")
def english(shared_data: Path) -> tuple[Prepared, TopicResult]:
    return _themes(_english(shared_data), "en")


@pytest.fixture(scope="module")
def french(shared_data: Path) -> tuple[Prepared, TopicResult]:
    return _themes(_french(shared_data), "fr")


@pytest.fixture(scope="module")
def food(shared_data: Path) -> tuple[Prepared, TopicResult]:
    return _themes(_food(shared_data), "en")


def test_english_complaints_have_a_theme_that_names_them(english: tuple[Prepared, TopicResult]) -> None:
    _check(ENGLISH, ENGLISH_MIN, *english)


def test_french_complaints_have_a_theme_that_names_them(french: tuple[Prepared, TopicResult]) -> None:
    _check(FRENCH, FRENCH_MIN, *french)


def test_food_complaints_have_a_theme_that_names_them(food: tuple[Prepared, TopicResult]) -> None:
    _check(FOOD, FOOD_MIN, *food)


# Junk label parts (test_theme_labels.junk_parts) measured with seed 0 (Dec 2026): pet
# insurance 18 before labels weighed the sub-theme's top terms and bare words, 10 after;
# Cdiscount 2 before, 1 after; food (never tuned on) 12. The limits leave a margin for
# other machines' numerics.
MAX_JUNK = {"english": 12, "french": 2, "food": 15}


@pytest.mark.parametrize("which", ["english", "french", "food"])
def test_few_label_parts_are_junk(which: str, request: pytest.FixtureRequest) -> None:
    _, result = request.getfixturevalue(which)
    junk = junk_parts(result, "fr" if which == "french" else "en")
    print(f"\n{which}: {len(junk)} junk label parts: {junk}")
    assert len(junk) <= MAX_JUNK[which], junk


@pytest.fixture(scope="module")
def banks(shared_data: Path) -> tuple[Prepared, TopicResult]:
    return _themes(_banks(shared_data), "fr")


@pytest.mark.parametrize("which", ["english", "french", "banks", "food"])
def test_generic_praise_is_one_theme(which: str, request: pytest.FixtureRequest) -> None:
    _, result = request.getfixturevalue(which)
    praise = [
        t for t in result.themes() if t.label.split(" [")[0] in ("general praise", "satisfaction générale")
    ]
    # The food reviews praise a subject ("products / quality", "meals / portions"): none of
    # their broad themes is mostly generic words (seed 0), so there may be no praise theme.
    assert len(praise) <= 1 if which == "food" else len(praise) == 1, [t.label for t in result.themes()]


def _cut_parts(result: TopicResult, texts: list[str], language: str) -> list[tuple[str, str, float]]:
    """Label parts of several words that most reviews writing them go on from with one same
    stop word ("easy to work" + with), counted here by a regular expression over the texts."""
    from collections import Counter

    from reviewops.topics.phrases import stop_words

    stops = stop_words(language)
    lowered = [text.lower() for text in texts]
    found = []
    for topic in result.topics:
        for part in (p.strip() for p in topic.label.split(" [")[0].split("/")):
            if " " not in part:
                continue
            pattern = re.compile(r"(?<!\w)" + re.escape(part) + r"(?!\w)[ ]?(\w+)?")
            writers = 0
            following: Counter[str] = Counter()
            for text in lowered:
                nexts = {m.group(1) for m in pattern.finditer(text)}
                if nexts:
                    writers += 1
                    following.update(word for word in nexts if word in stops)
            if writers >= 5 and following:
                word, n = following.most_common(1)[0]
                if n >= 0.75 * writers:
                    found.append((part, word, round(n / writers, 2)))
    return found


@pytest.mark.parametrize("which", ["english", "french", "food"])
def test_no_label_part_reads_cut_off(which: str, request: pytest.FixtureRequest) -> None:
    # Before labels weighed how reviews go on, pet insurance had "easy to work" (with, 0.98)
    # and "easy to sign" (up, 0.96).
    prepared, result = request.getfixturevalue(which)
    cut = _cut_parts(result, prepared.texts, "fr" if which == "french" else "en")
    assert cut == [], cut
