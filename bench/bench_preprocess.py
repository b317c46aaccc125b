"""Throughput and peak memory of `reviewops.preprocess.prepare` at 10k and 100k reviews.

The corpus is the shared English pet-insurance set (../shared/data, read with the csv module)
replicated to each size. Replication makes many texts repeat, which prepare() exploits; with
--distinct every copy gets a different text (a "#<n>" suffix: the words stay the same, so the
per-word caches still help, as they would on a real corpus, but no text is seen twice).

Each size runs in a fresh process, so every figure includes importing spaCy and fastText and
loading the lemma table, and peak memory (ru_maxrss of the process and of its worker
children) belongs to that size alone. "CPU s" adds the process' and its workers' CPU time:
on a machine shared with other work it says more than the wall-clock time.

    .venv/bin/python bench/bench_preprocess.py                  # 10k and 100k, default workers
    .venv/bin/python bench/bench_preprocess.py --distinct --workers 2
    .venv/bin/python bench/bench_preprocess.py --distinct --given-language en  # no detection
    .venv/bin/python bench/bench_preprocess.py --sizes 10000 --baseline
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "reviews" / "en_pet_insurance_trustpilot.csv"


def read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV's rows (id, title, text, ...)."""
    if not path.is_file():
        sys.exit(f"{path}: not found; pass --csv with the shared pet-insurance reviews")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def measure(
    path: Path, size: int, distinct: bool, workers: int | None, language: str | None
) -> dict[str, float]:
    """Run prepare() once on `size` reviews in this process; return its figures."""
    sys.path.insert(0, str(ROOT / "analysis"))
    from reviewops.preprocess import prepare
    from reviewops.records import Review
    from reviewops.spec import Preprocessing

    rows = read_rows(path)
    reviews = []
    for number in range(size):
        row = rows[number % len(rows)]
        copy = number // len(rows)
        text = f"{row['text']} #{copy}" if distinct and copy else row["text"]
        review_id = f"{row['id']}-{copy}"
        reviews.append(Review(id=review_id, text=text, title=row["title"] or None, language=language))
    cpu_before = _cpu(resource.getrusage(resource.RUSAGE_SELF))
    start = time.perf_counter()
    prepared = prepare(reviews, Preprocessing(), company_name="Embrace Pet Insurance", workers=workers)
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "size": size,
        "seconds": seconds,
        "per_second": size / seconds,
        "cpu_seconds": _cpu(own) + _cpu(children) - cpu_before,
        "peak_mb": own.ru_maxrss / 1024,
        "child_peak_mb": children.ru_maxrss / 1024,
        "tokens": sum(len(tokens) for tokens in prepared.tokens),
        "distinct_texts": len(set(prepared.texts)),
    }


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def measure_baseline(path: Path, size: int) -> dict[str, float]:
    """The textbook way: spaCy's blank pipeline + lookup lemmatizer over every text."""
    import spacy

    rows = read_rows(path)
    texts = [rows[number % len(rows)]["text"] for number in range(size)]
    cpu_before = _cpu(resource.getrusage(resource.RUSAGE_SELF))
    start = time.perf_counter()
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize()
    tokens = [
        [t.lemma_.lower() for t in doc if t.is_alpha and not t.is_stop]
        for doc in nlp.pipe(texts, batch_size=256)
    ]
    seconds = time.perf_counter() - start
    return {
        "size": size,
        "seconds": seconds,
        "per_second": size / seconds,
        "cpu_seconds": _cpu(resource.getrusage(resource.RUSAGE_SELF)) - cpu_before,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_peak_mb": 0.0,
        "tokens": sum(map(len, tokens)),
        "distinct_texts": len(set(texts)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workers", type=int, default=None, help="default: prepare()'s own")
    parser.add_argument("--distinct", action="store_true", help="no two texts alike")
    parser.add_argument(
        "--given-language", help="set every review's language (as Trustpilot does): no detection"
    )
    parser.add_argument("--baseline", action="store_true", help="also time spaCy nlp.pipe")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: measure this size
    parser.add_argument("--one-baseline", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one is not None:
        print(json.dumps(measure(args.csv, args.one, args.distinct, args.workers, args.given_language)))
        return
    if args.one_baseline is not None:
        print(json.dumps(measure_baseline(args.csv, args.one_baseline)))
        return

    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} at start (shared machine)")
    print(
        f"corpus: {args.csv.name}, distinct texts: {args.distinct}, workers: {args.workers}, "
        f"given language: {args.given_language}"
    )
    print(
        f"{'run':<10}{'reviews':>9}{'seconds':>9}{'reviews/s':>11}{'CPU s':>8}{'peak MB':>9}{'worker MB':>10}"
    )
    runs = [("prepare", "--one", size) for size in args.sizes]
    if args.baseline:
        runs += [("baseline", "--one-baseline", size) for size in args.sizes]
    for name, flag, size in runs:
        command = [sys.executable, __file__, flag, str(size), "--csv", str(args.csv)]
        if args.distinct:
            command.append("--distinct")
        if args.workers is not None:
            command += ["--workers", str(args.workers)]
        if args.given_language:
            command += ["--given-language", args.given_language]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        print(
            f"{name:<10}{result['size']:>9,}{result['seconds']:>9.2f}{result['per_second']:>11,.0f}"
            f"{result['cpu_seconds']:>8.1f}{result['peak_mb']:>9.0f}{result['child_peak_mb']:>10.0f}"
        )


if __name__ == "__main__":
    main()
