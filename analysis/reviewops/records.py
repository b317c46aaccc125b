"""Plain data passed between the analysis stages.

Every stage takes and returns these types, so stages compose and test alike. They are
dataclasses (slots) rather than pydantic models: 100k reviews must stay cheap to build.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Label = Literal["positive", "neutral", "negative"]
LABELS: tuple[Label, ...] = ("negative", "neutral", "positive")

# Called with the number of items just finished; drives progress bars.
ProgressFn = Callable[[int], None]


def no_progress(_: int) -> None:
    """A ProgressFn that does nothing."""


@dataclass(slots=True)
class Review:
    """One customer review, whatever its source."""

    id: str
    text: str
    rating: int | None = None
    title: str | None = None
    language: str | None = None
    published: dt.datetime | None = None  # timezone-aware (UTC)
    experienced: dt.date | None = None
    company: str | None = None
    author: str | None = None
    country: str | None = None
    reply: str | None = None
    verified: bool | None = None
    likes: int | None = None
    origin: str = ""  # page URL or "file:line", for error messages and provenance


@dataclass(slots=True, frozen=True)
class Problem:
    """Something wrong with the input, located precisely ("reviews.csv:17", a page URL)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(slots=True)
class SourceResult:
    """Reviews read from a source, with what went wrong along the way (never fatal alone)."""

    reviews: list[Review]
    problems: list[Problem] = field(default_factory=list)
    complete: bool = True  # False when the source stopped early (rate limit, error, interrupt)
    stats: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Prepared:
    """The corpus after preprocessing, aligned index by index with the reviews."""

    texts: list[str]  # cleaned display text (title merged into text when it adds something)
    languages: list[str]  # ISO 639-1, detected when the source gave none
    tokens: list[list[str]]  # lemmas without stop words, frequent bigrams joined with "_"
    warnings: list[str] = field(default_factory=list)
    # The reviewed companies' names as the reviews write them (lower case, a multi-word brand
    # with spaces: "healthy paws"), dropped from `tokens`; theme labels must not use them.
    brands: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ClassScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(slots=True)
class Evaluation:
    """Sentiment labels compared with the labels the stars give (1-2 neg, 3 neutral, 4-5 pos)."""

    kind: str  # "held-out split", "agreement with stars", ...
    n: int
    macro_f1: float
    accuracy: float
    per_class: dict[str, ClassScore]


@dataclass(slots=True)
class SentimentResult:
    method: str
    labels: list[Label]
    scores: list[float]  # -1 (very negative) .. +1 (very positive)
    evaluation: Evaluation | None = None
    details: dict[str, object] = field(default_factory=dict)  # e.g. train size, model path


@dataclass(slots=True)
class Topic:
    """A broad theme (parent None) or a sub-theme of the broad theme whose id is `parent`."""

    id: int
    label: str
    terms: list[tuple[str, float]]  # top terms, weight descending
    parent: int | None = None


@dataclass(slots=True)
class TopicResult:
    algorithm: str
    topics: list[Topic]
    assignments: list[int]  # dominant broad theme per review, -1 when the review had too few tokens
    coherence: float
    coherence_measure: str  # "c_v" or "npmi"
    diversity: float  # share of unique words among all topics' top terms
    k_scores: dict[int, dict[str, float]] = field(default_factory=dict)  # auto: k -> scores
    details: dict[str, object] = field(default_factory=dict)
    # Sub-theme (a Topic.id whose parent is the review's broad theme) per review, -1 when the
    # review has none; empty when the run made no sub-themes. Broad themes come first in
    # `topics` (ids 0..k-1, largest first), then the sub-themes grouped by parent.
    sub_assignments: list[int] = field(default_factory=list)

    def themes(self) -> list[Topic]:
        """The broad themes, in order."""
        return [t for t in self.topics if t.parent is None]

    def subthemes(self, parent: int | None = None) -> list[Topic]:
        """Every sub-theme, or those of one broad theme."""
        return [t for t in self.topics if t.parent is not None and (parent is None or t.parent == parent)]


def stars_to_label(rating: int | None) -> Label | None:
    """The sentiment label Trustpilot's stars imply: 1-2 negative, 3 neutral, 4-5 positive."""
    if rating is None:
        return None
    if rating <= 2:
        return "negative"
    if rating == 3:
        return "neutral"
    return "positive"
