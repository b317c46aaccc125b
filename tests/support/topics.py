"""Test helpers for the topic models: a tiny tokenizer so fast tests need no spaCy.

It stands in for reviewops.preprocess.prepare (lowercase words, a short English and French
stop list, no numbers); the slow tests run the real preprocessing instead.
"""

from __future__ import annotations

import re

from reviewops.demo import generate
from reviewops.records import Review

_WORD = re.compile(r"[^\W\d_]+")
_STOP_WORDS = """a an the and or but of to in on at for with from by is was were be been are it its
    this that i my me we our you your they them their he she his her not no so very too just all any
    as if than then there here have has had do did does can could would will should after before
    about into out up down over again only also more most some such what which who when where
    why how am im ive dont didnt doesnt isnt wasnt even still got get one two
    le la les un une des du de et ou mais en au aux pour par sur dans avec sans que qui ce cet
    cette ces mon ma mes son sa ses notre nos votre vos leur leurs je tu il elle on nous vous
    ils elles me te se est été être ai as avons avez ont avait était pas ne plus moins très
    tout tous toute toutes ça cela lui fait faire bien comme si"""
_STOP = frozenset(_STOP_WORDS.split())


def simple_tokens(text: str) -> list[str]:
    """Lowercase words of 3+ letters that are not stop words."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP]


def review_tokens(review: Review) -> list[str]:
    """Tokens of a review's title and text, as preprocessing would merge them."""
    return simple_tokens(f"{review.title or ''} {review.text}")


def demo_corpus(
    size: int, languages: tuple[str, ...] = ("en",), seed: int = 42
) -> tuple[list[list[str]], list[str]]:
    """Tokens of `size` demo reviews and the theme planted in each."""
    reviews, themes = generate(size, seed=seed, languages=languages)
    return [review_tokens(r) for r in reviews], themes
