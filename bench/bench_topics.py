"""Benchmark the topic models: demo data (time, peak memory, planted-theme recovery) and real
reviews (how useful the topics are to a reader).

    .venv/bin/python bench/bench_topics.py                      # 10k and 100k, English
    .venv/bin/python bench/bench_topics.py --sizes 3000 --languages en fr
    .venv/bin/python bench/bench_topics.py --real               # ../shared/data reviews

For each size the demo reviews are generated and preprocessed once (reviewops.preprocess);
then every algorithm is fitted with k = number of planted themes and with k = auto, each in a
forked child process so that its peak memory is its own ("peak MiB": resident memory added
during the fit, libraries already loaded). "select s" is the auto-k search's share of "time s".
Figures depend on machine load: the 2 cores of the reference machines are shared, so repeat a
run before trusting a difference.

--real fits numTopics auto on the real English pet-insurance and French Showroomprive reviews
(skipped when ../shared/data is absent) and prints reviewops.topics.usefulness figures: the
largest theme's share, the share of reviews with a theme, NPMI, diversity, how many labels
(themes and sub-themes) are generic or duplicates, the sub-themes' NPMI, then every theme
with its share and label, and its sub-themes under it. The demo runs label by phrase too
("subs s" and "label s" are the sub-theme fits' and the labels' share of "time s").
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from reviewops.demo import DEMO_COMPANY, THEME_NAMES, generate
from reviewops.preprocess import prepare
from reviewops.spec import Preprocessing, Topics
from reviewops.topics import ALGORITHMS, fit_topics
from reviewops.topics.recovery import recovery
from reviewops.topics.usefulness import GENERIC_WORDS, usefulness

SHARED_REVIEWS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "reviews"
# (file, language, words generic in that data set besides GENERIC_WORDS: domain, company names)
REAL_SETS = (
    (
        "en_pet_insurance_trustpilot.csv",
        "en",
        frozenset({"insurance", "pet", "pet_insurance", "dog", "cat", "embrace", "fetch", "figo", "spot"}),
    ),
    ("fr_showroomprive_trustpilot_raw.json", "fr", frozenset(["showroomprive", "showroom", "privé"])),
)

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _rss_kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found in {_STATUS} (Linux only)")


def _measure(
    tokens: list[list[str]], texts: list[str], planted: list[str], options: Topics, out: Connection
) -> None:
    """Child process: fit, then send back seconds, extra peak MiB and the result's figures."""
    _CLEAR_REFS.write_text("5")  # reset VmHWM: the peak starts from what the fork inherited
    baseline = _rss_kib("VmRSS")
    start = time.perf_counter()
    result = fit_topics(tokens, options, texts=texts, language="en")
    seconds = time.perf_counter() - start
    peak = (_rss_kib("VmHWM") - baseline) / 1024
    score = recovery(result.assignments, planted)
    timings = result.details["seconds"]
    assert isinstance(timings, dict)
    out.send(
        {
            "seconds": seconds,
            "peak_mib": peak,
            "k": result.details["k"],
            "select_k": timings["select_k"],
            "subthemes": timings["subthemes"],
            "labels": timings["labels"],
            "n_sub": len(result.subthemes()),
            "coherence": result.coherence,
            "diversity": result.diversity,
            "f1": score.f1,
            "nmi": score.nmi,
        }
    )
    out.close()


def _run(tokens: list[list[str]], texts: list[str], planted: list[str], options: Topics) -> dict[str, float]:
    context = mp.get_context("fork")  # the child shares the corpus instead of copying it
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_measure, args=(tokens, texts, planted, options, send))
    child.start()
    figures: dict[str, float] = receive.recv()
    child.join()
    return figures


