"""Preprocessing: clean review texts, identify their language, and turn them into tokens.

`prepare` is the stage's entry point. spaCy and fastText are imported only when texts are
actually processed, so importing this package stays cheap.
"""

from reviewops.preprocess.pipeline import prepare

__all__ = ["prepare"]
