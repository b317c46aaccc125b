"""Topics per language: a bilingual corpus shares no words across languages, so one model
over both splits themes by language instead of by subject. Each language with enough reviews
gets its own model; the results are merged into one TopicResult (labels tagged "[fr]")."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Sequence

from reviewops.records import ProgressFn, Topic, TopicResult, no_progress
from reviewops.spec import Topics
from reviewops.topics.fit import fit_topics
from reviewops.topics.foreign import foreign_words

MIN_REVIEWS_PER_LANGUAGE = 50


def fit_topics_by_language(
    tokens: Sequence[Sequence[str]],
    languages: Sequence[str],
    options: Topics,
    *,
    progress: ProgressFn = no_progress,
    min_tokens: int = 2,
    min_reviews: int = MIN_REVIEWS_PER_LANGUAGE,
    texts: Sequence[str] = (),
    brands: Collection[str] = (),
) -> TopicResult:
    """fit_topics per language (those with >= min_reviews reviews), merged.

    With a single such language this is fit_topics on the whole corpus. Reviews of smaller
    languages get topic -1 and a warning in details["warning"]. `texts` (aligned with
    `tokens`, may be empty) and `brands` go to fit_topics for labels by phrase. The merged
    result lists every language's themes first, then every language's sub-themes.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, lang in enumerate(languages):
        groups[lang].append(i)
    modelled = sorted(
        (lang for lang, idx in groups.items() if len(idx) >= min_reviews), key=lambda lang: -len(groups[lang])
    )
    if len(modelled) <= 1:
        main = modelled[0] if modelled else Counter(languages).most_common(1)[0][0] if languages else None
        return fit_topics(
            tokens,
            options,
            progress=progress,
            min_tokens=min_tokens,
            texts=texts,
            language=main,
            brands=brands,
        )
    foreign = (
        foreign_words({lang: [texts[i] for i in groups[lang]] for lang in modelled}, options.seed)
        if texts
        else {}
    )
    results = {
        lang: fit_topics(
            [tokens[i] for i in groups[lang]],
            options,
            progress=progress,
            min_tokens=min_tokens,
            texts=[texts[i] for i in groups[lang]] if texts else (),
            language=lang,
            brands=brands,
            exclude=foreign.get(lang, frozenset()),
        )
        for lang in modelled
    }
    merged = _merge(results, groups, len(tokens), options)
    skipped = {lang: len(idx) for lang, idx in groups.items() if lang not in modelled}
    for lang in skipped:
        progress(len(groups[lang]))
    if skipped:
        listed = ", ".join(f"{n} in {lang!r}" for lang, n in sorted(skipped.items()))
        merged.details["warning"] = (
            f"no topics for {listed}: fewer than {min_reviews} reviews in that language"
        )
    return merged


def _merge(
    results: dict[str, TopicResult], groups: dict[str, list[int]], n_reviews: int, options: Topics
) -> TopicResult:
    """One TopicResult of the languages' results: themes renumbered, labels tagged "[fr]"."""
    n_themes = sum(len(result.themes()) for result in results.values())
    theme_start = sub_start = 0
    new_ids: dict[str, dict[int, int]] = {}
    themes: list[Topic] = []
    subthemes: list[Topic] = []
    for lang, result in results.items():
        ids = new_ids[lang] = {}
        for topic in result.topics:
            if topic.parent is None:
                ids[topic.id] = theme_start + topic.id
            else:
                ids[topic.id] = n_themes + sub_start + topic.id - len(result.themes())
        for topic in result.topics:
            parent = None if topic.parent is None else ids[topic.parent]
            moved = Topic(ids[topic.id], f"{topic.label} [{lang}]", topic.terms, parent)
            (themes if parent is None else subthemes).append(moved)
        theme_start += len(result.themes())
        sub_start += len(result.subthemes())

    assignments = [-1] * n_reviews
    sub_assignments = [-1] * n_reviews
    weights = [0.0] * n_reviews
    per_language: dict[str, object] = {}
    coherence_sum = diversity_sum = 0.0
    weight_total = 0
    measure = "npmi"
    for lang, result in results.items():
        idx, ids = groups[lang], new_ids[lang]
        sub_weights = result.details.get("dominant_weight")
        for j, i in enumerate(idx):
            if result.assignments[j] >= 0:
                assignments[i] = ids[result.assignments[j]]
                if isinstance(sub_weights, list):
                    weights[i] = float(sub_weights[j])
            if result.sub_assignments and result.sub_assignments[j] >= 0:
                sub_assignments[i] = ids[result.sub_assignments[j]]
        assigned = sum(1 for t in result.assignments if t >= 0)
        coherence_sum += result.coherence * assigned
        diversity_sum += result.diversity * assigned
        weight_total += assigned
        measure = result.coherence_measure
        per_language[lang] = {
            "reviews": len(idx),
            "k": len(result.themes()),
            "subthemes": len(result.subthemes()),
            "coherence": result.coherence,
            "diversity": result.diversity,
            "subtheme_coherence": result.details.get("subtheme_coherence"),
        }
    # the largest language's k selection
    first = next(iter(results.values()))
    return TopicResult(
        algorithm=str(options.algorithm),
        topics=themes + subthemes,
        assignments=assignments,
        sub_assignments=sub_assignments if subthemes else [],
        coherence=round(coherence_sum / weight_total, 4) if weight_total else 0.0,
        coherence_measure=measure,
        diversity=round(diversity_sum / weight_total, 4) if weight_total else 0.0,
        k_scores=first.k_scores,
        details={"by_language": per_language, "dominant_weight": weights},
    )
