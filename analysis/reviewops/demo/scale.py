"""Large corpora of distinct demo reviews, with review-like length and vocabulary, for benchmarks.

`generate()` writes short reviews (31 words on average, 1-5 sentences) from a small phrase bank:
at 100k reviews 10 % of the texts repeat and the vocabulary stops at ~3.4k words. A throughput
figure measured on that would measure the caches (each distinct text and word is processed
once), not the pipeline. Real English Trustpilot reviews (the 17.8k of ../shared/data) have a
median of 33 words, a mean of 51, a 90th percentile of 106, and a vocabulary that keeps growing
as Heaps' law says (V ~ 139 n^0.485 distinct words for n reviews: 4.0k at 1k reviews, 15.7k at
17k, so ~37k at 100k and ~110k at 1M).

`iter_distinct(size, seed, languages)` keeps each demo review (its planted theme, stars, dates,
author...) and lengthens it to a length drawn from a log-normal, with sentences of words drawn at
their real frequency: English from spaCy's word probabilities (spacy-lookups-data
`en_lexeme_prob`, 1M forms estimated on Reddit comments: a Zipf law with typos, names and slang,
as in reviews), French from the word forms of spaCy's French lemma table ranked by a fixed Zipf
law, its stop words first (no French frequency table ships). The constants below were tuned on
17k English reviews to: median 40 words, mean 55, 90th percentile 99 (the demo's own sentences
set a floor of ~10 words, so the median is above the real one), and a vocabulary of 3.3k / 8.1k /
15.6k words at 1k / 5k / 17k reviews (real: 4.0k / 8.9k / 15.7k; it grows a little faster).
Those sentences are noise as far as themes and sentiment go: they only make the corpus as long
and as varied as a real one. Every (title, text) is distinct: a repeat gets one more word.
Deterministic for a seed; reviews come in blocks of `BLOCK`, so memory stays flat at any size.

    python -m reviewops.demo.scale 1000000 reviews-1m.csv [--seed 42] [--languages en,fr]
"""

from __future__ import annotations

import argparse
import csv
import functools
import gzip
import json
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reviewops.records import Review

BLOCK = 20_000
# Words per review (title and text): log-normal with the real English median (33) and a
# spread that gives its mean (~50) and 90th percentile (~100).
MEDIAN_WORDS: dict[str, float] = {"en": 24.0, "fr": 24.0}
SIGMA = 1.1
MAX_WORDS = 600
# Words of the frequency list kept (the rest are one-off hapaxes of the source corpus).
VOCABULARY = 250_000
# Every review gets at least this many drawn words: a few rare words even in short reviews,
# as typos and names give real ones.
MIN_EXTRA = 2
SENTENCE_WORDS = (5, 16)
# Frequencies are raised to this power: the source corpus (Reddit) has a longer tail of rare
# words than reviews of one trade; 1.0 gave 22k words at 17k reviews where real ones have 16k.
ZIPF_TILT = 1.15
FIELDS = ("id", "company", "rating", "title", "text", "published", "language", "author", "country")


