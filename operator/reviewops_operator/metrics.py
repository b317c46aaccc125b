"""Prometheus metrics of the operator and of every analysis, served on `/metrics`.

Schedule metrics mirror kube-state-metrics' CronJob metrics (kube_cronjob_next_schedule_time,
..._status_last_schedule_time, ..._status_last_successful_time, ..._spec_suspend,
..._status_active) so existing alerting habits carry over. Per-analysis series carry only
`namespace` and `name` (plus a fixed `result` / `sentiment` value): cardinality is bounded by the
number of ReviewAnalysis objects, and every series of an analysis is removed when it is deleted.

The label `namespace` is the analysis' namespace. A ServiceMonitor scrape adds its own `namespace`
target label (the operator pod's), so the chart's ServiceMonitor sets `honorLabels: true`, as
kube-prometheus-stack does for kube-state-metrics: the analysis' namespace is kept, and series
without one (reconciles, process) get the operator's. `_created` samples are not exposed: one per
labelled counter/histogram series, they double the per-analysis series count and say nothing a
dashboard or alert uses.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    generate_latest,
)
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from reviewops.spec import ReviewAnalysisSpec
from reviewops_operator.clients.base import SUCCESS
from reviewops_operator.identity import AnalysisRef, parse_time
from reviewops_operator.passes import Observations
from reviewops_operator.schedule import next_slot
from reviewops_operator.status import READY, SCHEDULED, AnalysisStatus, RunRecord

_LABELS = ("namespace", "name")
_RESULTS = ("success", "failed")
_SENTIMENTS = ("positive", "neutral", "negative")
_LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
_DURATION_BUCKETS = (30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400)


class _WithoutCreated:
    """A collector showing another registry's metrics minus their `_created` samples."""

    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        for metric in self._source.collect():
            kept = copy.copy(metric)
            kept.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield kept


