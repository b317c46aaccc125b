"""`prepare`: reviews -> cleaned texts, languages and tokens, fast enough for 100k reviews.

Where the time goes and what is done about it:
- Reviews repeat ("Great service"), so each distinct (title, text) is cleaned and detected
  once, and each distinct (cleaned text, language) is tokenized once.
- Cleaning + language detection, then tokenization, run on worker processes (`workers`,
  default: the CPUs this process may use) that return compact strings, not objects. Each
  pass forks its workers after the parent loaded what they need (the fastText model, then
  the spaCy tokenizers and lemma tables of the languages found), so nothing is loaded twice.
  Small corpora stay in-process, where workers would cost more than they save.
- Lemmas and stop words are dictionary look-ups cached per distinct word (see `tokens`).
- Phrase statistics need the whole corpus, so they are learned in the parent afterwards.
- Brands are found on the distinct cleaned texts and masked before tokenization (see `brands`).
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import TypeVar

from reviewops.preprocess.brands import Brands, brand_labels, mask_brands, preload_vocabulary
from reviewops.preprocess.clean import display_text
from reviewops.preprocess.documents import Numbered, numbered_token_lists
from reviewops.preprocess.language import (
    MAIN_SHARE,
    Guess,
    doubted_override,
    guess_language,
    load_detector,
    normalize_language,
    overriding_language,
    resolve_guess,
    resolve_languages,
)
from reviewops.preprocess.numbering import Gathered, Part, WorkerWords
from reviewops.preprocess.tags import doubtful_tags, sampled
from reviewops.preprocess.tokens import Analyzer, Level, analyzer, stopwords_for
from reviewops.records import Prepared, ProgressFn, Review, no_progress
from reviewops.spec import Preprocessing

log = logging.getLogger(__name__)

# Below this many distinct texts one process is faster than starting workers.
PARALLEL_MIN = 4000
# A language outside the corpus' main ones with fewer reviews than this is split into plain
# words: loading its spaCy data costs 0.5-4 s per process, too much for a few stray reviews.
MINOR_MAX = 50
_CHUNK_MIN, _CHUNK_MAX = 200, 2000
_LISTED = 5  # (tag, detected language) pairs named in the warning about overruled tags
_CHUNKS_PER_WORKER = 8

_In = TypeVar("_In")
_Out = TypeVar("_Out")

# A distinct review input: (title, text, whether to detect its language). Untagged inputs
# are detected; tagged ones when sampled to check their tag (see `tags`) and long enough
# for detection to overrule it.
_Input = tuple[str | None, str, bool]
# A batch to tokenize: (run, language, lemmatize, extra stop words, use spaCy, cleaned texts);
# `run` tells a worker's word numbering (see `documents.WorkerWords`) that a new run began.
_Batch = tuple[str, str, bool, frozenset[str], bool, list[str]]

# This process' word numbering when it tokenizes a batch (a worker's, or in-process), one per
# thread: two runs in threads of one process must not reset each other's numbering.
_NUMBERING = threading.local()


def _words() -> WorkerWords:
    words: WorkerWords | None = getattr(_NUMBERING, "words", None)
    if words is None:
        words = _NUMBERING.words = WorkerWords()
    return words


def prepare(
    reviews: Sequence[Review],
    options: Preprocessing,
    *,
    company_name: str | None = None,
    languages: Sequence[str] | None = None,
    progress: ProgressFn = no_progress,
    workers: int | None = None,
    brands: Sequence[str | None] = (),
    while_waiting: Callable[[], None] | None = None,
) -> Prepared:
    """Clean, identify the language of, and tokenize `reviews` (results aligned by index).

    - texts: the display text (title merged in unless Trustpilot invented it).
    - languages: the review's own language when given, unless detection confidently says
      otherwise (see `language.overriding_language`; counted in a warning), else detected; a
      text too short to tell gets one of the corpus' main languages (`languages`, those the
      analysis expects, and any language of at least 5 % of the reviews). A language with fewer than 50
      reviews that is not a main one is split into plain words, without loading its spaCy
      data.
    - tokens: lowercase lemmas (words when `options.lemmatize` is off) without stop words,
      punctuation, numbers or 1-letter tokens; spaCy's stop words plus
      `options.extra_stopwords`; the brands that `company_name`, `brands` and the reviews'
      `company` fields name or spell as domains or Trustpilot URLs, in every form reviewers
      write them ("Healthy Paws", "HealthyPaws", "Spot"; see `brands`), but not their words
      used ordinarily ("my dog is healthy"); frequent pairs joined with "_" when
      `options.bigrams`.
    - brands: the brand forms masked, lower case ("healthy paws"), for theme labels to avoid.
    - warnings: what a user should know (unsupported languages, undetectable texts, ...).

    `progress` receives counts of reviews that sum to len(reviews). `workers` caps the worker
    processes (default: the usable CPUs, one process for small corpora). With workers, this
    process is idle while they work, so it loads meanwhile what comes next: the spaCy data of
    the languages the tags and `languages` name while texts are cleaned, and whatever
    `while_waiting` loads (the next stage's imports) while they are tokenized.
    """
    expected = [code for code in map(normalize_language, languages or ()) if code]
    given = [normalize_language(review.language) for review in reviews]
    inputs, position, tag_of = _distinct_inputs(reviews, given)
    pool_size = _pool_size(workers, len(inputs))
    # The company's name is masked as a brand below, not made of stop words: "Healthy Paws"
    # must not remove "healthy" from "my dog is healthy".
    stopwords = stopwords_for(None, options.extra_stopwords)

    likely = _likely_languages(given, expected)

    def load_languages() -> None:
        for language in likely:
            _preload(language, options.lemmatize, stopwords)

    cleaned = _clean_and_detect(inputs, tag_of, pool_size, load_languages)
    texts = [cleaned[index][0] for index in position]
    observed, overridden = _observed(given, [cleaned[index][1] for index in position], texts, expected)
    choice = resolve_languages(observed, expected)
    named = {company_name, *brands, *(review.company for review in reviews)}
    found, masked = _mask_brands(named, [text for text, _ in cleaned], position, choice.main)
    counts = Counter(choice.languages)
    minor = {lang for lang, n in counts.items() if lang not in choice.main and n < MINOR_MAX}

    keys: dict[tuple[str, str], int] = {}
    token_index = [
        keys.setdefault((masked[index], language), len(keys))
        for index, language in zip(position, choice.languages, strict=True)
    ]
    jobs = _batches(list(keys), options.lemmatize, stopwords, minor, pool_size)
    # What is no longer needed goes before the next peak: at 1M reviews each is ~100 MB.
    distinct_count = len(keys)
    del keys, masked, cleaned, inputs, observed, given, tag_of, position
    numbered, levels = _tokenize(jobs, distinct_count, pool_size, progress, while_waiting)
    del jobs
    if len(reviews) > distinct_count:
        progress(len(reviews) - distinct_count)
    tokens = _tokens(numbered, token_index, options.bigrams)

    warnings = _warnings(texts, counts, minor, levels, options.lemmatize, expected)
    if overridden:
        warnings.insert(0, _override_warning(overridden))
    if choice.undetermined:
        warnings.insert(
            0,
            f"{choice.undetermined} reviews too short or ambiguous to identify their language: "
            f"treated as '{choice.fallback}'",
        )
    return Prepared(
        texts=texts, languages=choice.languages, tokens=tokens, warnings=warnings, brands=found.names
    )


def _mask_brands(
    names: set[str | None], distinct: list[str], position: list[int], languages: list[str]
) -> tuple[Brands, list[str]]:
    """The brands `names` give, found in the distinct texts (each weighed by its reviews), masked."""
    multiplicity = Counter(position)
    weights = [multiplicity[index] for index in range(len(distinct))]
    return mask_brands(brand_labels(names), distinct, languages, weights)


def _override_warning(overridden: Counter[tuple[str, str]]) -> str:
    pairs = overridden.most_common()
    listed = ", ".join(f"'{tag}' -> '{lang}' {n}" for (tag, lang), n in pairs[:_LISTED])
    listed += ", ..." if len(pairs) > _LISTED else ""
    return (
        f"{sum(overridden.values())} reviews tagged by the source in a language that detection "
        f"confidently contradicts ({listed}): the detected language is used"
    )


def _observed(
    given: Sequence[str | None],
    guesses: Sequence[Guess | None],
    texts: Sequence[str],
    expected: Sequence[str],
) -> tuple[list[str | Guess], Counter[tuple[str, str]]]:
    """Each review's tag, or its Guess when it has none; a confident detection beats the tag,
    and on a tag that detection found wrong, a detection in a main language that the text's
    function words confirm (`language.doubted_override`).

    Also returns how many tags were overruled, by (tag, detected language).
    """
    observed: list[str | Guess] = []
    overridden: Counter[tuple[str, str]] = Counter()
    for tag, guess in zip(given, guesses, strict=True):
        if tag is None:
            # Inputs are detected whenever one of their reviews lacks a language, so a review
            # without one always has a Guess; Guess(()) only satisfies the type checker.
            observed.append(guess or Guess(()))
        elif (detected := overriding_language(tag, guess)) is not None:
            overridden[(tag, detected)] += 1
            observed.append(detected)
        else:
            observed.append(tag)
    doubted = doubtful_tags(given, guesses)
    if not doubted:
        return observed, overridden
    # A doubted tag's texts may go to a main language, or to one that the tag was already
    # found to hide (the French banks' English reviews are under 5 % of them).
    main = resolve_languages(observed, expected).main
    hidden = {tag: {*main, *(lang for (t, lang) in overridden if t == tag)} for tag in doubted}
    # A doubted tag that is not a main language is read as the main language that confident
    # detection found most under it (a country column's "RE" and "BE" on French reviews,
    # "GB" on English ones); without one, its texts are detected like untagged ones.
    alias = {tag: _hides_most(tag, overridden, main) for tag in doubted if tag not in main}
    for i, (tag, guess) in enumerate(zip(given, guesses, strict=True)):
        if tag not in hidden or observed[i] != tag:
            continue
        reading = alias.get(tag, tag)
        if reading is None:
            detected_only = guess or Guess(())
            observed[i] = detected_only
            reading = resolve_guess(detected_only, main)
        elif (detected := doubted_override(reading, guess, texts[i], hidden[tag])) is not None:
            reading = detected
        if reading is not None and reading != tag:
            overridden[(tag, reading)] += 1
            if isinstance(observed[i], str):
                observed[i] = reading
    return observed, overridden


def _hides_most(tag: str, overridden: Counter[tuple[str, str]], main: Sequence[str]) -> str | None:
    """The main language that the strict rule most often found under `tag`, if any."""
    found = Counter({lang: n for (t, lang), n in overridden.items() if t == tag and lang in main})
    return found.most_common(1)[0][0] if found else None


def _distinct_inputs(
    reviews: Sequence[Review], given: Sequence[str | None]
) -> tuple[list[_Input], list[int], list[str | None]]:
    """The distinct inputs, each review's input, and each input's tag (None: one of its
    reviews has none, so it is detected)."""
    index_of: dict[tuple[str | None, str], int] = {}
    inputs: list[_Input] = []
    position: list[int] = []
    tag_of: list[str | None] = []
    for review, language in zip(reviews, given, strict=True):
        key = (review.title, review.text)
        index = index_of.get(key)
        if index is None:
            index = index_of[key] = len(inputs)
            inputs.append((review.title, review.text, language is None))
            tag_of.append(language)
        elif language is None and tag_of[index] is not None:
            inputs[index] = (review.title, review.text, True)
            tag_of[index] = None
        position.append(index)
    check = sampled(tag_of)
    inputs = [(title, text, detect or check[i]) for i, (title, text, detect) in enumerate(inputs)]
    return inputs, position, tag_of


def _likely_languages(given: Sequence[str | None], expected: Sequence[str]) -> list[str]:
    """The languages the corpus will most likely be analysed in, before detection: the
    expected ones and those of at least 5 % of the tags."""
    tags = Counter(tag for tag in given if tag is not None)
    frequent = [tag for tag, count in tags.most_common() if count >= MAIN_SHARE * len(given)]
    return list(dict.fromkeys([*expected, *frequent]))


def _preload(language: str, lemmatize: bool, stopwords: frozenset[str]) -> None:
    """Loads (into their caches) the brand vocabulary and the analyzer of `language`."""
    try:
        preload_vocabulary(language)
        analyzer(language, lemmatize, stopwords, True)
    except Exception:  # a warm-up only: the load that needs it reports what is wrong
        log.debug("preloading %s failed", language, exc_info=True)


def _clean_and_detect(
    inputs: list[_Input], tag_of: list[str | None], pool_size: int, while_waiting: Callable[[], None]
) -> list[tuple[str, Guess | None]]:
    """Cleaned text and Guess per input: untagged and sampled inputs first, then every other
    input of a tag that the sample found wrong. `while_waiting` runs here while workers clean."""
    with _runner(pool_size, load_detector) as runner:
        chunks = runner.map(_clean_chunk, _chunks(inputs, pool_size))
        if runner.pooled:
            while_waiting()
        cleaned = [item for chunk in chunks for item in chunk]
        doubted = doubtful_tags(tag_of, [guess for _, guess in cleaned])
        redo = [i for i, (text, guess) in enumerate(cleaned) if guess is None and tag_of[i] in doubted]
        size = _chunk_size(len(redo), pool_size)
        again = [[cleaned[i][0] for i in redo[start : start + size]] for start in range(0, len(redo), size)]
        guesses = [guess for chunk in runner.map(_detect_chunk, again) for guess in chunk]
    for i, guess in zip(redo, guesses, strict=True):
        cleaned[i] = (cleaned[i][0], guess)
    return cleaned


def _tokenize(
    jobs: list[tuple[list[int], _Batch]],
    count: int,
    pool_size: int,
    progress: ProgressFn,
    while_waiting: Callable[[], None] | None,
) -> tuple[Numbered, dict[str, Level]]:
    """The tokens of each distinct (text, language) as word ids, and each language's Level.
    `while_waiting` runs here while workers tokenize."""
    gathered = Gathered(count)
    levels: dict[str, Level] = {}

    def load_analyzers() -> None:
        for _, batch in jobs:
            _analyzer_for(batch)

    with _runner(pool_size, load_analyzers) as runner:
        done = runner.map(_tokenize_batch, [batch for _, batch in jobs])
        if runner.pooled and while_waiting is not None:
            while_waiting()
        for (ids, batch), (level, part) in zip(jobs, done, strict=True):
            levels[batch[1]] = level
            gathered.add(ids, part)
            progress(len(ids))
    return gathered.numbered(), levels


def _tokens(numbered: Numbered, token_index: list[int], bigrams: bool) -> list[list[str]]:
    """Final token lists per review: phrases joined, markers gone, one list per review."""
    distinct = numbered_token_lists(numbered, bigrams=bigrams)
    del numbered
    # A repeated text gets its own copy of the token list, so no two reviews share a list.
    tokens: list[list[str]] = []
    used = [False] * len(distinct)
    for index in token_index:
        tokens.append(list(distinct[index]) if used[index] else distinct[index])
        used[index] = True
    return tokens


def _clean_chunk(items: Sequence[_Input]) -> list[tuple[str, Guess | None]]:
    out: list[tuple[str, Guess | None]] = []
    for title, text, detect in items:
        cleaned = display_text(title, text)
        out.append((cleaned, guess_language(cleaned) if detect else None))
    return out


def _detect_chunk(texts: Sequence[str]) -> list[Guess]:
    return [guess_language(text) for text in texts]


def _analyzer_for(batch: _Batch) -> Analyzer:
    _, language, lemmatize, stopwords, use_spacy, _ = batch
    return analyzer(language, lemmatize, stopwords, use_spacy)


def _tokenize_batch(batch: _Batch) -> tuple[Level, Part]:
    tokenizer = _analyzer_for(batch)
    return tokenizer.level, _words().part(batch[0], tokenizer, batch[5])


def _batches(
    keys: list[tuple[str, str]],
    lemmatize: bool,
    stopwords: frozenset[str],
    minor: set[str],
    pool_size: int,
) -> list[tuple[list[int], _Batch]]:
    """Distinct (text, language) pairs grouped by language, cut into chunks."""
    by_language: dict[str, list[int]] = {}
    for key_id, (_, language) in enumerate(keys):
        by_language.setdefault(language, []).append(key_id)
    size = _chunk_size(len(keys), pool_size)
    run = uuid.uuid4().hex
    batches = []
    for language, ids in by_language.items():
        for start in range(0, len(ids), size):
            part = ids[start : start + size]
            texts = [keys[key_id][0] for key_id in part]
            batch = (run, language, lemmatize, stopwords, language not in minor, texts)
            batches.append((part, batch))
    return batches


def _chunks(items: list[_Input], pool_size: int) -> list[list[_Input]]:
    size = _chunk_size(len(items), pool_size)
    return [items[start : start + size] for start in range(0, len(items), size)]


def _chunk_size(count: int, pool_size: int) -> int:
    # Several chunks per worker keep both busy to the end and the progress bar moving.
    wanted = math.ceil(count / (pool_size * _CHUNKS_PER_WORKER)) if count else 1
    return max(_CHUNK_MIN, min(_CHUNK_MAX, wanted))


def _pool_size(workers: int | None, distinct: int) -> int:
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be 1 or more, got {workers}")
    if multiprocessing.current_process().daemon:
        # A daemonic process (a Celery or multiprocessing worker) may not start children.
        return 1
    if workers is not None:
        return workers
    if distinct < PARALLEL_MIN:
        return 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, usable or 1)


class _Runner:
    """An ordered, lazy `map` over chunks: in-process, or on a pool of worker processes."""

    def __init__(self, pool: Pool | None) -> None:
        self._pool = pool

    @property
    def pooled(self) -> bool:
        """Whether `map` runs on workers (and this process is free meanwhile)."""
        return self._pool is not None

    def map(self, function: Callable[[_In], _Out], items: Sequence[_In]) -> Iterator[_Out]:
        if self._pool is None:
            return map(function, items)
        return self._pool.imap(function, items)


@contextmanager
def _runner(pool_size: int, load: Callable[[], None]) -> Iterator[_Runner]:
    """A _Runner for one pass; with workers, `load` runs first so that they inherit it."""
    if pool_size == 1:
        yield _Runner(None)
        return
    # fork shares what the parent loaded (models, tables, imported modules) at no cost, so
    # each worker does not load it again; spawn (macOS, Windows) works too, each worker then
    # loads what it needs itself.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    if method == "fork":
        load()
        # The workers' garbage collector then leaves the inherited objects alone: it would
        # otherwise walk (and so copy, page by page) everything the parent holds.
        gc.freeze()
    try:
        with multiprocessing.get_context(method).Pool(pool_size) as pool:
            yield _Runner(pool)
    finally:
        if method == "fork":
            gc.unfreeze()


def _warnings(
    texts: Sequence[str],
    counts: Counter[str],
    minor: set[str],
    levels: dict[str, Level],
    lemmatize: bool,
    expected: Sequence[str],
) -> list[str]:
    warnings: list[str] = []
    for language, count in counts.most_common():
        level = levels.get(language)
        if language in minor:
            continue
        if level == "plain":
            warnings.append(
                f"{count} reviews in '{language}' (unsupported): tokens are lowercased words, "
                "not lemmas, and no stop words are removed"
            )
        elif level == "words" and lemmatize:
            warnings.append(
                f"{count} reviews in '{language}' (no lemma table): tokens are lowercased words, not lemmas"
            )
    if minor:
        listed = ", ".join(f"{lang} {count}" for lang, count in counts.most_common() if lang in minor)
        warnings.append(
            f"{sum(counts[lang] for lang in minor)} reviews in minor languages ({listed}): tokens "
            "are lowercased words, not lemmas, and no stop words are removed; list a language "
            "in source.languages to analyse it fully"
        )
    if expected:
        others = [(lang, n) for lang, n in counts.most_common() if lang not in expected]
        if others:
            listed = ", ".join(f"{lang} {n}" for lang, n in others)
            warnings.append(
                f"{sum(n for _, n in others)} reviews are not in the expected languages "
                f"({', '.join(expected)}): {listed}"
            )
    empty = sum(1 for text in texts if not text)
    if empty:
        warnings.append(
            (f"{empty} reviews have" if empty != 1 else "1 review has")
            + " no text left after cleaning (empty, or only links, emoji or markup): they get no tokens"
        )
    return warnings
