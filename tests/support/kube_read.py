"""The read side of the emulator: label/field selectors and server-side printing (Tables).

`kubectl get` asks for `as=Table` and prints what the server computed, so the printer columns
of the CRD are only visible if the server evaluates them. The JSONPath subset understood here is
what printer columns use: `.field.sub` and `[?(@.key=="value")]` filters. `kubectl wait` and
`kubectl delete` watch one object through `fieldSelector=metadata.name=...`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_SET_TERM = re.compile(r"^([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)$")
_TERM = re.compile(r"^(!?)([A-Za-z0-9_./-]+)\s*(?:(==|=|!=)\s*(.*))?$")
_SEGMENT = re.compile(r'\.([A-Za-z0-9_-]+)|\[\?\(@\.([A-Za-z0-9_-]+)=="([^"]*)"\)\]')


def evaluate(path: str, obj: Any) -> list[Any]:
    """Values a printer-column JSONPath selects (empty when a step is missing)."""
    values = [obj]
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None:
            raise ValueError(f"unsupported JSONPath {path!r} at {path[position:]!r}")
        position = match.end()
        field, key, wanted = match.groups()
        if field is not None:
            values = [v[field] for v in values if isinstance(v, dict) and field in v]
        else:
            values = [
                item
                for v in values
                if isinstance(v, list)
                for item in v
                if isinstance(item, dict) and str(item.get(key)) == wanted
            ]
    return values


def _terms(selector: str) -> list[str]:
    # Commas separate terms, except inside the parentheses of `in (a,b)`.
    return [t.strip() for t in re.split(r",(?![^(]*\))", selector) if t.strip()]


def _label_term_matches(term: str, labels: dict[str, str]) -> bool:
    if match := _SET_TERM.match(term):
        key, operator, values = match.groups()
        inside = labels.get(key) in {v.strip() for v in values.split(",")}
        return inside if operator == "in" else not inside
    match = _TERM.match(term)
    if match is None:
        raise ValueError(f"unsupported label selector term {term!r}")
    negated, key, operator, value = match.groups()
    if operator is None:
        return (key in labels) != bool(negated)
    return (labels.get(key) == value) == (operator != "!=")


def _field_value(obj: dict[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def selected(obj: dict[str, Any], params: dict[str, str]) -> bool:
    """Whether an object matches the request's labelSelector and fieldSelector."""
    labels = obj.get("metadata", {}).get("labels") or {}
    if not all(_label_term_matches(t, labels) for t in _terms(params.get("labelSelector", ""))):
        return False
    for term in _terms(params.get("fieldSelector", "")):
        key, operator, value = re.match(r"^([^!=]+)(==|=|!=)(.*)$", term).groups()  # type: ignore[union-attr]
        if (_field_value(obj, key.strip()) == value.strip()) != (operator != "!="):
            return False
    return True


def human_duration(seconds: float) -> str:
    """Ages as kubectl shows them: 45s, 5m30s, 2h, 3d..."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    hours = minutes // 60
    if hours < 3:
        return f"{minutes}m"
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def _cell(column: dict[str, Any], obj: dict[str, Any]) -> Any:
    values = evaluate(column["jsonPath"], obj)
    if not values:
        return None
    if column["type"] == "date" and isinstance(values[0], str):
        when = dt.datetime.fromisoformat(values[0].replace("Z", "+00:00"))
        return human_duration((dt.datetime.now(dt.UTC) - when).total_seconds())
    if len(values) == 1:
        return values[0]
    return ",".join(str(v) for v in values)


def render_table(columns: list[dict[str, Any]], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The Table a real API server returns for these objects and printer columns."""
    definitions = [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name of the object",
            "priority": 0,
        }
    ] + [
        {
            "name": c["name"],
            "type": c["type"],
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": c.get("priority", 0),
        }
        for c in columns
    ]
    rows = [
        {
            "cells": [obj["metadata"]["name"], *(_cell(c, obj) for c in columns)],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj["metadata"],
            },
        }
        for obj in sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": ""},
        "columnDefinitions": definitions,
        "rows": rows,
    }