class OperatorMetrics:
    """All metric families, in a registry of their own (several operators can share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._exposed = CollectorRegistry(auto_describe=False)
        self._exposed.register(_WithoutCreated(self.registry))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.reconciles = Counter("reviewops_reconcile", "Reconciles by handler.", ["handler"], registry=r)
        self.reconcile_errors = Counter(
            "reviewops_reconcile_errors",
            "Reconciles that met an error, by handler and reason.",
            ["handler", "reason"],
            registry=r,
        )
        self.reconcile_duration = Histogram(
            "reviewops_reconcile_duration_seconds", "Duration of one reconcile.", ["handler"], registry=r
        )
        self.next_schedule = Gauge(
            "reviewops_analysis_next_schedule_time_seconds",
            "Next schedule slot (Unix time).",
            _LABELS,
            registry=r,
        )
        self.last_schedule = Gauge(
            "reviewops_analysis_last_schedule_timestamp_seconds",
            "Last schedule slot acted on (Unix time).",
            _LABELS,
            registry=r,
        )
        self.last_success = Gauge(
            "reviewops_analysis_last_successful_time_seconds",
            "End of the last successful run (Unix time).",
            _LABELS,
            registry=r,
        )
        self.suspend = Gauge(
            "reviewops_analysis_spec_suspend", "1 when spec.suspend is true.", _LABELS, registry=r
        )
        self.active = Gauge("reviewops_analysis_active", "Runs queued or running.", _LABELS, registry=r)
        self.ready = Gauge(
            "reviewops_analysis_ready", "1 when the Ready condition is True.", _LABELS, registry=r
        )
        self.runs = Counter(
            "reviewops_analysis_runs", "Finished runs by result.", [*_LABELS, "result"], registry=r
        )
        self.start_latency = Histogram(
            "reviewops_analysis_trigger_to_running_seconds",
            "From the operator's trigger to Airflow starting the run (all analyses).",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.reviews = Gauge("reviewops_analysis_reviews", "Reviews in the latest run.", _LABELS, registry=r)
        self.mean_rating = Gauge(
            "reviewops_analysis_mean_rating", "Mean star rating in the latest run.", _LABELS, registry=r
        )
        self.sentiment = Gauge(
            "reviewops_analysis_sentiment_ratio",
            "Sentiment shares in the latest run.",
            [*_LABELS, "sentiment"],
            registry=r,
        )
        self.coherence = Gauge(
            "reviewops_analysis_topic_coherence", "Topic coherence of the latest run.", _LABELS, registry=r
        )
        self.macro_f1 = Gauge(
            "reviewops_analysis_sentiment_macro_f1",
            "Sentiment macro-F1 against stars, latest run.",
            _LABELS,
            registry=r,
        )
        self.schedule_interval = Gauge(
            "reviewops_analysis_schedule_interval_seconds",
            "Time between the next slot and the one after it (cron analyses that are not suspended).",
            _LABELS,
            registry=r,
        )
        self.scheduled_since = Gauge(
            "reviewops_analysis_scheduled_since_timestamp_seconds",
            "When scheduling last became active (Scheduled condition turned True; Unix time).",
            _LABELS,
            registry=r,
        )
        self.last_run_succeeded = Gauge(
            "reviewops_analysis_last_run_succeeded",
            "1 when the latest finished run succeeded, 0 when it failed.",
            _LABELS,
            registry=r,
        )
        self.last_run_duration = Gauge(
            "reviewops_analysis_last_run_duration_seconds",
            "Trigger to end of the latest finished run.",
            _LABELS,
            registry=r,
        )
        self.run_duration = Histogram(
            "reviewops_analysis_run_duration_seconds",
            "Trigger to end of finished runs (all analyses).",
            ["result"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        for result in _RESULTS:  # zeros from the start, so rate() sees the first run too
            self.run_duration.labels(result)
        self._per_analysis: tuple[Gauge, ...] = (
            self.next_schedule,
            self.last_schedule,
            self.last_success,
            self.suspend,
            self.active,
            self.ready,
            self.reviews,
            self.mean_rating,
            self.coherence,
            self.macro_f1,
            self.schedule_interval,
            self.scheduled_since,
            self.last_run_succeeded,
            self.last_run_duration,
        )

    def observe(self, ref: AnalysisRef, seen: Observations) -> None:
        """Count finished runs and record start latencies from one reconcile."""
        for record in seen.finished:
            self.runs.labels(ref.namespace, ref.name, record.state).inc()
            seconds = _duration(record)
            if seconds is not None:
                self.run_duration.labels(record.state).observe(seconds)
        for seconds in seen.start_latencies:
            self.start_latency.observe(seconds)

    def publish(self, ref: AnalysisRef, spec: ReviewAnalysisSpec | None, status: AnalysisStatus) -> None:
        """Set the per-analysis gauges from the status just computed."""
        labels = (ref.namespace, ref.name)
        for result in _RESULTS:  # expose zeros so increase() works from the first run on
            self.runs.labels(*labels, result)
        for gauge, text in (
            (self.next_schedule, status.next_schedule_time),
            (self.last_schedule, status.last_schedule_time),
            (self.last_success, status.last_successful_time),
        ):
            moment = parse_time(text)
            if moment is None:
                if _has(gauge, labels):
                    gauge.remove(*labels)
            else:
                gauge.labels(*labels).set(moment.timestamp())
        self._set_or_remove(self.schedule_interval, labels, _interval(spec, status))
        scheduled = status.condition(SCHEDULED)
        active = scheduled is not None and scheduled.status == "True"
        since = parse_time(scheduled.last_transition_time) if scheduled and active else None
        self._set_or_remove(self.scheduled_since, labels, since.timestamp() if since else None)
        latest = status.latest_finished()
        self._set_or_remove(
            self.last_run_succeeded, labels, None if latest is None else float(latest.state == SUCCESS)
        )
        self._set_or_remove(self.last_run_duration, labels, None if latest is None else _duration(latest))
        self.suspend.labels(*labels).set(1 if spec is not None and spec.suspend else 0)
        self.active.labels(*labels).set(len(status.runs_in_flight()))
        self.ready.labels(*labels).set(1 if status.is_true(READY) else 0)
        results = status.results or {}
        for gauge, key in (
            (self.reviews, "reviews"),
            (self.mean_rating, "meanRating"),
            (self.coherence, "coherence"),
            (self.macro_f1, "macroF1"),
        ):
            if isinstance(results.get(key), int | float):
                gauge.labels(*labels).set(float(results[key]))
        shares = results.get("sentiment") or {}
        for sentiment in _SENTIMENTS:
            if isinstance(shares.get(sentiment), int | float):
                self.sentiment.labels(*labels, sentiment).set(float(shares[sentiment]))

    def forget(self, ref: AnalysisRef) -> None:
        """Remove every series of a deleted analysis."""
        labels = (ref.namespace, ref.name)
        for gauge in self._per_analysis:
            if _has(gauge, labels):
                gauge.remove(*labels)
        for sentiment in _SENTIMENTS:
            if _has(self.sentiment, (*labels, sentiment)):
                self.sentiment.remove(*labels, sentiment)
        for result in _RESULTS:
            if _has(self.runs, (*labels, result)):
                self.runs.remove(*labels, result)

    @staticmethod
    def _set_or_remove(gauge: Gauge, labels: tuple[str, str], value: float | None) -> None:
        if value is not None:
            gauge.labels(*labels).set(value)
        elif _has(gauge, labels):
            gauge.remove(*labels)

    def render(self) -> bytes:
        """The exposition text of every metric, without `_created` samples."""
        return generate_latest(self._exposed)


def _duration(record: RunRecord) -> float | None:
    started, finished = parse_time(record.started_at), parse_time(record.finished_at)
    if started is None or finished is None or finished < started:
        return None
    return (finished - started).total_seconds()


def _interval(spec: ReviewAnalysisSpec | None, status: AnalysisStatus) -> float | None:
    """Seconds between the next slot and the one after it (None: one-shot, suspended, no slot)."""
    upcoming = parse_time(status.next_schedule_time)
    if spec is None or not spec.schedule or spec.suspend or upcoming is None:
        return None
    after = next_slot(spec.schedule, ZoneInfo(spec.time_zone), upcoming)
    return None if after is None else (after - upcoming).total_seconds()


def _has(metric: Gauge | Counter, labels: tuple[str, ...]) -> bool:
    # prometheus_client has no public membership test; its label map is the only source.
    return labels in metric._metrics


class MetricsServer:
    """`/metrics` over aiohttp inside kopf's event loop: no extra thread."""

    def __init__(self, metrics: OperatorMetrics, port: int, host: str = "0.0.0.0") -> None:
        self._metrics = metrics
        self._port = port
        self._host = host
        self._runner: Any = None

    async def start(self) -> int:
        """Start serving; returns the bound port (useful with port 0 in tests)."""
        from aiohttp import web

        async def metrics(_: web.Request) -> web.Response:
            body = await asyncio.to_thread(self._metrics.render)
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        addresses = self._runner.addresses
        return int(addresses[0][1]) if addresses else self._port

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