@functools.cache
def word_distribution(language: str) -> tuple[tuple[str, ...], Any]:
    """(words, cumulative probabilities) the extra sentences draw from."""
    import spacy_lookups_data  # type: ignore[import-untyped]

    folder = Path(spacy_lookups_data.__file__).parent / "data"
    if language == "en":
        with gzip.open(folder / "en_lexeme_prob.json.gz", "rt", encoding="utf-8") as fh:
            probs: dict[str, float] = json.load(fh)
        pairs = sorted(
            ((w.lower(), p) for w, p in probs.items() if w.isalpha() and w.isascii()),
            key=lambda item: -item[1],
        )
        seen: dict[str, float] = {}
        for word, logp in pairs:
            if word not in seen:
                seen[word] = math.exp(logp)
            else:
                seen[word] += math.exp(logp)
            if len(seen) >= VOCABULARY:
                break
        words = tuple(seen)
        weights = np.fromiter(seen.values(), dtype=np.float64, count=len(seen)) ** ZIPF_TILT
    elif language == "fr":
        with gzip.open(folder / "fr_lemma_lookup.json.gz", "rt", encoding="utf-8") as fh:
            forms = sorted({w.lower() for w in json.load(fh) if w.isalpha()})
        from spacy.lang.fr.stop_words import STOP_WORDS

        stops = sorted(w for w in STOP_WORDS if w.isalpha())
        order = np.random.default_rng(0).permutation(len(forms))
        ranked = list(dict.fromkeys([*stops, *(forms[i] for i in order)]))[:VOCABULARY]
        words = tuple(ranked)
        weights = 1.0 / (np.arange(len(words), dtype=np.float64) + 2.7) ** ZIPF_TILT  # Zipf-Mandelbrot
    else:
        raise ValueError(f"no word list for {language!r}; the demo writes 'en' and 'fr'")
    cumulative = np.cumsum(weights)
    cumulative /= cumulative[-1]
    return words, cumulative


def _extra_sentences(words: Sequence[str], rng: np.random.Generator, ids: Any) -> list[str]:
    out: list[str] = []
    start = 0
    low, high = SENTENCE_WORDS
    while start < len(ids):
        stop = min(len(ids), start + int(rng.integers(low, high)))
        sentence = " ".join(words[int(i)] for i in ids[start:stop])
        out.append(sentence[:1].upper() + sentence[1:] + ".")
        start = stop
    return out


def iter_distinct(size: int, seed: int = 42, languages: Sequence[str] = ("en",)) -> Iterator[Review]:
    """`size` reviews with distinct (title, text), review-like length and vocabulary."""
    from reviewops.demo.generator import generate

    if size < 0:
        raise ValueError(f"size must be 0 or more, got {size}")
    seen: set[int] = set()
    produced = 0
    block = 0
    while produced < size:
        count = min(BLOCK, size - produced)
        reviews, _ = generate(count, seed=seed * 1_000_003 + block, languages=languages)
        rng = np.random.default_rng([seed, block])
        targets = np.minimum(
            np.exp(rng.normal(0.0, SIGMA, count))
            * np.array([MEDIAN_WORDS[r.language or "en"] for r in reviews]),
            MAX_WORDS,
        )
        uniforms = rng.random(count)
        for review, target, u in zip(reviews, targets.tolist(), uniforms.tolist(), strict=True):
            words, cumulative = word_distribution(review.language or "en")
            have = len(review.text.split()) + len((review.title or "").split())
            extra = max(MIN_EXTRA, round(target) - have)
            ids = np.searchsorted(cumulative, rng.random(extra))
            sentences = _extra_sentences(words, rng, ids)
            # Most of the extra story goes after what the demo wrote; some reviews start with it.
            text = " ".join([*sentences, review.text] if u < 0.25 else [review.text, *sentences])
            key = hash((review.title, text))
            while key in seen:
                text += " " + words[int(np.searchsorted(cumulative, rng.random()))]
                key = hash((review.title, text))
            seen.add(key)
            review.text = text
            review.id = f"scale-{seed}-{produced:07d}"
            review.origin = f"demo-scale:seed={seed}#{produced}"
            produced += 1
            yield review
        block += 1


def write_csv(path: Path, size: int, seed: int = 42, languages: Sequence[str] = ("en",)) -> Path:
    """Write `iter_distinct(size, seed, languages)` as a CSV that `reviewops analyze` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELDS)
        for r in iter_distinct(size, seed, languages):
            published = r.published.isoformat() if r.published else ""
            writer.writerow(
                [r.id, r.company, r.rating, r.title or "", r.text, published, r.language, r.author, r.country]
            )
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("size", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--languages", default="en")
    args = parser.parse_args(argv)
    write_csv(args.path, args.size, args.seed, [s.strip() for s in args.languages.split(",") if s.strip()])
    print(args.path)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["BLOCK", "iter_distinct", "word_distribution", "write_csv"]
