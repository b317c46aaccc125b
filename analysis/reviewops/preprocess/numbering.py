"""Texts to word ids in the tokenizing workers, and the workers' ids to the corpus' ids.

A worker numbers the tokens of its texts itself (`WorkerWords`) and sends them as an array of
its own word ids, with the words it numbered since its last answer; `Gathered` maps every
worker's ids to the corpus' ids, in document order. Arrays cost a fraction of what strings cost
to send, and numbering ~5.5M tokens (100k reviews) is then the workers' work, on both cores.

A worker does not build each text's token string (`tokens.Analyzer.encode`) to split it again:
each distinct whitespace-separated piece of text ("price!!", "don't") is resolved once per run
into the ids of its tokens and BREAK markers, so a text costs a split and a look-up per piece.
Runs of BREAKs then become one and none is left at either end of a text, with numpy over the
whole batch: the same token stream as `decode(encode(text))` (tested).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, islice

import numpy as np
from numpy.typing import NDArray

from reviewops.preprocess.documents import IdArray, Numbered
from reviewops.preprocess.tokens import BREAK, Analyzer


@dataclass
class Part:
    """A worker's answer for some texts: their tokens in its own word ids, how many tokens each
    text has, and the words it numbered since its previous answer (its ids len(before)...)."""

    worker: str  # the numbering's own id (see WorkerWords.worker)
    new_words: list[str]
    ids: IdArray
    lengths: NDArray[np.int64]


@dataclass
class WorkerWords:
    """One process' word numbering for one run (`run`: a new run starts a new numbering)."""

    run: str = ""
    # Names this numbering in its Parts: new with each run, so that a worker the pool replaces
    # (forked from the parent, numbering from scratch) is never taken for the one it replaces,
    # even under the same process id.
    worker: str = ""
    number: dict[str, int] = field(default_factory=dict)
    sent: int = 0  # words numbered so far that earlier Parts carried
    # per analyzer (a language's): piece of text -> the ids of its tokens and BREAKs
    pieces: dict[Analyzer, dict[str, tuple[int, ...]]] = field(default_factory=dict)

    def part(self, run: str, analyzer: Analyzer, texts: Sequence[str]) -> Part:
        """The tokens of `texts` as this process' word ids (see the module's documentation)."""
        if run != self.run:
            self.run, self.worker, self.number, self.sent, self.pieces = run, uuid.uuid4().hex, {}, 0, {}
        number = self.number
        break_id = number.setdefault(BREAK, len(number))
        cache = self.pieces.setdefault(analyzer, {})
        flat: list[int] = []
        sizes: list[int] = []
        for text in texts:
            # As Analyzer.encode: spaCy's English and French rules expect the ASCII apostrophe.
            pieces = text.replace("’", "'").split()
            found = list(map(cache.get, pieces))
            if None in found:
                for piece in {p for p, f in zip(pieces, found, strict=True) if f is None}:
                    cache[piece] = tuple(
                        number.setdefault(t, len(number)) for t in analyzer.piece_tokens(piece)
                    )
                found = list(map(cache.__getitem__, pieces))
            before = len(flat)
            flat.extend(chain.from_iterable(found))  # type: ignore[arg-type]
            sizes.append(len(flat) - before)
        ids, lengths = _without_extra_breaks(
            np.asarray(flat, dtype=np.int32), np.asarray(sizes, dtype=np.int64), break_id
        )
        words = list(islice(reversed(number), len(number) - self.sent))[::-1]  # dicts keep order
        self.sent = len(number)
        return Part(self.worker, words, ids, lengths)


def _without_extra_breaks(
    ids: IdArray, lengths: NDArray[np.int64], break_id: int
) -> tuple[IdArray, NDArray[np.int64]]:
    """Texts' ids with each run of BREAKs made one and no BREAK first or last in a text."""
    if not len(ids):
        return ids, lengths
    ends = np.cumsum(lengths)
    text_of = np.repeat(np.arange(len(lengths)), lengths)
    first = np.zeros(len(ids), dtype=bool)
    first[(ends - lengths)[lengths > 0]] = True
    is_break = ids == break_id
    # A BREAK stays when the token before it, in its text, is a word and a word follows it
    # in its text: more words up to the text's end than up to the BREAK.
    after_word = ~first & ~np.concatenate([[True], is_break[:-1]])
    words_so_far = np.cumsum(~is_break)
    word_after = words_so_far[np.repeat(ends - 1, lengths)] > words_so_far
    keep = ~is_break | (after_word & word_after)
    kept = np.bincount(text_of[keep], minlength=len(lengths)).astype(np.int64)
    return ids[keep], kept


class Gathered:
    """The workers' Parts, each for some of the documents, put together as one `Numbered`."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._number: dict[str, int] = {}
        # worker -> corpus id of each of its word ids (a buffer that doubles, and its length)
        self._mapping: dict[str, tuple[NDArray[np.int32], int]] = {}
        self._parts: list[tuple[list[int], IdArray, NDArray[np.int64]]] = []

    def add(self, documents: list[int], part: Part) -> None:
        """Take `part`, the tokens of `documents` (document indexes, in the part's order)."""
        number = self._number
        new = [number.setdefault(word, len(number)) for word in part.new_words]
        buffer, used = self._mapping.get(part.worker, (np.zeros(1024, dtype=np.int32), 0))
        if used + len(new) > len(buffer):
            buffer = np.concatenate([buffer[:used], np.zeros(max(used, len(new)) * 2, dtype=np.int32)])
        buffer[used : used + len(new)] = new
        used += len(new)
        if len(part.ids) and int(part.ids.max()) >= used:  # a numbering out of step: never guess
            raise RuntimeError(f"tokenizing worker {part.worker} sent word ids it never named")
        self._mapping[part.worker] = (buffer, used)
        self._parts.append((documents, buffer[part.ids], part.lengths))

    def numbered(self) -> Numbered:
        """Every document's tokens in corpus ids, in document order (empties the parts)."""
        lengths = np.zeros(self._count, dtype=np.int64)
        for documents, _, part_lengths in self._parts:
            lengths[documents] = part_lengths
        starts = np.concatenate([[0], np.cumsum(lengths)])
        ids = np.empty(int(starts[-1]), dtype=np.int32)
        while self._parts:
            documents, part_ids, part_lengths = self._parts.pop()
            before = np.concatenate([[0], np.cumsum(part_lengths)[:-1]])
            # Token j of the part's k-th document goes to that document's start + j.
            shift = np.repeat(starts[np.asarray(documents, dtype=np.int64)] - before, part_lengths)
            ids[shift + np.arange(len(part_ids))] = part_ids
        return Numbered(list(self._number), ids, lengths)
