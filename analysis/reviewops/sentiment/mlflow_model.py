"""The sentiment model as an MLflow pyfunc model: log it, and load it back by URI.

Imported only when a model goes to or comes from MLflow (mlflow is heavy). The logged model
wraps the joblib bundle as an artifact, so the metadata (training languages, held-out
evaluation) travels with it and appears in MLflow's model metadata; `mlflow.pyfunc` users get
a model whose predict takes a list of texts and returns one {label, score} per text.
Loading needs reviewops importable (the wrapper class lives here).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
from mlflow.pyfunc.model import PythonModel
from pydantic import BaseModel

from reviewops.sentiment.base import SentimentError
from reviewops.sentiment.persist import SentimentModel, load_bundle, save_bundle

_BUNDLE = "bundle"


class Prediction(BaseModel):
    """One text's sentiment, as the MLflow model returns it."""

    label: str
    score: float


class SentimentPyfunc(PythonModel):
    """Loads the bundle artifact; predict(list of texts) -> [Prediction(label, score), ...]."""

    model: SentimentModel | None = None

    def load_context(self, context: Any) -> None:
        """Called by MLflow when the model is loaded: read the bundle artifact."""
        self.model = load_bundle(Path(context.artifacts[_BUNDLE]))

    def predict(self, context: Any, model_input: list[str], params: Any = None) -> list[Prediction]:
        """Label and score each text."""
        del context, params
        if self.model is None:
            raise RuntimeError("the sentiment model was not loaded (load_context not called)")
        labels, scores = self.model.predict(list(model_input))
        return [Prediction(label=label, score=score) for label, score in zip(labels, scores, strict=True)]


def _requirements() -> list[str]:
    # Given explicitly: inferring them costs ~8 s per log_model. reviewops itself is the
    # project's package, installed wherever its models are served.
    import joblib  # type: ignore[import-untyped]
    import numpy
    import scipy
    import sklearn

    return [
        f"mlflow=={mlflow.__version__}",
        f"scikit-learn=={sklearn.__version__}",
        f"numpy=={numpy.__version__}",
        f"scipy=={scipy.__version__}",
        f"joblib=={joblib.__version__}",
    ]


def log_model_to_mlflow(
    model_path_or_object: Path | str | SentimentModel, artifact_path: str = "sentiment-model"
) -> str:
    """Log a bundle file or a SentimentModel to MLflow (the active run, if any); return its URI.

    The URI ("models:/<model-id>") is what `sentiment.modelUri` accepts to reuse the model.
    """
    with tempfile.TemporaryDirectory(prefix="reviewops-model-") as tmp:
        if isinstance(model_path_or_object, SentimentModel):
            model = model_path_or_object
            bundle = save_bundle(model, Path(tmp) / "sentiment-model.joblib")
        else:
            bundle = Path(model_path_or_object)
            model = load_bundle(bundle)  # fail here, not in MLflow, if it is not a bundle
        info = mlflow.pyfunc.log_model(
            name=artifact_path,
            # "Models from code": MLflow runs this small file to build the wrapper at load
            # time instead of unpickling a pickled wrapper object.
            python_model=str(Path(__file__).with_name("mlflow_entry.py")),
            artifacts={_BUNDLE: str(bundle)},
            pip_requirements=_requirements(),
            metadata=model.metadata,
        )
    return str(info.model_uri)


def load_from_mlflow(uri: str) -> SentimentModel:
    """Load a model logged by `log_model_to_mlflow` (any MLflow model URI or local folder)."""
    try:
        loaded = mlflow.pyfunc.load_model(uri)
    except Exception as exc:  # MLflow raises many types (MlflowException, OSError, ...)
        raise SentimentError(
            f"sentiment.modelUri {uri!r}: MLflow could not load it ({exc}); check the URI "
            f"and MLFLOW_TRACKING_URI (now {mlflow.get_tracking_uri()})"
        ) from exc
    wrapper = loaded.unwrap_python_model()
    if not isinstance(wrapper, SentimentPyfunc) or wrapper.model is None:
        raise SentimentError(
            f"sentiment.modelUri {uri!r}: this MLflow model is not a reviewops sentiment model"
        )
    return wrapper.model
