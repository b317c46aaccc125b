"""Sentiment analysis of the engine: `ratings`, `lexicon` and `supervised`, chosen by name.

`analyze_sentiment(reviews, prepared, options)` labels every review positive / neutral /
negative with a score in [-1, 1]; `METHODS` lists the methods; `evaluate` scores labels
against the stars. scikit-learn, vaderSentiment and mlflow are imported only by the method
that needs them, so importing this package is cheap.
"""

from pathlib import Path

from reviewops.sentiment import lexicon, ratings, supervised  # noqa: F401  (they register)
from reviewops.sentiment.base import (
    METHODS,
    SentimentError,
    SentimentMethod,
    analyze_sentiment,
    score_to_label,
)
from reviewops.sentiment.evaluate import evaluate, format_evaluation
from reviewops.sentiment.persist import SentimentModel, load_model, save_bundle
from reviewops.sentiment.supervised import train_model


def log_model_to_mlflow(
    model_path_or_object: str | Path | SentimentModel, artifact_path: str = "sentiment-model"
) -> str:
    """Log a saved bundle (path) or a SentimentModel to MLflow; return the model URI.

    The URI ("models:/<model-id>"; "runs:/<run-id>/<artifact_path>" works too) can be given
    back as `sentiment.modelUri`. Logs into the active run, if any. Imports mlflow lazily.
    """
    from reviewops.sentiment.mlflow_model import log_model_to_mlflow as log

    return log(model_path_or_object, artifact_path)


__all__ = [
    "METHODS",
    "SentimentError",
    "SentimentMethod",
    "SentimentModel",
    "analyze_sentiment",
    "evaluate",
    "format_evaluation",
    "load_model",
    "log_model_to_mlflow",
    "save_bundle",
    "score_to_label",
    "train_model",
]
