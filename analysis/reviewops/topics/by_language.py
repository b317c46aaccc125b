"""Topics per language: a bilingual corpus shares no words across languages, so one model
over both splits themes by language instead of by subject. Each language with enough reviews
gets its own model; the results are merged into one TopicResult (labels tagged "[fr]")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from reviewops.records import ProgressFn, Topic, TopicResult, no_progress
from reviewops.spec import Topics
from reviewops.topics.fit import fit_topics

MIN_REVIEWS_PER_LANGUAGE = 50


def fit_topics_by_language(
    tokens: Sequence[Sequence[str]],
    languages: Sequence[str],
    options: Topics,
    *,
    progress: ProgressFn = no_progress,
    min_tokens: int = 2,
    min_reviews: int = MIN_REVIEWS_PER_LANGUAGE,
) -> TopicResult:
    """fit_topics per language (those with >= min_reviews reviews), merged.

    With a single such language this is fit_topics on the whole corpus. Reviews of smaller
    languages get topic -1 and a warning in details["warning"].
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, lang in enumerate(languages):
        groups[lang].append(i)
    modelled = sorted(
        (lang for lang, idx in groups.items() if len(idx) >= min_reviews), key=lambda lang: -len(groups[lang])
    )
    if len(modelled) <= 1:
        return fit_topics(tokens, options, progress=progress, min_tokens=min_tokens)

    assignments = [-1] * len(tokens)
    weights = [0.0] * len(tokens)
    topics: list[Topic] = []
    per_language: dict[str, object] = {}
    coherence_sum = diversity_sum = 0.0
    weight_total = 0
    k_scores: dict[int, dict[str, float]] = {}
    algorithm = str(options.algorithm)
    measure = "npmi"
    for lang in modelled:
        idx = groups[lang]
        result = fit_topics([tokens[i] for i in idx], options, progress=progress, min_tokens=min_tokens)
        offset = len(topics)
        topics += [Topic(offset + t.id, f"{t.label} [{lang}]", t.terms) for t in result.topics]
        sub_weights = result.details.get("dominant_weight")
        for j, i in enumerate(idx):
            if result.assignments[j] >= 0:
                assignments[i] = offset + result.assignments[j]
                if isinstance(sub_weights, list):
                    weights[i] = float(sub_weights[j])
        assigned = sum(1 for t in result.assignments if t >= 0)
        coherence_sum += result.coherence * assigned
        diversity_sum += result.diversity * assigned
        weight_total += assigned
        measure = result.coherence_measure
        if not k_scores:
            k_scores = result.k_scores  # the largest language's k selection
        per_language[lang] = {
            "reviews": len(idx),
            "k": len(result.topics),
            "coherence": result.coherence,
            "diversity": result.diversity,
        }
    skipped = {lang: len(idx) for lang, idx in groups.items() if lang not in modelled}
    for lang in skipped:
        progress(len(groups[lang]))
    details: dict[str, object] = {"by_language": per_language, "dominant_weight": weights}
    if skipped:
        listed = ", ".join(f"{n} in {lang!r}" for lang, n in sorted(skipped.items()))
        details["warning"] = f"no topics for {listed}: fewer than {min_reviews} reviews in that language"
    return TopicResult(
        algorithm=algorithm,
        topics=topics,
        assignments=assignments,
        coherence=round(coherence_sum / weight_total, 4) if weight_total else 0.0,
        coherence_measure=measure,
        diversity=round(diversity_sum / weight_total, 4) if weight_total else 0.0,
        k_scores=k_scores,
        details=details,
    )