def bench(sizes: Sequence[int], languages: Sequence[str], algorithms: Sequence[str]) -> None:
    """Print one line per (size, algorithm, k) with time, memory and recovery."""
    # Import scikit-learn and gensim here, once: a pipeline pays that (~2 s, ~100 MiB) once
    # per process, not per fit, so the children should not count it.
    import reviewops.topics.gensim_lda
    import reviewops.topics.sklearn_models  # noqa: F401

    k_true = len(THEME_NAMES)
    for size in sizes:
        start = time.perf_counter()
        reviews, planted = generate(size, languages=languages)
        generated = time.perf_counter()
        prepared = prepare(reviews, Preprocessing(), company_name=DEMO_COMPANY, languages=languages)
        print(
            f"\n{size:,} demo reviews ({'+'.join(languages)}): generate {generated - start:.1f} s, "
            f"preprocess {time.perf_counter() - generated:.1f} s"
        )
        print(
            f"{'algorithm':<11} {'k':>6} {'time s':>7} {'select s':>8} {'subs s':>6} {'label s':>7} "
            f"{'subs':>4} {'peak MiB':>8} {'coher.':>6} {'divers.':>7} {'F1':>5} {'NMI':>5}"
        )
        for algorithm in algorithms:
            for requested in (k_true, "auto"):
                options = Topics(algorithm=algorithm, num_topics=requested)
                f = _run(prepared.tokens, prepared.texts, planted, options)
                label = f"{requested}" if requested != "auto" else f"auto={f['k']}"
                print(
                    f"{algorithm:<11} {label:>6} {f['seconds']:>7.1f} {f['select_k']:>8.1f} "
                    f"{f['subthemes']:>6.1f} {f['labels']:>7.1f} {f['n_sub']:>4} {f['peak_mib']:>8.0f} "
                    f"{f['coherence']:>6.3f} {f['diversity']:>7.3f} "
                    f"{f['f1']:>5.3f} {f['nmi']:>5.3f}",
                    flush=True,
                )


def bench_real(algorithms: Sequence[str]) -> None:
    """Print the usefulness figures and the topics of numTopics auto on each real review file."""
    from reviewops.sources.files import read_file
    from reviewops.spec import FileFormat

    for name, language, dataset_generic in REAL_SETS:
        path = SHARED_REVIEWS / name
        if not path.is_file():
            print(f"\n{path}: not found, skipped (only CI and dev machines have ../shared/data)")
            continue
        reviews, _ = read_file(path, FileFormat.AUTO, {})
        # No company name: the topics must cope with the companies' names on their own.
        prepared = prepare(reviews, Preprocessing(), languages=[language])
        generic = GENERIC_WORDS[language] | dataset_generic
        print(f"\n{name}: {len(reviews):,} reviews ({language})")
        for algorithm in algorithms:
            start = time.perf_counter()
            result = fit_topics(
                prepared.tokens,
                Topics(algorithm=algorithm),
                texts=prepared.texts,
                language=language,
                brands=prepared.brands,
            )
            seconds = time.perf_counter() - start
            u = usefulness(result, generic)
            print(
                f"{algorithm}: k={u.topics} time {seconds:.1f} s | largest {u.largest_share:.1%} "
                f"assigned {u.assigned_share:.1%} | NPMI {u.coherence:.3f} diversity "
                f"{u.diversity:.3f} | labels: {u.useful_labels} useful, {u.generic_labels} "
                f"generic, {u.duplicate_labels} duplicate",
                flush=True,
            )
            print(
                f"  sub-themes {len(result.subthemes())}: NPMI {result.details['subtheme_coherence']} | "
                f"praise topics merged {result.details['merged_praise_topics']} | seconds "
                f"{result.details['seconds']}"
            )
            n = len(result.assignments)
            for topic in result.themes():
                share = result.assignments.count(topic.id) / n
                terms = " ".join(term for term, _ in topic.terms[:8])
                print(f"  {share:6.1%}  {topic.label:<42} {terms}")
                for sub in result.subthemes(topic.id):
                    share = result.sub_assignments.count(sub.id) / n
                    terms = " ".join(term for term, _ in sub.terms[:6])
                    print(f"      {share:6.1%}  {sub.label:<38} {terms}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--languages", nargs="+", default=["en"])
    parser.add_argument("--algorithms", nargs="+", default=ALGORITHMS.names())
    parser.add_argument("--real", action="store_true", help="real reviews of ../shared/data instead")
    args = parser.parse_args()
    if args.real:
        bench_real(args.algorithms)
    else:
        bench(args.sizes, args.languages, args.algorithms)


if __name__ == "__main__":
    main()
