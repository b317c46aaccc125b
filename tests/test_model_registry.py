"""spec.mlflow.registerModel: publish registers the trained sentiment model and keeps a `champion`.

The pure parts (the registered model's name, the promotion rule, the tags round trip) are
unit-tested; the rest runs the real stages (`reviewops.stages.run_stage`, in process) against
a real MLflow server, not through Airflow: a first run becomes the champion, a worse model (its
stars shuffled, so its held-out macro-F1 collapses) is registered but not promoted, an equal one
is promoted (not worse), a retried publish registers nothing twice, and a run with
`modelUri: models:/<name>@champion` scores with the champion's version, pinned.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reviewops.settings import AnalysisSettings
from reviewops.stages import STAGES, RunArtifacts, run_stage
from reviewops.tracking import CHAMPION, Registration, decide, registered_model_name

NS, NAME = "insights", "remarket-registry"
MODEL = f"reviewops.{NS}.{NAME}"


# --- pure -------------------------------------------------------------------------------------


def test_the_model_name_is_mlflow_safe_and_unambiguous() -> None:
    assert registered_model_name("insights/backmarket-en") == "reviewops.insights.backmarket-en"
    # namespaces hold no dots, so the first dot after the prefix splits them from the name
    assert registered_model_name("a-b/c") != registered_model_name("a/b-c")
    assert registered_model_name("manual/Back Market (FR)/x") == "reviewops.manual.Back-Market-FR.x"
    assert "/" not in registered_model_name("ns/name.with.dots")


@pytest.mark.parametrize(
    ("new", "champion", "champion_f1", "promoted", "words"),
    [
        (0.70, None, None, True, "first registered"),
        (0.70, "3", 0.70, True, ">="),  # equal is not worse
        (0.71, "3", 0.70, True, ">="),
        (0.69, "3", 0.70, False, "champion kept"),
        (None, "3", 0.70, False, "no held-out macro-F1"),
        (0.50, "3", None, True, "has no held-out macro-F1"),
    ],
)
def test_the_champion_moves_only_when_the_new_version_is_not_worse(
    new: float | None, champion: str | None, champion_f1: float | None, promoted: bool, words: str
) -> None:
    decided, reason = decide(new, champion, champion_f1)
    assert decided is promoted and words in reason


def test_a_decision_survives_its_tags() -> None:
    registration = Registration(MODEL, "4", 0.81, "3", 0.8, True, "better", "4")
    assert Registration.from_tags({"other": "x", **registration.run_tags()}) == registration
    assert registration.results()["uri"] == f"models:/{MODEL}@{CHAMPION}"
    assert Registration.from_tags({"reviewops.model.name": MODEL}) is None


# --- against a real MLflow server ---------------------------------------------------------------


@dataclass
class Registry:
    url: str
    root: Path


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    from tests.support.airflow_server import MlflowServer

    root = tmp_path_factory.mktemp("registry")
    (root / "mlflow").mkdir()
    server = MlflowServer(root / "mlflow")
    server.start()
    try:
        server.wait()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MLFLOW_TRACKING_URI", server.url)  # what the sentiment stage sets
            yield Registry(server.url, root)
    finally:
        server.stop()


def analyse(registry: Registry, run_id: str, source: dict[str, Any], **sentiment: Any) -> dict[str, Any]:
    """Run every stage of one DAG run in process; returns publish's results."""
    settings = AnalysisSettings(
        store_url="",
        mlflow_tracking_uri=registry.url,
        artifacts_url=str(registry.root / "artifacts"),
        workers=1,
        allowed_file_roots=[str(registry.root)],  # the shuffled-stars CSV
    )
    conf = {
        "spec": {
            "company": {"name": "ReMarket", "domain": "www.example.com"},
            "source": source,
            "sentiment": {"method": "supervised", **sentiment},
            "topics": {"algorithm": "nmf", "numTopics": 3},
            "mlflow": {"registerModel": True},
        },
        "analysis": {"namespace": NS, "name": NAME, "runId": run_id},
    }
    results: dict[str, Any] | None = None
    for stage in STAGES:
        outcome = run_stage(
            stage, run_id=run_id, conf=conf if stage == "validate" else None, settings=settings
        )
        results = outcome.results or results
    assert results is not None
    return results


def shuffled_stars_csv(path: Path, size: int) -> Path:
    """Demo reviews whose stars are shuffled: a model learns nothing true from them."""
    from reviewops.demo import generate

    reviews, _ = generate(size, 5, ["en"])
    stars = [r.rating for r in reviews]
    random.Random(3).shuffle(stars)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "rating", "date"])
        for review, rating in zip(reviews, stars, strict=True):
            assert review.published is not None
            writer.writerow([review.text, rating, review.published.isoformat()])
    return path


