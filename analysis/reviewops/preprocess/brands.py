"""The reviewed companies' own names, found in the corpus from their web domains.

A company's name is a stop word (see `tokens.stopwords_for`), but files often name companies
by domain only ("spotpetins.com", "embracepetinsurance.com"), and reviewers write the brand,
not the domain ("Spot was great"). Left in, the brand becomes a topic of its own in a file that
mixes companies (on the shared pet-insurance reviews: "spot / pet insurance / care", 17 % of
the reviews), which says which company a review is about, not what it is about.

Rule: a domain's first label minus "www" ("spotpetins") is the brand's written-together form;
the longest word of the corpus (at least MIN_BRAND_LENGTH letters, seen MIN_BRAND_COUNT times)
that starts it is the brand as reviewers write it ("spot"). Both are dropped from the tokens.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence

MIN_BRAND_LENGTH = 4  # shorter prefixes ("pet" of "petsbest") are too often ordinary words
MIN_BRAND_COUNT = 3
_DOMAIN = re.compile(r"(?<![\w.-])(?:https?://)?(?:www\.)?([a-z0-9][a-z0-9-]*)\.[a-z]{2,}(?:\.[a-z]{2,})?\b")


def domain_labels(names: Iterable[str | None]) -> set[str]:
    """'www.spotpetins.com', 'figopetinsurance.com and fetchpet.com' -> {'spotpetins', ...}."""
    labels: set[str] = set()
    for name in names:
        if name:
            labels.update(match.replace("-", "") for match in _DOMAIN.findall(name.lower()))
    return labels


def brand_tokens(
    labels: Iterable[str], documents: Sequence[Sequence[str]], weights: Sequence[int] | None = None
) -> set[str]:
    """The tokens of `documents` that spell a brand of `labels` (see the module docstring).

    `weights` says how many reviews each document stands for (repeated texts are tokenized once).
    """
    wanted = {label for label in labels if len(label) >= MIN_BRAND_LENGTH}
    if not wanted:
        return set()
    initials = frozenset(label[0] for label in wanted)
    # Every token counted once per review: documents standing for one review in one C-level
    # Counter pass, the repeated texts (weight > 1) one by one; then only candidates are kept.
    single = (
        documents if weights is None else [doc for doc, w in zip(documents, weights, strict=True) if w == 1]
    )
    counts: Counter[str] = Counter(itertools.chain.from_iterable(single))
    if weights is not None:
        for doc, weight in zip(documents, weights, strict=True):
            if weight != 1:
                for token in doc:
                    counts[token] += weight
    counts = Counter(
        {t: n for t, n in counts.items() if t[:1] in initials and len(t) >= MIN_BRAND_LENGTH and n > 0}
    )
    brands = {label for label in wanted if counts[label] > 0}
    for label in wanted:
        starts = [t for t, n in counts.items() if n >= MIN_BRAND_COUNT and t != label and label.startswith(t)]
        if starts:
            brands.add(max(starts, key=len))
    return brands
