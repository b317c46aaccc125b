"""The throughput work of issue 12 changes how results are computed, never what they are.

Each fast path is checked against the straightforward computation it replaced: scikit-learn's
vectorizers, a per-token phrase count, a per-chunk token loop, one process instead of forked
workers, and SQLAlchemy's own insert. Plus the large-corpus generator's promises.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewops.preprocess import documents as documents_module
from reviewops.preprocess.documents import token_lists
from reviewops.preprocess.numbering import Gathered, WorkerWords
from reviewops.preprocess.phrases import learn_phrases
from reviewops.preprocess.tokens import _CHUNK, BREAK, Analyzer, analyzer, decode
from reviewops.records import Review
from tests.support.sentiment import starred_reviews


def _random_docs(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(400)] + ["été", "Zeta", "a_b", BREAK]
    return [
        [rng.choice(vocabulary[: 1 + int(rng.random() * len(vocabulary))]) for _ in range(rng.randint(0, 30))]
        for _ in range(n)
    ]


def test_topic_corpus_is_count_vectorizers_matrix() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    from reviewops.topics.corpus import build_corpus, document_frequency_limits

    tokens = _random_docs(3000, seed=1)
    rows = [i for i, doc in enumerate(tokens) if len(doc) >= 2]
    corpus = build_corpus(tokens, rows)
    assert corpus is not None
    docs = [tokens[i] for i in rows]
    low, high = document_frequency_limits(len(docs))
    vectorizer = CountVectorizer(analyzer=list, min_df=low, max_df=high, dtype=np.float64)
    matrix = vectorizer.fit_transform(docs).tocsr()
    kept = np.flatnonzero(np.diff(matrix.indptr) > 0)
    assert corpus.vocabulary == list(vectorizer.get_feature_names_out())
    assert (corpus.counts != matrix[kept]).nnz == 0
    assert corpus.counts.has_sorted_indices
    assert corpus.rows.tolist() == np.asarray(rows)[kept].tolist()
    # Too few documents for the limits: every term is kept, as before.
    small = build_corpus([["a", "b"], ["c"]], [0, 1])
    assert small is not None and small.vocabulary == ["a", "b", "c"]


def _phrases_reference(
    corpus: Sequence[Sequence[str]], needed: int, threshold: float = 0.5
) -> set[tuple[str, str]]:
    unigrams: Counter[str] = Counter()
    bigrams: Counter[tuple[str, str]] = Counter()
    for document in corpus:
        unigrams.update(document)
        bigrams.update(itertools.pairwise(document))
    unigrams.pop(BREAK, None)
    log_total = math.log(sum(unigrams.values()))
    kept = set()
    for (first, second), count in bigrams.items():
        if count < needed or BREAK in (first, second):
            continue
        log_joint = math.log(count) - log_total
        pmi = log_joint - (math.log(unigrams[first]) - log_total) - (math.log(unigrams[second]) - log_total)
        if pmi / -log_joint >= threshold:
            kept.add((first, second))
    return kept


def test_phrases_counted_with_numpy_are_the_per_document_counts() -> None:
    rng = random.Random(3)
    words = ["customer", "service", "great", "price", "fast", "delivery", "battery", "life", BREAK]
    corpus = [[rng.choice(words) for _ in range(rng.randint(0, 12))] for _ in range(2000)]
    corpus += [["customer", "service"]] * 50 + [[], [BREAK], ["solo"]]
    # Rare words next to frequent ones: pairs that only the per-word count filter skips.
    corpus += [["rare", f"word{i % 7}", "customer"] for i in range(30)]
    vocabulary = list(dict.fromkeys(token for document in corpus for token in document))
    for needed in (3, 5, 40):
        expected = _phrases_reference(corpus, needed)
        assert learn_phrases(corpus, min_count=needed).pairs == expected
        assert learn_phrases(corpus, min_count=needed, vocabulary=vocabulary).pairs == expected
    assert ("rare", "word0") in _phrases_reference(corpus, 3)
    assert learn_phrases([]).pairs == frozenset()


def _token_lists_reference(encoded: list[str], bigrams: bool, min_count: int | None) -> list[list[str]]:
    """Decode each string, learn the phrases, join them document by document: the old path."""
    documents = [decode(text) for text in encoded]
    if not bigrams:
        return [[token for token in document if token != BREAK] for document in documents]
    model = learn_phrases(documents, min_count=min_count)
    return [model.join(document) for document in documents]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(["a", "b", "c", "dé", BREAK]), max_size=9), max_size=40),
    st.booleans(),
    st.integers(1, 4),
)
def test_token_lists_on_ids_are_the_per_document_join(
    documents: list[list[str]], bigrams: bool, min_count: int
) -> None:
    # Few words, so phrases chain ("a b c" with a_b and b_c: joined left to right).
    encoded = [" ".join(document) for document in documents]
    expected = _token_lists_reference(encoded, bigrams, min_count)
    assert token_lists(list(encoded), bigrams=bigrams, min_count=min_count) == expected


_PIECES = [
    "the",
    "battery",
    "died",
    "!!",
    "don't",
    "don’t",
    "l'appli",
    "3",
    "2nd",
    "e-mail",
    ",",
    "...",
    "Great",
    "service.",
    "x",
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(_PIECES), max_size=8).map(" ".join), max_size=30),
    st.sampled_from([" ", "\n", "  \t"]),
    st.integers(1, 3),
    st.randoms(use_true_random=False),
)
def test_workers_word_ids_gathered_are_the_encoded_tokens(
    texts: list[str], space: str, workers: int, rng: random.Random
) -> None:
    """Texts cut into parts in any order, each numbered by one of several workers (which keep
    their numbering from part to part), come back as what `decode(encode(text))` gives: the
    same tokens, runs of BREAKs made one, none first or last."""
    texts = [text.replace(" ", space) for text in texts]
    english = analyzer("en", True, frozenset())
    order = list(range(len(texts)))
    rng.shuffle(order)  # jobs are per language: a part's documents need not be consecutive
    cuts = sorted(rng.sample(range(1, len(order)), min(len(order) - 1, rng.randint(0, 6)))) if order else []
    numbering = [WorkerWords() for _ in range(workers)]
    for words in numbering:  # numbered for an earlier run: forgotten when this run starts
        words.part("earlier run", english, ["stale words"])
    gathered = Gathered(len(texts))
    for part_documents in (order[a:b] for a, b in itertools.pairwise([0, *cuts, len(order)])):
        worker = rng.randrange(workers)
        part = numbering[worker].part("this run", english, [texts[i] for i in part_documents])
        gathered.add(part_documents, part)  # each WorkerWords names itself in its Parts
    numbered = gathered.numbered()
    bounds = [0, *itertools.accumulate(numbered.lengths.tolist())]
    found = [[numbered.words[i] for i in numbered.ids[a:b]] for a, b in itertools.pairwise(bounds)]
    assert found == [decode(encoded) for encoded in english.encode(texts)]


def test_word_ids_a_worker_never_named_are_refused() -> None:
    """A numbering out of step (a worker whose earlier Parts were lost) fails loudly rather
    than reading its ids as other words."""
    english = analyzer("en", True, frozenset())
    words = WorkerWords()
    words.part("run", english, ["the battery died"])  # this Part never reaches the parent
    gathered = Gathered(1)
    with pytest.raises(RuntimeError, match="never named"):
        gathered.add([0], words.part("run", english, ["battery died again"]))


@pytest.mark.shared_data
def test_workers_word_ids_on_real_reviews(shared_data: Path) -> None:
    with (shared_data / "reviews/fr_banks_trustpilot.csv").open(encoding="utf-8") as file:
        texts = [f"{row['Title']}. {row['Experience']}" for row in csv.DictReader(file)]
    french = analyzer("fr", True, frozenset())
    gathered = Gathered(len(texts))
    words = WorkerWords()
    for start in range(0, len(texts), 300):
        documents = list(range(start, min(start + 300, len(texts))))
        gathered.add(documents, words.part("run", french, [texts[i] for i in documents]))
    numbered = gathered.numbered()
    bounds = [0, *itertools.accumulate(numbered.lengths.tolist())]
    found = [[numbered.words[i] for i in numbered.ids[a:b]] for a, b in itertools.pairwise(bounds)]
    assert found == [decode(encoded) for encoded in french.encode(texts)]
    assert sum(map(len, found)) > 20_000


@pytest.mark.shared_data
def test_token_lists_on_real_reviews_and_across_blocks(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (shared_data / "reviews/en_pet_insurance_trustpilot.csv").open(encoding="utf-8") as file:
        texts = [row["text"] for row, _ in zip(csv.DictReader(file), range(3000), strict=False)]
    english = Analyzer("en", lemmatize=True, extra_stopwords=frozenset())
    encoded = english.encode(texts)
    expected = _token_lists_reference(encoded, True, 3)
    monkeypatch.setattr(documents_module, "BLOCK", 7)  # documents in blocks of 7
    found = token_lists(list(encoded), bigrams=True, min_count=3)
    assert found == expected
    assert any("_" in token for document in found for token in document)  # phrases were joined
    # Every occurrence of a token is one shared string object.
    assert len({id(token) for document in found for token in document}) == len(
        {token for document in found for token in document}
    )


def _encode_reference(analyzer: Analyzer, text: str) -> str:
    """The per-chunk loop that Analyzer.encode replaced."""
    out: list[str] = []
    broken = True
    for chunk in _CHUNK.findall(text.replace("’", "'")):
        for token in analyzer._resolve(chunk):
            if token != BREAK:
                out.append(token)
                broken = False
            elif not broken:
                out.append(BREAK)
                broken = True
    if broken and out:
        out.pop()
    return " ".join(out)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_encoding_by_whitespace_pieces_is_the_per_chunk_loop(language: str) -> None:
    analyzer = Analyzer(language, lemmatize=True, extra_stopwords=frozenset({"remarket"}))
    texts = [
        "",
        "   ",
        "the",
        "Great price!! Fast delivery...",
        "I don't like it... at all, the best price-quality e-mail 2nd 10jours",
        "!!! a great — « super » l'appli n’est pas arrivée, aujourd'hui",
        "ReMarket: commande livrée\tle 3/05 ; très déçu !!!",
        "the the the , , great",
        "x-rays user-friendly pre-existing follow-up pouvez-vous",
    ]
    expected = [_encode_reference(analyzer, text) for text in texts]
    assert analyzer.encode(texts) == expected
    assert analyzer.encode(texts) == expected  # warm caches give the same


def test_fast_vectorizer_fit_learns_what_scikit_learn_learns() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from reviewops.sentiment.features import review_features, review_words
    from reviewops.sentiment.model import _fit_vectorizer

    texts = [r.text for r in starred_reviews({5: 40, 4: 10, 3: 10, 2: 10, 1: 20}, seed=2)]
    texts += ["", "!!!", "not good not good", "Très déçu, pas content"]
    reference = TfidfVectorizer(analyzer=review_features, sublinear_tf=True, min_df=2)
    expected = reference.fit_transform(texts)
    fast = _fit_vectorizer([review_words(t) for t in texts], 2)
    assert fast.vocabulary_ == reference.vocabulary_
    assert np.allclose(fast.idf_, reference.idf_, rtol=0, atol=1e-12)
    assert abs(fast.transform(texts) - expected).max() < 1e-12
    with pytest.raises(ValueError, match="no terms remain"):
        _fit_vectorizer([["alone"]], 2)


def test_forked_fits_and_labelling_give_the_in_process_results(monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewops.sentiment import model as model_module
    from reviewops.sentiment import persist
    from reviewops.sentiment.model import OrdinalStackClassifier
    from reviewops.sentiment.persist import SentimentModel

    reviews = starred_reviews({5: 60, 4: 20, 3: 30, 2: 15, 1: 25}, seed=5)
    texts, stars = [r.text for r in reviews], [r.rating or 0 for r in reviews]
    monkeypatch.setattr(model_module, "PROCESS_MIN_ROWS", 10**9)
    alone = OrdinalStackClassifier(seed=5).fit(texts, stars)
    monkeypatch.setattr(model_module, "PROCESS_MIN_ROWS", 0)
    forked = OrdinalStackClassifier(seed=5)
    labels, scores = forked.fit_polarity(texts, stars)
    assert np.array_equal(alone.coef_, forked.coef_)
    assert np.array_equal(alone.offsets_, forked.offsets_)
    assert (labels, scores) == alone.polarity(texts)

    unseen = [f"{text} and more words {i}" for i, text in enumerate(texts)]
    monkeypatch.setattr(persist, "_PREDICT_CHUNK", 7)
    monkeypatch.setattr(persist, "PARALLEL_MIN", 10**9)
    in_process = SentimentModel(alone).predict(unseen)
    monkeypatch.setattr(persist, "PARALLEL_MIN", 0)
    done: list[int] = []
    assert SentimentModel(alone).predict(unseen, done.append) == in_process
    assert sum(done) == len(unseen)
    # Labels known from training are reused; the others are computed; progress sums up.
    known = SentimentModel(alone, known={unseen[0]: ("neutral", 0.5)})
    done.clear()
    got = known.predict([unseen[0], *unseen], done.append)
    assert got[0][:2] == ["neutral", "neutral"] and got[1][:2] == [0.5, 0.5]
    assert got[0][2:] == in_process[0][1:] and sum(done) == len(unseen) + 1


def test_auto_k_scores_are_the_same_on_forked_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewops.demo import generate
    from reviewops.preprocess import prepare
    from reviewops.spec import Preprocessing
    from reviewops.topics import select
    from reviewops.topics.corpus import build_corpus

    reviews, _ = generate(1500, languages=["en"])
    prepared = prepare(reviews, Preprocessing(), workers=1)
    corpus = build_corpus(prepared.tokens, [i for i, doc in enumerate(prepared.tokens) if len(doc) >= 2])
    assert corpus is not None
    forked = select.choose_k(corpus, [4, 5, 6, 7], 0)
    monkeypatch.setattr(select, "MAX_WORKERS", 1)
    alone = select.choose_k(corpus, [4, 5, 6, 7], 0)

    def without_seconds(scores: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
        return {k: {m: v for m, v in row.items() if m != "seconds"} for k, row in scores.items()}

    assert forked[0] == alone[0]
    assert without_seconds(forked[1]) == without_seconds(alone[1])
    assert list(forked[1]) == [4, 5, 6, 7]


def test_store_bulk_insert_round_trips(tmp_path: Path) -> None:
    from sqlalchemy import insert, select

    from reviewops.store import _insert_many, open_store, reviews

    engine = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    other = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    rows = [
        ("r", "1", "Co", when, 5, "en", "Title", "Text", "file:2"),
        ("r", "2", None, None, None, None, None, "é ü 👍", ""),
    ]
    with engine.begin() as conn:
        _insert_many(conn, reviews, rows)
    keys = [c.name for c in reviews.c]
    with other.begin() as conn:
        conn.execute(insert(reviews), [dict(zip(keys, row, strict=True)) for row in rows])
    with engine.connect() as a, other.connect() as b:
        fast = list(a.execute(select(reviews).order_by(reviews.c.review_id)))
        assert fast == list(b.execute(select(reviews).order_by(reviews.c.review_id)))
        raw = "select published from reviews order by review_id"
        assert list(a.exec_driver_sql(raw)) == list(b.exec_driver_sql(raw))
    assert fast[0].published.replace(tzinfo=None) == when.replace(tzinfo=None)


def test_large_corpus_generator_is_distinct_deterministic_and_review_like(tmp_path: Path) -> None:
    from reviewops.demo import scale

    first = list(scale.iter_distinct(3000, seed=3, languages=("en", "fr")))
    again = list(scale.iter_distinct(3000, seed=3, languages=("en", "fr")))
    assert [(r.id, r.title, r.text) for r in first] == [(r.id, r.title, r.text) for r in again]
    assert len({(r.title, r.text) for r in first}) == 3000
    assert {r.language for r in first} == {"en", "fr"}
    words = [len(f"{r.title or ''} {r.text}".split()) for r in first]
    assert 30 <= float(np.median(words)) <= 50 and 40 <= float(np.mean(words)) <= 70
    path = scale.write_csv(tmp_path / "r.csv", 50, seed=1)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",")[:5] == ["id", "company", "rating", "title", "text"]
    assert all(isinstance(r, Review) for r in first[:1])
