"""From the workers' encoded token strings to the final token lists, on integer ids.

Each worker returns a text's tokens as one string (`tokens.Analyzer.encode`: tokens and BREAK
markers joined by spaces). Here they become lists of tokens, with the corpus' phrases joined
("customer service" -> customer_service, left to right, as `phrases.PhraseModel.join` does)
and the BREAKs dropped. The work is done on one array of word ids with numpy, a block of
documents at a time, instead of word by word in Python: splitting, counting and joining
100k generated reviews took 0.6 s instead of 2.0 s. Every token is one string object shared by
all the documents that hold it (at 1M reviews that is ~1 GB less than a string per
occurrence).

The tokenizing workers send word ids rather than strings (see `numbering`): a run's documents
come here as a `Numbered`; `token_lists` takes encoded strings (used by tests and small calls).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate, islice, pairwise

import numpy as np
from numpy.typing import NDArray

from reviewops.preprocess.phrases import DEFAULT_THRESHOLD, phrase_pairs, scaled_min_count
from reviewops.preprocess.tokens import BREAK

# Documents decoded or built at once: bounds the flat lists of one block (~55 tokens a review).
BLOCK = 50_000

IdArray = NDArray[np.int32]


@dataclass
class Numbered:
    """Documents' tokens as word ids: `ids[sum(lengths[:i]):][:lengths[i]]` is document i's."""

    words: list[str]
    ids: IdArray
    lengths: NDArray[np.int64]


def token_lists(
    encoded: list[str], *, bigrams: bool, min_count: int | None = None, threshold: float = DEFAULT_THRESHOLD
) -> list[list[str]]:
    """The token lists of `encoded` (one encoded string per document), phrases joined when
    `bigrams`, without BREAKs. Empties `encoded`: its strings are not needed afterwards."""
    numbered = Numbered(*_ids(encoded))
    encoded.clear()
    return numbered_token_lists(numbered, bigrams=bigrams, min_count=min_count, threshold=threshold)


def numbered_token_lists(
    numbered: Numbered, *, bigrams: bool, min_count: int | None = None, threshold: float = DEFAULT_THRESHOLD
) -> list[list[str]]:
    """`token_lists` of documents already numbered (see `Gathered`)."""
    words, ids, lengths = numbered.words, numbered.ids, numbered.lengths
    break_id = words.index(BREAK) if BREAK in words else -1
    pairs: list[tuple[int, int]] = []
    if bigrams:
        needed = scaled_min_count(len(lengths)) if min_count is None else min_count
        pairs = phrase_pairs(ids, lengths, len(words), break_id, needed, threshold)
    size = len(words)
    # Sorted (phrase_pairs gives them in this order), for searchsorted.
    phrase_keys = np.asarray([first * size + second for first, second in pairs], dtype=np.int64)
    vocabulary = np.asarray([*words, *(f"{words[a]}_{words[b]}" for a, b in pairs)], dtype=object)
    del words
    bounds = [0, *accumulate(lengths.tolist())]
    documents: list[list[str]] = []
    for start in range(0, len(lengths), BLOCK):  # a block of whole documents at a time
        stop = min(start + BLOCK, len(lengths))
        low, high = bounds[start], bounds[stop]
        block, keep = _joined(ids[low:high], lengths[start:stop], phrase_keys, size, break_id)
        flat: list[str] = vocabulary[block[keep]].tolist()
        # Where each document's kept tokens end in `flat`.
        kept_before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
        cuts = kept_before[np.asarray(bounds[start : stop + 1], dtype=np.int64) - low].tolist()
        documents.extend(flat[a:b] for a, b in pairwise(cuts))
    return documents


def _ids(
    encoded: list[str], word_id: dict[str, int] | None = None
) -> tuple[list[str], IdArray, NDArray[np.int64]]:
    """(new words, every token as a word id, tokens per document). Words are numbered after
    those already in `word_id` (given: updated in place); the new words are those this call
    numbered, in id order (with no `word_id`, every word)."""
    lengths = np.fromiter(
        (text.count(" ") + 1 if text else 0 for text in encoded), dtype=np.int64, count=len(encoded)
    )
    word_id = {} if word_id is None else word_id
    before = len(word_id)
    blocks: list[IdArray] = []
    for start in range(0, len(encoded), BLOCK):
        texts = [text for text in encoded[start : start + BLOCK] if text]
        flat = " ".join(texts).split(" ") if texts else []
        for word in dict.fromkeys(flat):  # the block's distinct words; new ones are numbered
            word_id.setdefault(word, len(word_id))
        blocks.append(np.fromiter(map(word_id.__getitem__, flat), dtype=np.int32, count=len(flat)))
    ids = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int32)
    new_words = list(islice(reversed(word_id), len(word_id) - before))[::-1]  # dicts keep order
    return new_words, ids, lengths


def _joined(
    ids: IdArray, lengths: NDArray[np.int64], phrase_keys: NDArray[np.int64], size: int, break_id: int
) -> tuple[IdArray, NDArray[np.bool_]]:
    """Whole documents' ids with phrase pairs replaced by `size` + the phrase's index, left to
    right, and which positions to keep (not a BREAK, not the second word of a joined pair)."""
    keep = ids != break_id
    if not len(phrase_keys) or len(ids) < 2:
        return ids, keep
    inside = np.ones(len(ids) - 1, dtype=bool)  # positions i and i + 1 in one document
    ends = np.cumsum(lengths)[lengths > 0] - 1
    inside[ends[ends < len(ids) - 1]] = False
    keys = ids[:-1].astype(np.int64) * size + ids[1:]
    found = np.minimum(np.searchsorted(phrase_keys, keys), len(phrase_keys) - 1)
    # Left to right: in a run of consecutive phrase starts ("a b c" with a_b and b_c), the
    # first is taken, the next one's first word is already used, the one after is taken...
    at = np.flatnonzero(_alternate_runs(inside & (phrase_keys[found] == keys)))
    joined = ids.copy()
    joined[at] = (size + found[at]).astype(np.int32)
    keep[at + 1] = False
    return joined, keep


def _alternate_runs(starts: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Positions of `starts` at an even distance from the beginning of their run of Trues."""
    if not starts.any():
        return starts
    index = np.arange(len(starts))
    # For each position, where its current run began (runs begin where starts turns True).
    began = np.where(starts & ~np.concatenate([[False], starts[:-1]]), index, 0)
    np.maximum.accumulate(began, out=began)
    result: NDArray[np.bool_] = starts & ((index - began) % 2 == 0)
    return result
