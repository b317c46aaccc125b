"""Two runs of the same analysis name the themes the same way.

Python randomises string hashing per process, so anything that follows a set's order (phrase
ids, and through them the ties between equal phrase scores) can change the labels from one
run to the next: seen on the demo data before phrase ids were sorted. Each run here is its
own `reviewops` process with a different PYTHONHASHSEED.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewops.topics.labels import SEPARATOR
from reviewops.topics.phrases import _PERFECT_AUXILIARIES

REVIEWOPS = Path(sys.executable).parent / "reviewops"


def _labels(arguments: list[str], out: Path, hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    command = [str(REVIEWOPS), *arguments, "--out", str(out)]
    command += ["--sentiment", "ratings", "--no-mlflow", "--store", "", "-q"]
    subprocess.run(command, check=True, env=env, capture_output=True, timeout=600)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    labels: list[str] = []
    for item in summary["topics"]["items"]:
        labels.append(item["label"])
        labels += [sub["label"] for sub in item.get("subthemes", [])]
    return labels


@pytest.mark.slow
def test_labels_do_not_depend_on_string_hashing(tmp_path: Path) -> None:
    first = _labels(["demo"], tmp_path / "a", "1")
    second = _labels(["demo"], tmp_path / "b", "2")
    assert len(first) > 20
    assert first == second


@pytest.mark.slow
def test_no_label_stops_after_a_have_auxiliary(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "reviews" / "fr_cdiscount_trustpilot.csv"
    arguments = ["analyze", "--input", str(source), "--text-column", "body", "--rating-column", "rating"]
    demo = [label for label in _labels(["demo"], tmp_path / "demo", "0") if label.endswith(" [fr]")]
    labels = [label.removesuffix(" [fr]") for label in demo] + _labels(arguments, tmp_path / "cdiscount", "0")
    parts = [part for label in labels for part in label.split(SEPARATOR)]
    assert len(parts) > 20
    cut = [part for part in parts if len(part.split()) > 2 and part.split()[-2] in _PERFECT_AUXILIARIES["fr"]]
    assert not cut, cut
