"""MLflow's "model from code" entry point for the sentiment model (run by MLflow, not imported)."""

from mlflow.models import set_model

from reviewops.sentiment.mlflow_model import SentimentPyfunc

set_model(SentimentPyfunc())
