"""The supervised sentiment model: word TF-IDF -> ordinal stack -> 3 labels with a score.

Why this shape (measured in bench/bench_sentiment_quality.py on 11.7k English reviews):
- Neutral (3 stars) is ~3 % of the reviews and sits *between* the other two, so the model
  learns from the five star levels, not only from the three labels: four "at least k stars"
  linear SVMs (an ordinal decomposition), a ridge regression of the stars, and a complement
  naive Bayes of the three labels (two columns). Their out-of-fold decisions feed a small
  logistic regression (stacking), which turns these seven numbers into class probabilities.
  (A one-vs-rest SVM on the three labels added nothing measurable and cost 40 % more
  training time; 2 folds instead of 3 lost 0.01 macro-F1; dropping the ridge lost 0.01.)
- Class offsets added to the log-probabilities are tuned on out-of-fold predictions to
  maximise macro-F1 (what we are judged on), instead of taking the most probable class,
  which almost never says "neutral".
- Features (`features.review_features`): words with negation scopes marked ("not happy" ->
  "not not_happy"), word pairs, and the first 5 letters of each longer word, lower-cased and
  without accents, sublinear TF-IDF. Format 1 used character 2-5-grams instead of the
  prefixes: 5x slower to extract (3k texts/s) for no better macro-F1; adding hashed
  char_wb 2-5-grams to the words did not help either (cross-company +0.003).
- Every base model is linear in the same features, so after fitting they are collapsed into
  one (features x 7) weight matrix: predicting is one sparse-dense product per chunk.
- The meta-model also reads three lexicon valence columns per review (`valence`: summed
  valence, positive and negative mass), which do not depend on the training company: format
  4. Across companies and trades (bench/bench_sentiment_cross.py) it lifted French held-out
  trades from 0.574 to 0.60 and companies from 0.52 to 0.58 macro-F1, English +0.01.
Macro-F1, mean of seeds 0-2 (format 2 = no naive Bayes, no negation -> format 3, before valence):
80/20 split 0.733 -> 0.739; trained on three pet insurers and scored on the fourth: embrace
0.718 -> 0.719, fetch 0.705 -> 0.729, figo 0.717 -> 0.741, spot 0.677 -> 0.704 (mean 0.704
-> 0.723; seed spread +-0.005, spot +-0.010); French demo -> Showroomprive 0.587 -> 0.612.
Spot's reviews are short (median 39 words for negative ones vs 57-106 elsewhere): naive Bayes
and negation lift its negative F1 from 0.73 to 0.78. NB-SVM (log-count-ratio scaled
features), binary features, word 3-grams, logistic cutoffs and training on each review's
first sentence as an extra example did not beat this (the table is in the docstring of
bench/bench_sentiment_quality.py). A plain TF-IDF + logistic regression reaches 0.62 on
the split (0.66 class-balanced). Fitting 9.4k reviews takes ~2 s on 2 cores (the base
models are fitted in 2 threads; the SVM fits take turns, see _LIBLINEAR, so a seed always
gives the same model); labelling runs at ~20k distinct texts/s (`transform`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, repeat
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler, normalize
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from reviewops.records import LABELS, Label
from reviewops.sentiment.features import review_features, review_words, word_prefix
from reviewops.sentiment.forked import forked_pool, shared_state, worker_count
from reviewops.sentiment.offsets import tune_offsets
from reviewops.sentiment.valence import valence_columns

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Base models are fitted in threads: liblinear and scipy's sparse products release the GIL.
# liblinear's random generator (it shuffles the dual coordinates) is one per process, so two
# SVM fits at once draw from it in an order the scheduler decides: under load that gave a
# different model about one fit in eight. SVM fits therefore take turns; the ridge and naive
# Bayes fits still run beside them.
_LIBLINEAR = threading.Lock()
_FIT_THREADS = max(1, min(2, os.cpu_count() or 1))
# From this many training reviews on, the base models are fitted in forked processes (the same
# fits, so the same model; see `forked`): 16 SVM fits then run two at a time. Below it the
# fits take well under a second and starting processes would cost more than it saves.
PROCESS_MIN_ROWS = 5000


def _run_forked_job(job: tuple[int, int | None]) -> tuple[FloatArray, FloatArray]:
    estimator, x, targets, folds = shared_state()
    result: tuple[FloatArray, FloatArray] = estimator._run_job(x, targets, folds, job)
    return result


def _pair_index(vocabulary: dict[str, int]) -> tuple[IntArray, IntArray]:
    """Word pairs of the vocabulary as sorted numbers (first * size + second) and columns."""
    keys: list[int] = []
    columns: list[int] = []
    size = len(vocabulary)
    for feature, column in vocabulary.items():
        first, space, second = feature.partition(" ")
        if space:
            keys.append(vocabulary[first] * size + vocabulary[second])
            columns.append(column)
    order = np.argsort(np.asarray(keys, dtype=np.int64), kind="stable")
    return np.asarray(keys, dtype=np.int64)[order], np.asarray(columns, dtype=np.int64)[order]


def _document_frequency(rows: IntArray, ids: IntArray, size: int) -> IntArray:
    """How many distinct rows each id in [0, size) occurs in (ids < 0 are ignored)."""
    keep = ids >= 0
    rows, ids = rows[keep], ids[keep]
    if not len(ids):
        return np.zeros(size, dtype=np.int64)
    order = np.lexsort((rows, ids))
    rows, ids = rows[order], ids[order]
    first = np.ones(len(ids), dtype=bool)
    first[1:] = (ids[1:] != ids[:-1]) | (rows[1:] != rows[:-1])
    return np.bincount(ids[first], minlength=size).astype(np.int64)


def _fit_vectorizer(words: list[list[str]], min_df: int) -> TfidfVectorizer:
    """A fitted TfidfVectorizer(analyzer=review_features, sublinear_tf=True, min_df=min_df).

    What its `fit` learns (vocabulary_ in sorted feature order, idf_), ~3x faster: the
    document frequencies of words, word pairs and prefixes are counted on integer ids with
    numpy, and only the features that pass `min_df` are ever made into strings. The fitted
    object is scikit-learn's own, so saved models and `vectorizer_.transform` are unchanged.
    """
    n_docs = len(words)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=n_docs)
    flat = list(chain.from_iterable(words))
    distinct = list(dict.fromkeys(flat))
    word_id = {word: i for i, word in enumerate(distinct)}
    ids = np.fromiter(map(word_id.__getitem__, flat), dtype=np.int64, count=len(flat))
    rows = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    n_words = len(distinct)
    word_df = _document_frequency(rows, ids, n_words)
    # Prefixes: one per distinct long word, numbered apart from the words.
    prefix_of = [word_prefix(word) for word in distinct]
    prefix_names = list(dict.fromkeys(p for p in prefix_of if p is not None))
    prefix_id = {p: i for i, p in enumerate(prefix_names)}
    word_to_prefix = np.fromiter(
        (-1 if p is None else prefix_id[p] for p in prefix_of), dtype=np.int64, count=n_words
    )
    prefix_df = _document_frequency(rows, word_to_prefix[ids] if len(ids) else ids, len(prefix_names))
    # Pairs of consecutive words of one text, as first * n_words + second.
    same = np.flatnonzero(rows[:-1] == rows[1:]) if len(rows) > 1 else np.zeros(0, dtype=np.int64)
    pair_keys = ids[same] * n_words + ids[same + 1]
    pair_rows = rows[same]
    unique_pairs, pair_codes = np.unique(pair_keys, return_inverse=True)
    pair_df = _document_frequency(pair_rows, pair_codes.astype(np.int64), len(unique_pairs))

    features: list[str] = [distinct[i] for i in np.flatnonzero(word_df >= min_df)]
    kept_pairs = unique_pairs[pair_df >= min_df]
    features += [f"{distinct[k // n_words]} {distinct[k % n_words]}" for k in kept_pairs.tolist()]
    features += [prefix_names[i] for i in np.flatnonzero(prefix_df >= min_df)]
    frequencies = np.concatenate(
        [word_df[word_df >= min_df], pair_df[pair_df >= min_df], prefix_df[prefix_df >= min_df]]
    )
    if not features:
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    order = sorted(range(len(features)), key=features.__getitem__)
    vectorizer = TfidfVectorizer(analyzer=review_features, sublinear_tf=True, min_df=min_df)
    vectorizer.vocabulary_ = {features[j]: column for column, j in enumerate(order)}
    vectorizer.fixed_vocabulary_ = False
    # scikit-learn's smooth IDF: log((1 + n) / (1 + df)) + 1.
    df = frequencies[np.asarray(order, dtype=np.int64)].astype(np.float64)
    vectorizer.idf_ = np.log((n_docs + 1.0) / (df + 1.0)) + 1.0
    return vectorizer


def star_classes(stars: Sequence[int] | IntArray) -> IntArray:
    """Stars -> class index into LABELS (0 negative, 1 neutral, 2 positive)."""
    values = np.asarray(stars, dtype=np.int64)
    if values.size and (values.min() < 1 or values.max() > 5):
        raise ValueError(f"stars must be 1 to 5, got values from {values.min()} to {values.max()}")
    return np.where(values <= 2, 0, np.where(values == 3, 1, 2)).astype(np.int64)


class OrdinalStackClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Texts + star ratings -> negative / neutral / positive (see the module docstring).

    Follows scikit-learn's estimator contract: parameters in `__init__`, learned state with a
    trailing underscore. `fit(texts, stars)` takes 1-5 stars; `predict` returns labels.
    Learned state: `vectorizer_` (vocabulary and IDF), `pair_keys_` / `pair_columns_` (its
    word pairs as numbers, for `transform`), `coef_` (features x base-model columns),
    `intercept_`, `meta_` (scaler + logistic regression on the base decisions), `offsets_`, `cutoffs_`.
    """

    def __init__(
        self,
        svm_c: float = 0.1,
        ridge_alpha: float = 1.0,
        folds: int = 3,
        min_df: int = 2,
        nb_alpha: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.svm_c = svm_c
        self.ridge_alpha = ridge_alpha
        self.folds = folds
        self.min_df = min_df
        self.nb_alpha = nb_alpha
        self.seed = seed

    def fit(self, texts: Sequence[str], stars: Sequence[int]) -> Self:
        """Learn from texts and their 1-5 star ratings (all three classes must occur)."""
        self._fit(texts, stars)
        return self

    def fit_polarity(self, texts: Sequence[str], stars: Sequence[int]) -> tuple[list[Label], list[float]]:
        """`fit`, then `polarity(texts)` from the matrix the fit already built (same result)."""
        return self._polarity_of(self._fit(texts, stars))

    def _fit(self, texts: Sequence[str], stars: Sequence[int]) -> tuple[Any, FloatArray]:
        """`fit`; returns what `_features(texts)` gives (TF-IDF matrix, valence columns)."""
        y_stars = np.asarray(stars, dtype=np.int64)
        y = star_classes(y_stars)
        if len(texts) != len(y):
            raise ValueError(f"{len(texts)} texts but {len(y)} star ratings")
        counts = np.bincount(y, minlength=3)
        if (counts < self.folds).any():
            raise ValueError(
                f"need at least {self.folds} reviews of each class to train, got "
                + ", ".join(f"{n} {label}" for label, n in zip(LABELS, counts, strict=True))
            )
        self.classes_ = np.array(LABELS)
        # At least k stars, for each k where both sides have enough reviews to learn from.
        self.cutoffs_ = [
            k for k in (2, 3, 4, 5) if min((y_stars >= k).sum(), (y_stars < k).sum()) >= self.folds
        ]
        words = [review_words(text) for text in texts]
        self.vectorizer_ = _fit_vectorizer(words, self.min_df)
        self.pair_keys_, self.pair_columns_ = _pair_index(self.vectorizer_.vocabulary_)
        x = self._transform_words(words)
        stacked, self.coef_, self.intercept_ = self._fit_base_models(x, y, y_stars)
        valences = valence_columns(words)
        stacked = np.hstack([stacked, valences])
        self.meta_: Pipeline = make_pipeline(
            StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)
        )
        meta_folds = StratifiedKFold(min(5, int(counts.min())), shuffle=True, random_state=self.seed)
        out_of_fold = cross_val_predict(self.meta_, stacked, y, cv=meta_folds, method="predict_proba")
        self.meta_.fit(stacked, y)
        self.offsets_ = tune_offsets(np.log(out_of_fold + 1e-9), y)
        return x, valences

    def _features(self, texts: Sequence[str]) -> tuple[Any, FloatArray]:
        """The TF-IDF matrix and the valence columns of `texts`, from one split into words."""
        words = [review_words(text) for text in texts]
        return self._transform_words(words), valence_columns(words)

    def transform(self, texts: Sequence[str]) -> Any:
        """The TF-IDF matrix of `texts`: what `vectorizer_.transform` gives, ~2.5x faster.

        scikit-learn builds every feature string of every text (word pairs, prefixes) and
        looks each up. Here only words are looked up, and each distinct long word's prefix
        once; a word pair can only be known if both its words are (a pair's document
        frequency is at most each word's, and `min_df` cuts on it), so pairs are looked up as
        numbers (`pair_keys_`) with numpy. Same counts, sublinear TF, IDF and L2 norm (tested).
        """
        return self._transform_words([review_words(text) for text in texts])

    def _transform_words(self, words: list[list[str]]) -> Any:
        """`transform` of texts already split by `review_words`."""
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        flat = list(chain.from_iterable(words))
        vocabulary: dict[str, int] = self.vectorizer_.vocabulary_
        # map(dict.get, ...) runs in C: one look-up per word, no Python frame per word.
        singles = np.fromiter(map(vocabulary.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        prefix_of = {word: vocabulary.get(prefix, -1) for word in set(flat) if (prefix := word_prefix(word))}
        prefixes = np.fromiter(map(prefix_of.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        rows = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
        pair_rows, pair_columns = self._pair_features(rows, singles, len(vocabulary))
        all_rows = np.concatenate([rows, rows, pair_rows])
        all_columns = np.concatenate([singles, prefixes, pair_columns])
        known = all_columns >= 0
        idf: FloatArray = self.vectorizer_.idf_
        x = sparse.csr_matrix(
            (np.ones(int(known.sum())), (all_rows[known], all_columns[known])),
            shape=(len(words), len(idf)),
        )
        x.sum_duplicates()  # counts per (text, feature), indices sorted
        if not words:
            return x
        np.log(x.data, out=x.data)
        x.data += 1.0
        x.data *= idf[x.indices]
        return normalize(x, norm="l2", copy=False)

    def _pair_features(self, rows: IntArray, singles: IntArray, size: int) -> tuple[IntArray, IntArray]:
        """(row, column) of the known word pairs, from consecutive words' columns."""
        keys_known: IntArray = self.pair_keys_
        if not len(keys_known) or len(singles) < 2:
            return rows[:0], rows[:0]
        first, second = singles[:-1], singles[1:]
        at = np.flatnonzero((rows[:-1] == rows[1:]) & (first >= 0) & (second >= 0))
        keys = first[at] * size + second[at]
        found = np.minimum(np.searchsorted(keys_known, keys), len(keys_known) - 1)
        hit = keys_known[found] == keys
        return rows[at[hit]], self.pair_columns_[found[hit]]

    def decisions(self, texts: Sequence[str]) -> FloatArray:
        """The base models' outputs (one column each): what the stacked model reads."""
        return self._decisions_of(self.transform(texts))

    def _decisions_of(self, x: Any) -> FloatArray:
        return np.asarray(x @ self.coef_, dtype=np.float64) + self.intercept_

    def predict_proba(self, texts: Sequence[str]) -> FloatArray:
        """Class probabilities (columns in LABELS order), after the macro-F1 offsets."""
        if not len(texts):
            return np.zeros((0, len(LABELS)))
        return self._proba_of(*self._features(texts))

    def _proba_of(self, x: Any, valences: FloatArray) -> FloatArray:
        if not x.shape[0]:
            return np.zeros((0, len(LABELS)))
        stacked = np.hstack([self._decisions_of(x), valences])
        logits = np.log(self.meta_.predict_proba(stacked) + 1e-9) + self.offsets_
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return np.asarray(weights / weights.sum(axis=1, keepdims=True), dtype=np.float64)

    def predict(self, texts: Sequence[str]) -> list[Label]:
        """The most likely label of each text."""
        return [LABELS[i] for i in self.predict_proba(texts).argmax(axis=1)]

    def polarity(self, texts: Sequence[str]) -> tuple[list[Label], list[float]]:
        """Labels and scores in [-1, 1]: P(positive) - P(negative)."""
        return self._polarity_of(self._features(texts))

    def _polarity_of(self, features: tuple[Any, FloatArray]) -> tuple[list[Label], list[float]]:
        proba = self._proba_of(*features)
        labels = [LABELS[i] for i in proba.argmax(axis=1)]
        return labels, (proba[:, 2] - proba[:, 0]).tolist()

    def _fit_base_models(
        self, x: Any, y: IntArray, y_stars: IntArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Out-of-fold decisions of every base model, then its weights fitted on everything.

        Returns (out-of-fold decisions (n x columns), weights (features x columns), intercepts).
        The fits are independent: they run in `_FIT_THREADS` threads, in a fixed order of
        results, so the outcome does not depend on the number of threads.
        """
        targets: list[Any] = [
            *((y_stars >= k).astype(np.int64) for k in self.cutoffs_),
            y_stars.astype(np.float64),
            y,
        ]
        folds = list(StratifiedKFold(self.folds, shuffle=True, random_state=self.seed).split(x, y))
        jobs = [(m, f) for m in range(len(targets)) for f in [*range(len(folds)), None]]

        def run(job: tuple[int, int | None]) -> tuple[FloatArray, FloatArray]:
            return self._run_job(x, targets, folds, job)

        processes = worker_count(_FIT_THREADS) if x.shape[0] >= PROCESS_MIN_ROWS else 1
        # One BLAS thread per fit, whichever way the fits run (forked workers inherit the
        # limit), so that the model does not depend on the path taken: the ridge fits call
        # BLAS, and two of them with two BLAS threads each on two cores ran 2.6x slower than
        # one alone (OpenBLAS threads wait spinning); with one thread each, 1.0x.
        with threadpool_limits(limits=1, user_api="blas"):
            if processes > 1:
                # SVM fits in threads take turns (_LIBLINEAR); in processes, side by side.
                with forked_pool((self, x, targets, folds), processes) as workers:
                    results = list(workers.imap(_run_forked_job, jobs, chunksize=1))
            elif _FIT_THREADS > 1:
                with ThreadPoolExecutor(_FIT_THREADS) as pool:
                    results = list(pool.map(run, jobs))
            else:
                results = [run(job) for job in jobs]
        width = sum(result.shape[1] for (_, f), (result, _) in zip(jobs, results, strict=True) if f is None)
        stacked = np.zeros((x.shape[0], width))
        weights = np.zeros((x.shape[1], width))
        intercepts = np.zeros(width)
        column = 0
        for (_, f), (result, intercept) in zip(jobs, results, strict=True):
            columns = slice(column, column + result.shape[1])
            if f is None:
                weights[:, columns], intercepts[columns] = result, intercept
                column += result.shape[1]
            else:
                stacked[folds[f][1], columns] = result
        return stacked, weights, intercepts

    def _run_job(
        self, x: Any, targets: list[Any], folds: list[Any], job: tuple[int, int | None]
    ) -> tuple[FloatArray, FloatArray]:
        """Base model m on all of x (f None: its weights) or out of fold f (its decisions)."""
        m, f = job
        if f is None:
            return self._fit_base_model(m, x, targets[m])
        train, test = folds[f]
        weights, intercepts = self._fit_base_model(m, x[train], targets[m][train])
        return np.asarray(x[test] @ weights) + intercepts, intercepts

    def _fit_base_model(self, index: int, x: Any, target: Any) -> tuple[FloatArray, FloatArray]:
        """Fit base model `index` on (x, target): its (features x columns) weights, intercepts.

        Models: one "at least k stars" SVM per cutoff, the ridge of the stars, then a
        complement naive Bayes of the three labels. Naive Bayes scores are linear in the
        features too (log-likelihood = x @ feature_log_prob_.T), given as two contrasts:
        positive - negative, and neutral - the mean of the other two. Alone it added +0.010
        macro-F1 across companies and +0.011 on spot, whose reviews are the shortest (mean
        of 3 seeds). Our reading, not a measurement: it weighs every known word, where the
        margin models mostly rely on the words of the long complaints they trained on.
        """
        if index < len(self.cutoffs_):
            # tol 1e-3 (default 1e-4): same predictions on our benchmarks, fewer iterations.
            svm = LinearSVC(
                C=self.svm_c, class_weight="balanced", max_iter=5000, tol=1e-3, random_state=self.seed
            )
            with _LIBLINEAR:
                svm.fit(x, target)
            return np.ravel(svm.coef_)[:, None], np.ravel(svm.intercept_)[:1]
        if index == len(self.cutoffs_):
            ridge = Ridge(alpha=self.ridge_alpha).fit(x, target)
            return np.ravel(ridge.coef_)[:, None], np.array([float(ridge.intercept_)])
        log_prob = ComplementNB(alpha=self.nb_alpha).fit(x, target).feature_log_prob_
        contrasts = np.stack(
            [log_prob[2] - log_prob[0], log_prob[1] - (log_prob[0] + log_prob[2]) / 2], axis=1
        )
        return np.asarray(contrasts, dtype=np.float64), np.zeros(2)
