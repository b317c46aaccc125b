"""Names of external objects: deterministic, valid for the system that receives them."""

from __future__ import annotations

import datetime as dt
import re

from reviewops.spec import parse_spec
from reviewops_operator.identity import (
    AnalysisRef,
    dashboard_configmap_name,
    dashboard_uid,
    experiment_name,
    format_time,
    label_value,
    manual_run_id,
    oneshot_run_id,
    parse_time,
    run_conf,
    scheduled_run_id,
    slot_of,
)

AIRFLOW_RUN_ID = re.compile(r"^[A-Za-z0-9_.~:+-]{1,250}$")
REF = AnalysisRef(namespace="insights", name="backmarket-en", uid="1234", generation=3)
SLOT = dt.datetime(2024, 3, 31, 4, 0, tzinfo=dt.UTC)


def test_scheduled_run_id_is_readable_and_deterministic() -> None:
    assert scheduled_run_id(REF, SLOT) == "ra__insights__backmarket-en__2024-03-31T04:00:00Z"
    paris = SLOT.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert scheduled_run_id(REF, paris) == scheduled_run_id(REF, SLOT)  # same instant, same id


def test_run_ids_fit_airflow_even_for_very_long_names() -> None:
    long_ref = AnalysisRef(namespace="n" * 63, name="x" * 253)
    other = AnalysisRef(namespace="n" * 63, name="x" * 252 + "y")
    ids = {scheduled_run_id(long_ref, SLOT), scheduled_run_id(other, SLOT)}
    assert len(ids) == 2  # truncation keeps them apart
    for run_id in [*ids, oneshot_run_id(long_ref, 7), manual_run_id(long_ref, "now")]:
        assert AIRFLOW_RUN_ID.match(run_id), run_id
        assert slot_of(run_id) in ("2024-03-31T04:00:00Z", "gen-7", "manual-now")


def test_manual_run_ids_are_safe_and_distinct_for_distinct_values() -> None:
    a = manual_run_id(REF, "2024-05-01 10:00 by alice@example.com")
    b = manual_run_id(REF, "2024-05-01 10:00 by alice#example.com")
    assert a != b
    assert AIRFLOW_RUN_ID.match(a) and AIRFLOW_RUN_ID.match(b)
    assert manual_run_id(REF, "v1") == "ra__insights__backmarket-en__manual-v1"


def test_run_conf_carries_the_validated_spec_and_identity() -> None:
    spec = parse_spec(
        {"company": {"name": "Back Market", "domain": "www.example.com"}, "schedule": "0 6 * * *"}
    )
    conf = run_conf(REF, spec, "2024-03-31T04:00:00Z", "rid")
    assert conf["spec"]["company"] == {"name": "Back Market", "domain": "www.example.com"}
    assert conf["spec"]["schedule"] == "0 6 * * *"
    assert conf["spec"]["concurrencyPolicy"] == "Forbid"  # camelCase, defaults filled in
    assert conf["analysis"] == {
        "namespace": "insights",
        "name": "backmarket-en",
        "uid": "1234",
        "generation": 3,
        "slot": "2024-03-31T04:00:00Z",
        "runId": "rid",
    }


def test_experiment_name_defaults_to_namespace_and_name_unless_overridden() -> None:
    plain = parse_spec({"company": {"name": "BM", "domain": "www.example.com"}})
    custom = parse_spec(
        {"company": {"name": "BM", "domain": "www.example.com"}, "mlflow": {"experimentName": "team/bm"}}
    )
    assert experiment_name(REF, plain) == "reviewops/insights/backmarket-en"
    assert experiment_name(REF, custom) == "reviewops/insights/team/bm"  # confined to its namespace
    for foreign in ("reviewops/other-team/backmarket-en", "Default"):
        spec = parse_spec(
            {"company": {"name": "BM", "domain": "www.example.com"}, "mlflow": {"experimentName": foreign}}
        )
        assert experiment_name(REF, spec) == f"reviewops/insights/{foreign}"
    mine = parse_spec(
        {
            "company": {"name": "BM", "domain": "www.example.com"},
            "mlflow": {"experimentName": "reviewops/insights/bm"},
        }
    )
    assert experiment_name(REF, mine) == "reviewops/insights/bm"
    # the DAG's publish logs to the same experiment the operator made
    from reviewops.spec import experiment_name_for

    assert experiment_name_for("insights/backmarket-en", custom) == experiment_name(REF, custom)
    assert experiment_name_for("local-slug", custom) == "team/bm"  # a local run: as given


def test_grafana_uid_is_stable_short_and_differs_per_analysis() -> None:
    uid = dashboard_uid(REF)
    assert uid == dashboard_uid(AnalysisRef(namespace="insights", name="backmarket-en", uid="other"))
    assert len(uid) <= 40 and re.match(r"^[a-z0-9-]+$", uid)
    assert uid != dashboard_uid(AnalysisRef(namespace="insights2", name="backmarket-en"))


def test_configmap_name_and_labels_are_valid_kubernetes_values() -> None:
    name = dashboard_configmap_name(AnalysisRef(namespace="a", name="x" * 253))
    assert len(name) <= 253 and re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", name)
    assert dashboard_configmap_name(REF) != dashboard_configmap_name(
        AnalysisRef(namespace="b", name=REF.name)
    )
    value = label_value("reviewops/" + "y" * 100)
    assert len(value) <= 63 and re.match(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", value)


def test_times_round_trip_in_kubernetes_format() -> None:
    moment = dt.datetime(2024, 3, 31, 4, 0, 1, 500, tzinfo=dt.UTC)
    assert format_time(moment) == "2024-03-31T04:00:01Z"
    assert parse_time("2024-03-31T04:00:01Z") == moment.replace(microsecond=0)
    assert parse_time("2024-03-31T06:00:01+02:00") == moment.replace(microsecond=0)
    assert parse_time(None) is None
