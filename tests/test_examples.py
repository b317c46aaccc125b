"""examples/*.yaml: valid for both the API server (CRD) and the CLI (model), and what they claim."""

from __future__ import annotations

from pathlib import Path

import pytest
from croniter import croniter

from reviewops.spec import load_manifest
from tests.support import crd_schema
from tests.support.kube_client import load_manifests

FOLDER = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(FOLDER.glob("*.yaml"))
SCHEMA = crd_schema.object_schema(crd_schema.load_crd())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_accepted_by_the_api_server_and_the_cli(path: Path) -> None:
    (doc,) = load_manifests(path)
    stored = crd_schema.admit(SCHEMA, doc, strict=True)
    manifest = load_manifest(path)
    assert manifest.metadata.name == doc["metadata"]["name"] == stored["metadata"]["name"]
    assert manifest.metadata.namespace == doc["metadata"]["namespace"]
    assert path.read_text(encoding="utf-8").startswith("#"), (
        "each example opens with a comment saying what it is"
    )


def test_examples_have_distinct_names() -> None:
    names = [load_manifest(p).metadata.name for p in EXAMPLES]
    assert len(names) == len(set(names))


def test_the_back_market_english_daily_example() -> None:
    spec = load_manifest(FOLDER / "backmarket-en.yaml").spec
    assert spec.company.domain == "www.backmarket.com" and spec.source.languages == ["en"]
    assert (spec.schedule, spec.time_zone) == ("0 6 * * *", "Europe/Paris")
    assert croniter(spec.schedule).get_next(float) - croniter(spec.schedule).get_prev(float) == 86400
    assert (spec.sentiment.method, spec.topics.algorithm, spec.topics.num_topics) == (
        "supervised",
        "nmf",
        "auto",
    )


def test_a_french_example_and_a_one_shot_exist() -> None:
    specs = [load_manifest(p).spec for p in EXAMPLES]
    assert any(s.source.languages == ["fr"] and s.schedule for s in specs)
    assert any(s.schedule is None for s in specs)
