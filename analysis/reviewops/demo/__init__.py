"""The built-in demo dataset: ReMarket, a fictional marketplace for refurbished electronics.

`generate(size, seed, languages)` returns reviews in English and French written from the
project's own phrase banks, and the theme planted in each one (the ground truth topic models
are scored against). See `reviewops.demo.themes` for the planted structure.
"""

from reviewops.demo.compose import DEMO_COMPANY, DEVICES
from reviewops.demo.generator import LANGUAGE_WEIGHTS, generate
from reviewops.demo.phrases import LANGUAGES
from reviewops.demo.themes import END, RISING_THEME, START, THEME_NAMES, THEMES

__all__ = [
    "DEMO_COMPANY",
    "DEVICES",
    "END",
    "LANGUAGES",
    "LANGUAGE_WEIGHTS",
    "RISING_THEME",
    "START",
    "THEMES",
    "THEME_NAMES",
    "generate",
]
