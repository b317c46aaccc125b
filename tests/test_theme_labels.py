"""Theme labels a manager can act on: what a junk label part is, and that labels avoid them.

A label is up to two phrases joined by " / ". A part is *junk* when a reader learns nothing
about the subject from it, by one of these rules, written here independently of the labelling
code (the measured counts on real reviews are in tests/test_themes_keywords.py):

- generic: one word that praises or blames without a subject ("love", "great");
- bare: one word that is a verb participle or an adverb by its ending ("decided", "joined",
  "promptly"; French "annulée", "rapidement"): it says what happened, not to what;
- stop end: the phrase ends on a stop word ("code promo a");
- off-topic: none of its words, nor their lemmas, shares its first four letters with one of
  the theme's displayed top terms, nor its sub-themes' ("picture" for a theme whose terms
  are "love company fur_baby").

The synthetic reviews (no real data) check the labelling code's word tests directly.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import sparse

from reviewops.preprocess.lemmas import load_lemma_table
from reviewops.records import Topic, TopicResult
from reviewops.spec import Topics
from reviewops.topics import fit_topics
from reviewops.topics.labels import SEPARATOR
from reviewops.topics.phrases import (
    PhraseCounts,
    bare_flags,
    count_phrases,
    dangling_flags,
    parts_of_speech,
    stem_words,
    stop_words,
)
from reviewops.topics.themes import generic_words

PRAISE_LABELS = ("general praise", "satisfaction générale")
# Endings of participles and adverbs: the "bare" rule (checked on one-word parts only).
# (French -ment ends adverbs and nouns alike: "rapidement", "remboursement"; English -ily
# ends nouns: "family".)
BARE_ENDINGS = {"en": ("ed", "ly"), "fr": ("é", "ée", "és", "ées")}
NOT_BARE_ENDINGS = ("ily",)
PREFIX = 4


def _words(part: str) -> list[str]:
    return [w for w in part.replace("-", " ").replace("'", " ").split() if w]


def _term_words(topics: list[Topic]) -> set[str]:
    return {word for topic in topics for term, _ in topic.terms for word in term.replace("-", "_").split("_")}


def _on_topic(words: list[str], terms: set[str], language: str) -> bool:
    table = load_lemma_table(language)
    forms = {w for w in words if len(w) >= 3} | {table(w, w) for w in words if table and len(w) >= 3}
    return any(w[:PREFIX] == t[:PREFIX] for w in forms for t in terms if len(t) >= 3)


def junk_reason(part: str, topics: list[Topic], language: str) -> str | None:
    """Why a label part is junk (see the module docstring), None when it is not; `topics` are
    the labelled topic and, for a theme, its sub-themes (their terms are the theme's too)."""
    words = _words(part.lower())
    if not words:
        return "empty"
    if words[-1] in stop_words(language):
        return "stop end"
    if len(words) == 1:
        if words[0] in generic_words(language):
            return "generic"
        if words[0].endswith(BARE_ENDINGS.get(language, ())) and not words[0].endswith(NOT_BARE_ENDINGS):
            return "bare"
    if not _on_topic(words, _term_words(topics), language):
        return "off-topic"
    return None


def junk_parts(result: TopicResult, language: str) -> list[tuple[str, str, str]]:
    """(label, part, reason) for every junk part of the result's labels."""
    found = []
    for topic in result.topics:
        label = topic.label.split(" [")[0]
        if label in PRAISE_LABELS:
            continue
        family = [topic] + (result.subthemes(topic.id) if topic.parent is None else [])
        for part in label.split(SEPARATOR):
            reason = junk_reason(part, family, language)
            if reason:
                found.append((label, part, reason))
    return found


def _topic(label: str, terms: str) -> Topic:
    return Topic(id=0, label=label, terms=[(t, 1.0) for t in terms.split()])


@pytest.mark.parametrize(
    ("label", "terms", "junk"),
    [
        ("new puppy / decided", "puppy plan decide wellness", ["decided"]),
        ("cat / promptly", "cat insure issue pay promptly", ["promptly"]),
        ("love / picture", "love company fur_baby know pet", ["love", "picture"]),
        ("code promo / a", "code promo rendre", ["a"]),
        ("pre-existing condition / claim denied", "vet deny pre-exist_condition", []),
        ("premium increase at renewal", "premium increase renewal", []),
        ("email / cancellation", "email cancel refund receive", []),
    ],
)
def test_junk_criterion_flags_what_a_manager_cannot_act_on(label: str, terms: str, junk: list[str]) -> None:
    result = TopicResult("nmf", [_topic(label, terms)], [0], 0.0, "c_v", 1.0)
    assert [part for _, part, _ in junk_parts(result, "en")] == junk


def _counts(phrases: list[str], heads: list[str]) -> PhraseCounts:
    return PhraseCounts(
        matrix=sparse.csr_matrix((1, len(phrases))),
        rows=np.zeros(1, dtype=np.int64),
        phrases=phrases,
        content=[frozenset([h]) for h in heads],
        heads=heads,
    )


@pytest.mark.skipif(not parts_of_speech("en"), reason="spacy-lookups-data has no English lemma index")
def test_bare_verb_forms_and_adverbs_are_told_from_nouns() -> None:
    phrases = ["decided", "promptly", "joined", "claims", "waiting", "reimbursement", "claim denied"]
    heads = ["decide", "promptly", "join", "claim", "wait", "reimbursement", "deny"]
    flags = bare_flags(_counts(phrases, heads), "en").tolist()
    assert flags == [True, True, True, False, False, False, False]
    assert bare_flags(_counts(["annulée", "colis"], ["annuler", "colis"]), "fr").tolist() == [True, False]


def test_derived_words_count_as_the_word_they_extend() -> None:
    stems = stem_words({"cancel", "cancellation", "reimburse", "reimbursement", "pay", "payment", "care"})
    assert stems["cancellation"] == "cancel" and stems["reimbursement"] == "reimburse"
    assert "payment" not in stems  # "pay" is too short to be a stem
    assert "cancel" not in stems


# Synthetic sub-subjects: each one's reviews write a short subject phrase and a frequent verb
# ("decided", "joined") that is no subject; the labels must name the subject.
SUBJECTS = {
    "cancellation": ["cancellation fee", "cancel my policy", "cancellation refund"],
    "waiting": ["waiting period", "long waiting period", "waiting period rules"],
    "premium": ["premium increase", "premium increase again", "annual premium increase"],
    "records": ["medical records", "records request", "medical records request"],
}
FILLERS = ["we decided", "i joined", "they answered promptly", "we decided quickly"]


def _reviews(per_subject: int = 120, seed: int = 2) -> tuple[list[str], list[list[str]]]:
    rng = random.Random(seed)
    texts = []
    for phrases in SUBJECTS.values():
        for _ in range(per_subject):
            texts.append(f"{rng.choice(FILLERS).capitalize()}. {rng.choice(phrases).capitalize()}.")
    stops = stop_words("en")
    tokens = [[w for w in t.lower().replace(".", " ").split() if w not in stops] for t in texts]
    return texts, tokens


@pytest.fixture(scope="module")
def labelled() -> TopicResult:
    texts, tokens = _reviews()
    return fit_topics(tokens, Topics(num_topics=4), texts=texts, language="en")


def test_theme_labels_name_the_subjects_not_the_verbs_beside_them(labelled: TopicResult) -> None:
    # (the sub-themes split each subject by its filler verbs, and are labelled by their terms)
    themes = TopicResult("nmf", labelled.themes(), labelled.assignments, 0.0, "c_v", 1.0)
    labels = " | ".join(t.label for t in themes.topics)
    for word in ("cancel", "waiting period", "premium increase", "records"):
        assert word in labels, labels
    for verb in ("decided", "joined", "promptly", "answered"):
        assert verb not in labels, labels
    assert junk_parts(themes, "en") == [], labels


def test_a_phrase_most_reviews_go_on_from_reads_cut_off() -> None:
    # "easy to work" is nearly always "easy to work with": as a label it reads unfinished.
    # "waiting period" goes on in many ways.
    texts = [
        f"Easy to work with, {x}. The waiting period {y} long."
        for x, y in zip("abcdef", ["is", "was", "felt", "seemed", "is", "was"], strict=True)
    ]
    texts += ["Easy to work. The waiting period ended", "Easy to work for them"]
    vocabulary = ["easy", "work", "wait", "waiting", "period", "long"]
    counts = count_phrases(texts, np.arange(len(texts), dtype=np.int64), language="en", vocabulary=vocabulary)
    flagged = dict(zip(counts.phrases, dangling_flags(counts, "en").tolist(), strict=True))
    assert flagged["easy to work"] is True  # 6 of 8 go on with "with"
    assert flagged["waiting period"] is False  # "is" 2, "was" 2, ... of 7
    assert flagged.get("easy", False) is False


def test_a_phrase_a_content_word_completes_is_cut_only_if_the_longer_one_cannot_name() -> None:
    # "frais bancaires" is always "frais bancaires élevés": a longer phrase that can be a
    # label itself, so the shorter one is not cut. "phone that works like" (four words, the
    # most a phrase holds) always goes on with "new": cut, and so is "phone that works",
    # whose one-word-longer phrase is cut.
    texts = [f"Des frais bancaires élevés, {x}." for x in "abcdef"]
    vocabulary = ["frais", "bancaire", "élevé", "élever"]  # the lemma table says élever
    counts = count_phrases(texts, np.arange(6, dtype=np.int64), language="fr", vocabulary=vocabulary)
    flagged = dict(zip(counts.phrases, dangling_flags(counts, "fr").tolist(), strict=True))
    assert flagged["frais bancaires"] is False and flagged["frais bancaires élevés"] is False
    texts = [f"A phone that works like new, {x}." for x in "abcdef"]
    vocabulary = ["phone", "work", "like", "new"]
    counts = count_phrases(texts, np.arange(6, dtype=np.int64), language="en", vocabulary=vocabulary)
    flagged = dict(zip(counts.phrases, dangling_flags(counts, "en").tolist(), strict=True))
    assert flagged["phone that works like"] is True and flagged["phone that works"] is True
    assert flagged["works like new"] is False
