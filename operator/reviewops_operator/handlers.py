"""Every kopf handler of the operator, and nothing else: `import reviewops_operator.handlers`.

Each handler is a thin wrapper: it turns kopf's kwargs into plain values, calls a typed function
(`reconcile.reconcile`, `finalize.finalize`), then writes the status patch, posts Events and
updates metrics. The timer interval is read from REVIEWOPS_RECONCILE_INTERVAL_SECONDS when this
module is imported; everything else is read and validated at operator startup.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from collections.abc import Iterable
from typing import Any

import kopf

from reviewops.spec import API_GROUP, API_VERSION, PLURAL
from reviewops_operator.errors import ExternalError
from reviewops_operator.finalize import finalize
from reviewops_operator.identity import FINALIZER, RUN_NOW_ANNOTATION, AnalysisRef
from reviewops_operator.metrics import MetricsServer
from reviewops_operator.reconcile import reconcile
from reviewops_operator.runtime import Runtime, build_runtime, object_memory, object_view
from reviewops_operator.schedule import Note
from reviewops_operator.settings import ConfigError, TimerSettings, get_settings
from reviewops_operator.status import bookkeeping_patch, status_patch

RESOURCE = (API_GROUP, API_VERSION, PLURAL)
_TIMER = TimerSettings()
_RUNTIME = "reviewops_runtime"
_SERVER = "reviewops_metrics_server"


def _runtime(memo: kopf.Memo) -> Runtime:
    runtime = memo.get(_RUNTIME)
    if not isinstance(runtime, Runtime):
        raise kopf.PermanentError("operator runtime missing: the startup handler did not run")
    return runtime


def backoff(retry: int, base: float, ceiling: float) -> float:
    """Exponential retry delay: base, 2·base, 4·base, ... capped at `ceiling`."""
    return float(min(base * (2 ** min(retry, 30)), ceiling))


def _post(
    body: kopf.Body, notes: Iterable[Note], already: frozenset[tuple[str, str]]
) -> frozenset[tuple[str, str]]:
    """Post Events not posted on the previous pass (a waiting or failing state says it once)."""
    current = frozenset((n.reason, n.message) for n in notes)
    for note in notes:
        if (note.reason, note.message) not in already:
            kopf.event(body, type=note.type, reason=note.reason, message=note.message)
    return current


def start_priority(now_ns: int | None = None) -> int:
    """A replica's derived peering priority: minus its start time in microseconds since the epoch.

    Replicas of one Deployment share their environment, so a configured priority would be equal
    for all of them, and kopf pauses *every* operator that sees a live peer of equal priority.
    Start times differ (to the microsecond), and the earlier start ranks higher: a new or
    restarted replica joins as a standby instead of pre-empting the active one. Negative, so an
    operator with kopf's default (0) or `--dev` (666) priority still pauses the replicas.
    """
    return -((time.time_ns() if now_ns is None else now_ns) // 1000)


def configure_peering(
    settings: kopf.OperatorSettings, name: str, priority: int | None, lifetime: int
) -> None:
    """kopf peering with a mandatory peering object: a replica starts paused, resumes only once it
    has read the peering object and found no live peer of higher (or equal) priority."""
    peering = settings.peering
    peering.standalone = False
    peering.mandatory = True  # `kopf.run(peering_name=...)` sets it too; an embedded kopf does not
    peering.name = name
    peering.priority = start_priority() if priority is None else priority
    peering.lifetime = lifetime


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, logger: kopf.Logger, **_: Any) -> None:
    """Validate settings, build clients and metrics, configure kopf, serve /metrics."""
    try:
        config = get_settings()
    except ConfigError as exc:
        raise kopf.PermanentError(str(exc)) from exc
    runtime = await asyncio.to_thread(build_runtime, config)
    memo[_RUNTIME] = runtime
    settings.persistence.finalizer = FINALIZER
    # kopf's own INFO logs ("Timer succeeded") would become an Event every interval per object;
    # our decisions are posted explicitly, so only kopf's warnings become Events.
    settings.posting.level = logging.WARNING
    settings.scanning.disabled = not config.scanning
    settings.peering.standalone = config.standalone
    if not config.standalone and config.peering_name:
        configure_peering(settings, config.peering_name, config.peering_priority,
                          config.peering_lifetime_seconds)  # fmt: skip
        logger.info(
            "peering in %r with priority %d (lifetime %d s): active only while no live peer has a higher one",
            settings.peering.name, settings.peering.priority, settings.peering.lifetime,
        )  # fmt: skip
    if config.metrics_port:
        server = MetricsServer(runtime.metrics, config.metrics_port)
        port = await server.start()
        memo[_SERVER] = server
        logger.info("serving /metrics on port %d", port)


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    """Stop the metrics server."""
    server = memo.get(_SERVER)
    if isinstance(server, MetricsServer):
        await server.stop()


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """REVIEWOPS_KUBERNETES_API_URL, else the kubeconfig named by KUBECONFIG (re-read at every
    login, so a rotated token is picked up), else in-cluster or the default kubeconfig."""
    url = get_settings().kubernetes_api_url
    if url is not None:
        return kopf.ConnectionInfo(server=url, insecure=url.startswith("http://"))
    info: kopf.ConnectionInfo | None
    if os.environ.get("KUBECONFIG"):
        info = kopf.login_with_kubeconfig(**kwargs)
    else:
        info = kopf.login_via_client(**kwargs)
    return info


@kopf.on.probe(id="reconciles")
def probe(memo: kopf.Memo, **_: Any) -> float:
    """Liveness detail: how many reconciles ran (proves the handlers are not stuck)."""
    runtime = _runtime(memo)
    return sum(
        sample.value
        for metric in runtime.metrics.reconciles.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def _reconcile(handler: str, body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, retry: int) -> None:
    runtime = _runtime(memo)
    settings = runtime.deps.settings
    memory = object_memory(memo)
    started = time.perf_counter()
    with memory.lock:
        obj = object_view(body, memory.status)
        outcome = reconcile(obj, runtime.deps, dt.datetime.now(dt.UTC), memory.verified_at)
        memory.status = outcome.status
        memory.verified_at = outcome.verified_at
        memory.last_notes = _post(body, outcome.notes, memory.last_notes)
    patch.status.update(status_patch(outcome.status, body.get("status")))
    patch.metadata.annotations.update(bookkeeping_patch(outcome.status, body.metadata.annotations))
    metrics = runtime.metrics
    metrics.reconciles.labels(handler).inc()
    metrics.reconcile_duration.labels(handler).observe(time.perf_counter() - started)
    metrics.observe(obj.ref, outcome.observations)
    metrics.publish(obj.ref, outcome.spec, outcome.status)
    for error in outcome.errors:
        metrics.reconcile_errors.labels(handler, error.reason).inc()
    problem = outcome.transient_error
    if problem is not None:
        delay = backoff(retry, settings.retry_base_seconds, settings.retry_max_seconds)
        raise kopf.TemporaryError(f"{problem.message} (retry in {delay:.0f}s)", delay=delay)


@kopf.on.resume(*RESOURCE)
@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE, field="spec")
def on_change(body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, retry: int, **_: Any) -> None:
    """Created, spec changed, or seen again after an operator restart."""
    _reconcile("change", body, memo, patch, retry)


@kopf.on.field(*RESOURCE, id="run-now", field=("metadata", "annotations", RUN_NOW_ANNOTATION))
def on_run_now(body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, retry: int, **_: Any) -> None:
    """The run-now annotation changed: reconcile now so the manual run starts without waiting."""
    _reconcile("run-now", body, memo, patch, retry)


@kopf.timer(
    *RESOURCE, interval=_TIMER.reconcile_interval_seconds, initial_delay=_TIMER.reconcile_interval_seconds
)
def on_timer(body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, retry: int = 0, **_: Any) -> None:
    """Level-based: poll runs, fire due slots, re-verify external objects now and then."""
    _reconcile("timer", body, memo, patch, retry)


@kopf.on.delete(*RESOURCE)
def on_delete(body: kopf.Body, memo: kopf.Memo, retry: int, **_: Any) -> None:
    """Finalizer: cancel or leave runs and keep or delete the experiment (deletionPolicy)."""
    runtime = _runtime(memo)
    settings = runtime.deps.settings
    memory = object_memory(memo)
    with memory.lock:
        obj = object_view(body, memory.status)
        farewell = finalize(obj, runtime.deps)
        memory.last_notes = _post(body, farewell.notes, memory.last_notes)
    runtime.metrics.reconciles.labels("delete").inc()
    transient: ExternalError | None = next((e for e in farewell.errors if e.transient), None)
    if transient is not None and retry < settings.delete_max_retries:
        delay = backoff(retry, settings.retry_base_seconds, settings.retry_max_seconds)
        raise kopf.TemporaryError(f"{transient.message} (retry in {delay:.0f}s)", delay=delay)
    if farewell.errors:
        _give_up(body, obj.ref, farewell.errors)
    runtime.metrics.forget(obj.ref)


def _give_up(body: kopf.Body, ref: AnalysisRef, errors: list[ExternalError]) -> None:
    # Blocking deletion forever (e.g. of a whole namespace) is worse than leaving litter behind.
    leftovers = "; ".join(e.message for e in errors)
    kopf.event(
        body,
        type="Warning",
        reason="CleanupIncomplete",
        message=f"{ref.key} deleted without full cleanup: {leftovers}",
    )