DEMO = {"type": "demo", "languages": ["en"], "demoSize": 600, "maxReviews": 600, "seed": 5}


@pytest.fixture(scope="module")
def registrations(registry: Registry) -> dict[str, dict[str, Any]]:
    worse = shuffled_stars_csv(registry.root / "shuffled.csv", 600)
    return {
        "first": analyse(registry, "reg-1", DEMO)["model"],
        "worse": analyse(registry, "reg-2", {"type": "file", "path": str(worse), "maxReviews": 600})["model"],
        "equal": analyse(registry, "reg-3", DEMO)["model"],
    }


@pytest.mark.integration
@pytest.mark.slow
def test_publish_registers_each_model_and_moves_the_champion_only_when_not_worse(
    registry: Registry, registrations: dict[str, dict[str, Any]]
) -> None:
    from mlflow.tracking import MlflowClient

    first, worse, equal = registrations["first"], registrations["worse"], registrations["equal"]
    assert (first["name"], first["version"], first["promoted"], first["champion"]) == (MODEL, "1", True, "1")
    assert first["championBefore"] is None and "first registered" in first["reason"]

    assert (worse["version"], worse["promoted"], worse["champion"]) == ("2", False, "1")
    assert worse["macroF1"] < first["macroF1"] == worse["championMacroF1"]
    assert "champion kept" in worse["reason"]

    assert (equal["version"], equal["promoted"], equal["champion"]) == ("3", True, "3")
    assert equal["macroF1"] == first["macroF1"] == equal["championMacroF1"]  # same data, same model

    client = MlflowClient(registry.url, registry_uri=registry.url)
    assert client.get_registered_model(MODEL).aliases == {CHAMPION: "3"}
    versions = {v.version: v for v in client.search_model_versions(f"name = '{MODEL}'")}
    assert sorted(versions) == ["1", "2", "3"]
    kept = client.get_run(str(versions["2"].run_id))  # the decision is on the run, for the operator
    assert kept.data.tags["reviewops.run_id"] == "reg-2"
    assert kept.data.tags["reviewops.model.decision"] == "kept"
    assert kept.data.tags["reviewops.model.champion_before"] == "1"
    assert float(kept.data.tags["reviewops.model.champion_macro_f1"]) == first["macroF1"]
    assert versions["3"].tags["reviewops.model.decision"] == "promoted"


@pytest.mark.integration
@pytest.mark.slow
def test_a_retried_publish_repeats_its_decision_without_a_second_version(
    registry: Registry, registrations: dict[str, dict[str, Any]]
) -> None:
    from mlflow.tracking import MlflowClient

    settings = AnalysisSettings(
        store_url="",
        mlflow_tracking_uri=registry.url,
        artifacts_url=str(registry.root / "artifacts"),
        allowed_file_roots=[str(registry.root)],  # publish re-checks the conf (reg-2 read a CSV)
    )
    again = run_stage("publish", run_id="reg-2", settings=settings).results
    assert again is not None and again["model"] == registrations["worse"]
    client = MlflowClient(registry.url, registry_uri=registry.url)
    assert len(client.search_model_versions(f"name = '{MODEL}'")) == 3
    assert client.get_registered_model(MODEL).aliases == {CHAMPION: "3"}


@pytest.mark.integration
@pytest.mark.slow
def test_a_run_with_the_champion_alias_scores_with_the_champion_version(
    registry: Registry, registrations: dict[str, dict[str, Any]]
) -> None:
    import numpy as np

    from reviewops.sentiment.persist import load_model
    from reviewops.stages import records_io

    assert registrations["equal"]["champion"] == "3"
    results = analyse(registry, "reg-4", {**DEMO, "seed": 9}, modelUri=f"models:/{MODEL}@{CHAMPION}")
    assert results["model"]["scoredWith"] == f"models:/{MODEL}/3"
    assert results["model"]["registered"] is False  # nothing was trained: nothing to register

    store = RunArtifacts(str(registry.root / "artifacts"), "reg-4")
    assert store.marker("sentiment")["model_uri"] == f"models:/{MODEL}/3"
    n = int(store.marker("load")["reviews"])
    prepared = records_io.read_prepared(store, n)
    labels, _ = load_model(f"models:/{MODEL}/3").predict(prepared.texts)
    stored = store.read_arrays("sentiment", "scores.npz")["labels"]
    assert np.array_equal(stored, np.array(labels))
    from mlflow.tracking import MlflowClient

    run = MlflowClient(registry.url).get_run(str(results["mlflowRunId"]))
    assert run.data.tags["reviewops.sentiment.model_uri"] == f"models:/{MODEL}/3"
