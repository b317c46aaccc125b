"""Generate the Grafana dashboards from code with Grafana's grafana-foundation-sdk.

    uv run python dashboards/build.py          # write dashboards/*.json and the chart's copies
    uv run python dashboards/build.py --check  # exit 1 when a committed file differs

`analysis.json` is a template: the operator (`reviewops_operator.dashboard`) replaces the
`__RO_*__` tokens, which appear only in the dashboard's title and uid and in the current values
of its variables. Panels name their data source through the variables `${results}` (the results
store, Grafana's PostgreSQL data source) and `${prometheus}`, and the analysis through the hidden
constants `$namespace`, `$name` and `$analysis` (`namespace/name`, the `runs.analysis` value).
`operator.json` is used as is (a labelled ConfigMap of the chart).

The SDK has no builder for SQL queries; `SqlQuery` below is the query model of Grafana's
PostgreSQL data source (`rawSql`, `format`, `rawQuery`, `editorMode`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from grafana_foundation_sdk.builders import barchart, common, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as models
from grafana_foundation_sdk.models import prometheus as prom_models

HERE = Path(__file__).resolve().parent
CHART_COPY = HERE.parent / "charts" / "reviewops" / "dashboards"
POSTGRES = "grafana-postgresql-datasource"
RESULTS = models.DataSourceRef(type_val=POSTGRES, uid="${results}")
PROMETHEUS_ANALYSIS = models.DataSourceRef(type_val="prometheus", uid="${prometheus}")
PROMETHEUS_OPERATOR = models.DataSourceRef(type_val="prometheus", uid="${datasource}")
ANALYSIS = 'namespace="$namespace", name="$name"'  # PromQL matcher of this dashboard's analysis
NO_TOPIC = "(no topic)"  # topic label of reviews too short for a topic (topic_id -1)

SqlFormat = Literal["table", "time_series"]


class SqlQuery(cogvariants.Dataquery):
    """A raw SQL query of Grafana's SQL data sources."""

    def __init__(self, sql: str, fmt: SqlFormat, ref_id: str) -> None:
        self.sql, self.fmt, self.ref_id = sql.strip(), fmt, ref_id

    def to_json(self) -> dict[str, Any]:
        """The target as Grafana stores it."""
        return {
            "refId": self.ref_id,
            "datasource": {"type": POSTGRES, "uid": "${results}"},
            "editorMode": "code",
            "format": self.fmt,
            "rawQuery": True,
            "rawSql": self.sql,
        }


class Sql(cogbuilder.Builder[cogvariants.Dataquery]):
    """Builder of a `SqlQuery` (the SDK's builders take builders)."""

    def __init__(self, sql: str, fmt: SqlFormat = "table", ref_id: str = "A") -> None:
        self._query = SqlQuery(sql, fmt, ref_id)

    def build(self) -> SqlQuery:
        return self._query


def promql(expr: str, legend: str = "__auto", ref_id: str = "A", instant: bool = False) -> prom.Dataquery:
    """A Prometheus target."""
    query = prom.Dataquery().expr(expr).legend_format(legend).ref_id(ref_id)
    query = query.editor_mode(prom_models.QueryEditorMode.CODE)
    return query.instant() if instant else query.range()


# --- panel helpers ------------------------------------------------------------------------------

Target = cogbuilder.Builder[cogvariants.Dataquery]
PanelBuilder = cogbuilder.Builder[models.Panel]


def add(dash: db.Dashboard, row: str, *panels: PanelBuilder) -> db.Dashboard:
    """A row, then its panels (laid out left to right by the SDK)."""
    dash = dash.with_row(db.Row(row))
    for panel in panels:
        dash = dash.with_panel(panel)
    return dash


def _place(panel: Any, w: int, h: int) -> Any:
    return panel.span(w).height(h)


def stat_panel(
    title: str,
    source: models.DataSourceRef,
    targets: Sequence[Target],
    *,
    unit: str = "short",
    decimals: float | None = None,
    w: int = 4,
    h: int = 4,
    description: str = "",
    mappings: list[models.ValueMapping] | None = None,
) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(source)
        .targets(list(targets))
        .unit(unit)
        .graph_mode(common_models.BigValueGraphMode.NONE)
        .color_mode(common_models.BigValueColorMode.VALUE)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if decimals is not None:
        panel = panel.decimals(decimals)
    if mappings:
        panel = panel.mappings(mappings)
    result: stat.Panel = _place(panel, w, h)
    return result


def series_panel(
    title: str,
    source: models.DataSourceRef,
    targets: Sequence[Target],
    *,
    unit: str = "short",
    w: int = 12,
    h: int = 8,
    description: str = "",
    stacked: bool = False,
    bars: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(source)
        .targets(list(targets))
        .unit(unit)
        .fill_opacity(20 if not bars else 80)
        .line_width(1)
        .show_points(common_models.VisibilityMode.AUTO)
        .legend(
            common.VizLegendOptions()
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
    )
    if bars:
        panel = panel.draw_style(common_models.GraphDrawStyle.BARS)
    if stacked:
        panel = panel.stacking(common.StackingConfig().mode(common_models.StackingMode.NORMAL))
    if minimum is not None:
        panel = panel.min(minimum)
    if maximum is not None:
        panel = panel.max(maximum)
    result: timeseries.Panel = _place(panel, w, h)
    return result


def table_panel(
    title: str,
    source: models.DataSourceRef,
    targets: Sequence[Target],
    *,
    w: int = 12,
    h: int = 8,
    description: str = "",
    units: dict[str, str] | None = None,
    gauges: Sequence[str] = (),
    links: dict[str, tuple[str, str]] | None = None,
) -> table.Panel:
    panel = table.Panel().title(title).description(description).datasource(source).targets(list(targets))
    for column, unit in (units or {}).items():
        panel = panel.override_by_name(column, [models.DynamicConfigValue(id_val="unit", value=unit)])
    for column in gauges:
        panel = panel.override_by_name(
            column,
            [
                models.DynamicConfigValue(
                    id_val="custom.cellOptions",
                    value={"type": "gauge", "mode": "basic", "valueDisplayMode": "text"},
                ),
                models.DynamicConfigValue(id_val="min", value=0),
            ],
        )
    for column, (link_title, url) in (links or {}).items():
        panel = panel.override_by_name(
            column, [models.DynamicConfigValue(id_val="links", value=[{"title": link_title, "url": url}])]
        )
    result: table.Panel = _place(panel, w, h)
    return result


# --- the per-analysis dashboard -----------------------------------------------------------------

RUN = "'$run'"  # the selected run (default: the newest run of this analysis)
# Themes have two levels: a broad theme (parent_id NULL) and its sub-themes. A sub-theme is
# shown, filtered and drilled into as "broad › sub", so that its label reads in context and
# two broad themes' sub-themes with the same label stay apart.
SUB = " › "
# The display name of topic row `t` whose broad theme (when t is a sub-theme) is row `p`.
DISPLAY = f"COALESCE(p.label || '{SUB}' || t.label, t.label)"
PARENT_JOIN = "LEFT JOIN topics p ON p.run_id = t.run_id AND p.topic_id = t.parent_id"
# A scored review matches $topic by its broad theme (t) or by its sub-theme (st).
TOPIC_FILTER = f"(COALESCE(t.label, '{NO_TOPIC}') IN ($topic) OR t.label || '{SUB}' || st.label IN ($topic))"
SCORED_REVIEWS = """
FROM reviews rv
JOIN review_scores s ON s.run_id = rv.run_id AND s.review_id = rv.review_id
LEFT JOIN topics t ON t.run_id = s.run_id AND t.topic_id = s.topic_id
LEFT JOIN topics st ON st.run_id = s.run_id AND st.topic_id = s.subtopic_id
"""
TOP_TERMS = """(SELECT string_agg(tt.term, ', ' ORDER BY tt.rank) FROM topic_terms tt
   WHERE tt.run_id = t.run_id AND tt.topic_id = t.topic_id AND tt.rank <= 5)"""
# Broad themes by share, each followed by its sub-themes by share.
THEME_ORDER = (
    "COALESCE(p.share, t.share) DESC, COALESCE(p.topic_id, t.topic_id), t.parent_id IS NOT NULL, t.share DESC"
)


def _run_figure(column: str, label: str) -> Sql:
    return Sql(f'SELECT {column} AS "{label}" FROM runs WHERE run_id = {RUN}')


def _share(label: str) -> str:
    return f"avg(CASE WHEN s.sentiment = '{label}' THEN 1.0 ELSE 0.0 END)::float"


TOPICS_TABLE = f"""
WITH scored AS (
  SELECT rv.published, s.topic_id, s.subtopic_id
  FROM reviews rv
  JOIN review_scores s ON s.run_id = rv.run_id AND s.review_id = rv.review_id
  WHERE rv.run_id = {RUN} AND rv.published IS NOT NULL
), edge AS (
  SELECT max(published) AS newest, interval '$period days' AS span FROM scored
), flagged AS (
  SELECT sc.topic_id, sc.subtopic_id,
    (sc.published > e.newest - e.span)::int AS recent,
    (sc.published <= e.newest - e.span AND sc.published > e.newest - 2 * e.span)::int AS previous
  FROM scored sc CROSS JOIN edge e
), windows AS (
  SELECT topic_id, sum(recent) AS recent, sum(previous) AS previous FROM flagged GROUP BY topic_id
  UNION ALL
  SELECT subtopic_id, sum(recent), sum(previous) FROM flagged
  WHERE subtopic_id IS NOT NULL GROUP BY subtopic_id
), totals AS (
  SELECT NULLIF(sum(recent), 0) AS recent, NULLIF(sum(previous), 0) AS previous FROM flagged
)
SELECT {DISPLAY} AS "topic", t.size AS "reviews", t.share AS "share", t.mean_rating AS "mean stars",
  t.impact AS "impact (stars)", t.negative AS "negative share",
  w.recent::float / tot.recent AS "recent share", w.previous::float / tot.previous AS "previous share",
  w.recent::float / tot.recent - w.previous::float / tot.previous AS "share change",
  {TOP_TERMS} AS "top terms"
FROM topics t
{PARENT_JOIN}
LEFT JOIN windows w ON w.topic_id = t.topic_id
CROSS JOIN totals tot
WHERE t.run_id = {RUN}
ORDER BY {THEME_ORDER}
"""

TERMS_TABLE = f"""
SELECT {DISPLAY} AS "topic", tt.rank AS "rank", tt.term AS "term",
  tt.weight / NULLIF(max(tt.weight) OVER (PARTITION BY tt.topic_id), 0) AS "weight (relative)"
FROM topic_terms tt
JOIN topics t ON t.run_id = tt.run_id AND t.topic_id = tt.topic_id
{PARENT_JOIN}
WHERE tt.run_id = {RUN} AND tt.rank <= 10 AND {DISPLAY} IN ($topic)
ORDER BY {THEME_ORDER}, tt.rank
"""

NEGATIVE_DRIVERS = f"""
SELECT t.negative_driver_rank AS "rank", {DISPLAY} AS "topic", t.size AS "reviews",
  t.negative AS "negative share", t.impact AS "impact (stars)", {TOP_TERMS} AS "top terms"
FROM topics t
{PARENT_JOIN}
WHERE t.run_id = {RUN} AND t.negative_driver_rank IS NOT NULL
ORDER BY t.negative_driver_rank
"""

RECENT_NEGATIVE = f"""
SELECT rv.published AS "published", rv.rating AS "stars",
  COALESCE(t.label || COALESCE('{SUB}' || st.label, ''), '{NO_TOPIC}') AS "topic",
  rv.language AS "language", rv.title AS "title", substr(rv.text, 1, 300) AS "text",
  rv.origin AS "origin"
{SCORED_REVIEWS.strip()}
WHERE rv.run_id = {RUN} AND s.sentiment = 'negative' AND {TOPIC_FILTER}
ORDER BY rv.published DESC NULLS LAST
LIMIT 20
"""


def _per_bucket(select: str, where: str = "") -> Sql:
    sql = f"""
SELECT $__timeGroupAlias(rv.published, '$bucket'), {select}
{SCORED_REVIEWS.strip()}
WHERE rv.run_id = {RUN} AND $__timeFilter(rv.published){where}
GROUP BY 1
ORDER BY 1
"""
    return Sql(sql, "time_series")


def analysis_variables() -> list[cogbuilder.Builder[models.VariableModel]]:
    """Data sources, the analysis (constants set by the operator), run, topics, period, bucket."""
    return [
        db.DatasourceVariable("results")
        .label("Results store")
        .type(POSTGRES)
        .current(models.VariableOption(text="__RO_RESULTS_DS__", value="__RO_RESULTS_DS__")),
        db.DatasourceVariable("prometheus")
        .label("Prometheus")
        .type("prometheus")
        .current(models.VariableOption(text="__RO_PROMETHEUS_DS__", value="__RO_PROMETHEUS_DS__")),
        db.ConstantVariable("namespace").value("__RO_NAMESPACE__"),
        db.ConstantVariable("name").value("__RO_NAME__"),
        db.ConstantVariable("analysis").value("__RO_ANALYSIS__"),
        db.QueryVariable("run")
        .label("Run")
        .description("Runs of this analysis, newest first (the newest is selected on load).")
        .datasource(RESULTS)
        .query(
            "SELECT run_id AS __value, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') "
            "|| ' UTC · ' || run_id AS __text FROM runs WHERE analysis = '$analysis' "
            "ORDER BY created_at DESC LIMIT 100"
        )
        .refresh(models.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(models.VariableSort.DISABLED),
        db.QueryVariable("topic")
        .label("Topic")
        .description("Filters the term table, topic volume and negative reviews (drill-down).")
        .datasource(RESULTS)
        .query(
            f"SELECT name AS __text, name AS __value FROM (SELECT {DISPLAY} AS name, "
            "COALESCE(p.share, t.share) AS theme_share, COALESCE(p.topic_id, t.topic_id) AS theme, "
            f"t.parent_id IS NOT NULL AS sub, t.share FROM topics t {PARENT_JOIN} WHERE t.run_id = '$run' "
            f"UNION ALL SELECT '{NO_TOPIC}', -1, -1, false, -1) AS x "
            "ORDER BY theme_share DESC, theme, sub, share DESC"
        )
        .refresh(models.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(models.VariableSort.DISABLED)
        .multi(True)
        .include_all(True)
        .current(models.VariableOption(text="All", value="$__all")),
        db.CustomVariable("period")
        .label("Compare last N days")
        .description("Topic share change: the newest N days of reviews against the N days before.")
        .values("30,90,180")
        .current(models.VariableOption(text="90", value="90")),
        db.CustomVariable("bucket")
        .label("Bucket")
        .values("1d,1w,30d")
        .current(models.VariableOption(text="1w", value="1w")),
    ]


def analysis_dashboard() -> db.Dashboard:
    """The per-analysis dashboard template (see dashboards/README.md for each panel)."""
    pct = "percentunit"
    dash = (
        db.Dashboard("__RO_TITLE__")
        .uid("__RO_UID__")
        .tags(["reviewops", "analysis"])
        .description(
            "One ReviewAnalysis: results of the selected run (results store) and its schedule and runs "
            "(operator metrics). Generated by dashboards/build.py; provisioned by the reviewops operator."
        )
        .time("now-2y", "now")
        .refresh("")
        .timezone("utc")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .readonly()
        .variables(analysis_variables())
    )
    dash = add(
        dash,
        "Selected run (default: the newest)",
        stat_panel("Reviews analysed", RESULTS, [_run_figure("reviews", "reviews")], w=4),
        stat_panel("Mean rating", RESULTS, [_run_figure("mean_rating", "mean rating")], decimals=2, w=4),
        stat_panel(
            "Net sentiment",
            RESULTS,
            [_run_figure("net_sentiment", "net sentiment")],
            unit=pct,
            decimals=1,
            w=4,
            description="Share of positive reviews minus share of negative reviews.",
        ),
        stat_panel(
            "Negative share", RESULTS, [_run_figure("negative", "negative")], unit=pct, decimals=1, w=4
        ),
        stat_panel(
            "Hours since last success",
            PROMETHEUS_ANALYSIS,
            [
                promql(
                    f"(time() - reviewops_analysis_last_successful_time_seconds{{{ANALYSIS}}}) / 3600",
                    "hours",
                    instant=True,
                )
            ],
            unit="h",
            decimals=1,
            w=4,
        ),
        stat_panel(
            "Latest finished run",
            PROMETHEUS_ANALYSIS,
            [promql(f"reviewops_analysis_last_run_succeeded{{{ANALYSIS}}}", "result", instant=True)],
            w=4,
            mappings=[_result_mapping()],
        ),
    )

    dash = add(
        dash,
        "Volume and satisfaction over time (reviews of the selected run)",
        series_panel(
            "Reviews per $bucket",
            RESULTS,
            [_per_bucket('count(*) AS "reviews"')],
            bars=True,
        ),
        series_panel(
            "Mean rating per $bucket",
            RESULTS,
            [_per_bucket('avg(rv.rating)::float AS "mean rating"', " AND rv.rating IS NOT NULL")],
            minimum=1,
            maximum=5,
        ),
        series_panel(
            "Sentiment shares per $bucket",
            RESULTS,
            [
                _per_bucket(
                    f'{_share("negative")} AS "negative", {_share("neutral")} AS "neutral", '
                    f'{_share("positive")} AS "positive"'
                )
            ],
            unit=pct,
            stacked=True,
            minimum=0,
            maximum=1,
        ),
        series_panel(
            "Net sentiment per $bucket",
            RESULTS,
            [_per_bucket(f'({_share("positive")} - {_share("negative")}) AS "net sentiment"')],
            unit=pct,
            minimum=-1,
            maximum=1,
        ),
    )

    drill = (
        "/d/${__dashboard.uid}/${__dashboard}?${__url_time_range}&${run:queryparam}&var-topic=${__value.raw}"
    )
    dash = add(
        dash,
        "Topics (selected run)",
        _topic_share_panel(),
        table_panel(
            "Topics: share, stars, impact, change vs previous period",
            RESULTS,
            [Sql(TOPICS_TABLE)],
            w=16,
            h=9,
            description=(
                "impact = overall mean stars − topic mean stars (positive drags the rating down). "
                "Recent/previous share: the topic's share of the newest $period days of reviews and of "
                "the $period days before. Click a topic to filter the panels below."
            ),
            units={
                "share": pct,
                "negative share": pct,
                "recent share": pct,
                "previous share": pct,
                "share change": pct,
            },
            links={"topic": ("Drill down: ${__value.raw}", drill)},
        ),
        table_panel(
            "Top terms per topic (weighted)",
            RESULTS,
            [Sql(TERMS_TABLE)],
            w=8,
            h=10,
            description=(
                "The 10 highest-weighted terms of each topic, the weight relative to the topic's "
                "strongest term (a weighted term table instead of a word cloud: core panels only)."
            ),
            gauges=["weight (relative)"],
        ),
        series_panel(
            "Topic volume per $bucket",
            RESULTS,
            [
                Sql(
                    f"""
SELECT $__timeGroupAlias(rv.published, '$bucket'), COALESCE(t.label, '{NO_TOPIC}') AS metric,
  count(*) AS "reviews"
{SCORED_REVIEWS.strip()}
WHERE rv.run_id = {RUN} AND $__timeFilter(rv.published) AND {TOPIC_FILTER}
GROUP BY 1, 2
ORDER BY 1
""",
                    "time_series",
                )
            ],
            w=16,
            h=10,
            stacked=True,
        ),
        table_panel(
            "Negative drivers",
            RESULTS,
            [Sql(NEGATIVE_DRIVERS)],
            w=12,
            description=(
                "Topics with more negative reviews than their size predicts, strongest first. "
                "negative share = share of the topic's reviews that are negative."
            ),
            units={"negative share": pct},
            links={"topic": ("Drill down: ${__value.raw}", drill)},
        ),
        table_panel(
            "Recent negative reviews",
            RESULTS,
            [Sql(RECENT_NEGATIVE)],
            w=12,
            description="The 20 latest negative reviews of the selected topics ($topic).",
        ),
    )

    dash = add(
        dash,
        "Model health",
        series_panel(
            "Model quality per run",
            RESULTS,
            [
                Sql(
                    """
SELECT created_at AS "time", coherence AS "topic coherence", diversity AS "topic diversity",
  macro_f1 AS "sentiment macro-F1"
FROM runs
WHERE analysis = '$analysis' AND $__timeFilter(created_at)
ORDER BY 1
""",
                    "time_series",
                )
            ],
            w=16,
            maximum=1,
            description=(
                "One point per run (results store). Coherence is NPMI (-1..1, 0 = unrelated terms); "
                "diversity the share of unique top terms; macro-F1 is measured against star labels."
            ),
        ),
        stat_panel(
            "Latest model metrics",
            PROMETHEUS_ANALYSIS,
            [
                promql(f"reviewops_analysis_topic_coherence{{{ANALYSIS}}}", "coherence", "A", True),
                promql(f"reviewops_analysis_sentiment_macro_f1{{{ANALYSIS}}}", "macro-F1", "B", True),
            ],
            decimals=3,
            w=8,
            h=8,
        ),
    )

    dash = add(
        dash,
        "Runs (operator metrics)",
        _run_status_panel(),
        series_panel(
            "Run duration",
            PROMETHEUS_ANALYSIS,
            [promql(f"reviewops_analysis_last_run_duration_seconds{{{ANALYSIS}}}", "trigger to end")],
            unit="s",
            w=12,
            description="Trigger to end of the latest finished run, as it changes run after run.",
        ),
        series_panel(
            "Runs by result (24 h)",
            PROMETHEUS_ANALYSIS,
            [
                promql(
                    f"sum by (result) (increase(reviewops_analysis_runs_total{{{ANALYSIS}}}[1d]))",
                    "{{result}}",
                )
            ],
            w=8,
        ),
        stat_panel(
            "Next run in",
            PROMETHEUS_ANALYSIS,
            [promql(f"reviewops_analysis_next_schedule_time_seconds{{{ANALYSIS}}} - time()", instant=True)],
            unit="s",
            w=4,
        ),
        stat_panel(
            "Active runs",
            PROMETHEUS_ANALYSIS,
            [promql(f"reviewops_analysis_active{{{ANALYSIS}}}", instant=True)],
            w=4,
        ),
        stat_panel(
            "Suspended",
            PROMETHEUS_ANALYSIS,
            [promql(f"reviewops_analysis_spec_suspend{{{ANALYSIS}}}", instant=True)],
            w=4,
            mappings=[_yes_no_mapping()],
        ),
        stat_panel(
            "Schedule interval",
            PROMETHEUS_ANALYSIS,
            [promql(f"reviewops_analysis_schedule_interval_seconds{{{ANALYSIS}}}", instant=True)],
            unit="s",
            w=4,
        ),
    )
    return dash


def _result_mapping() -> models.ValueMap:
    return models.ValueMap(
        options={
            "0": models.ValueMappingResult(text="Failed", color="red", index=0),
            "1": models.ValueMappingResult(text="Succeeded", color="green", index=1),
        }
    )


def _yes_no_mapping() -> models.ValueMap:
    return models.ValueMap(
        options={
            "0": models.ValueMappingResult(text="No", color="green", index=0),
            "1": models.ValueMappingResult(text="Yes", color="orange", index=1),
        }
    )


def _topic_share_panel() -> barchart.Panel:
    panel = (
        barchart.Panel()
        .title("Topic share")
        .datasource(RESULTS)
        .with_target(
            Sql(
                f"""
SELECT t.label AS "topic", t.share::float AS "share"
FROM topics t
WHERE t.run_id = {RUN} AND t.parent_id IS NULL
ORDER BY t.share DESC
"""
            )
        )
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .x_field("topic")
        .unit("percentunit")
        .show_value(common_models.VisibilityMode.AUTO)
    )
    result: barchart.Panel = _place(panel, 8, 9)
    return result


def _run_status_panel() -> statetimeline.Panel:
    panel = (
        statetimeline.Panel()
        .title("Run status")
        .description("Running: runs queued or running. Latest finished run: Succeeded or Failed.")
        .datasource(PROMETHEUS_ANALYSIS)
        .with_target(promql(f"reviewops_analysis_active{{{ANALYSIS}}} > bool 0", "running", "A"))
        .with_target(
            promql(f"reviewops_analysis_last_run_succeeded{{{ANALYSIS}}}", "latest finished run", "B")
        )
        .mappings([_result_mapping()])
        .override_by_name(
            "running",
            [
                models.DynamicConfigValue(
                    id_val="mappings",
                    value=[
                        {
                            "type": "value",
                            "options": {
                                "0": {"text": "Idle", "color": "transparent", "index": 0},
                                "1": {"text": "Running", "color": "blue", "index": 1},
                            },
                        }
                    ],
                )
            ],
        )
    )
    result: statetimeline.Panel = _place(panel, 12, 6)
    return result


# --- the operator dashboard ---------------------------------------------------------------------

JOB = 'job=~"$job"'
OPERATOR_POD = 'job=~"$job", namespace=~"$namespace"'


def operator_variables() -> list[cogbuilder.Builder[models.VariableModel]]:
    """Prometheus data source, the operator's job (Service) and namespace."""
    return [
        db.DatasourceVariable("datasource").label("Prometheus").type("prometheus"),
        db.QueryVariable("job")
        .label("Job")
        .datasource(PROMETHEUS_OPERATOR)
        .query({"query": "label_values(reviewops_reconcile_total, job)", "refId": "job"})
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .include_all(True)
        .all_value(".*")
        .current(models.VariableOption(text="All", value="$__all")),
        db.QueryVariable("namespace")
        .label("Operator namespace")
        .datasource(PROMETHEUS_OPERATOR)
        .query({"query": 'label_values(reviewops_reconcile_total{job=~"$job"}, namespace)', "refId": "ns"})
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .include_all(True)
        .all_value(".*")
        .current(models.VariableOption(text="All", value="$__all")),
    ]


def _quantiles(metric: str, by: str = "le", window: str = "$__rate_interval") -> list[prom.Dataquery]:
    return [
        promql(
            f"histogram_quantile({q}, sum by ({by}) (rate({metric}_bucket{{{JOB}}}[{window}])))",
            f"p{round(q * 100)}",
            ref,
        )
        for q, ref in ((0.5, "A"), (0.95, "B"))
    ]


OVERDUE = (
    'time() - ((reviewops_analysis_last_successful_time_seconds{job=~"$job"}'
    ' >= reviewops_analysis_scheduled_since_timestamp_seconds{job=~"$job"})'
    ' or reviewops_analysis_scheduled_since_timestamp_seconds{job=~"$job"})'
    ' > 2 * reviewops_analysis_schedule_interval_seconds{job=~"$job"}'
)


def operator_dashboard() -> db.Dashboard:
    """The operator and all analyses (Prometheus only)."""
    op = PROMETHEUS_OPERATOR
    dash = (
        db.Dashboard("ReviewOps operator")
        .uid("reviewops-operator")
        .tags(["reviewops", "operator"])
        .description(
            "The reviewops operator: analyses, runs, reconcile loop and the operator pod. "
            "Generated by dashboards/build.py."
        )
        .time("now-6h", "now")
        .refresh("1m")
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
        .readonly()
        .variables(operator_variables())
    )
    dash = add(
        dash,
        "Analyses",
        stat_panel(
            "Analyses", op, [promql(f"count(reviewops_analysis_spec_suspend{{{JOB}}})", instant=True)]
        ),
        stat_panel(
            "Not ready",
            op,
            [promql(f"count(reviewops_analysis_ready{{{JOB}}} == 0) or vector(0)", instant=True)],
        ),
        stat_panel("Suspended", op, [promql(f"sum(reviewops_analysis_spec_suspend{{{JOB}}})", instant=True)]),
        stat_panel("Active runs", op, [promql(f"sum(reviewops_analysis_active{{{JOB}}})", instant=True)]),
        stat_panel(
            "Latest run failed",
            op,
            [
                promql(
                    f"count(reviewops_analysis_last_run_succeeded{{{JOB}}} == 0) or vector(0)", instant=True
                )
            ],
        ),
        stat_panel(
            "Overdue (no success in 2 intervals)",
            op,
            [promql(f"count({OVERDUE}) or vector(0)", instant=True)],
        ),
        series_panel(
            "Runs finished per hour by result",
            op,
            [promql(f"sum by (result) (increase(reviewops_analysis_runs_total{{{JOB}}}[1h]))", "{{result}}")],
            w=8,
        ),
        series_panel(
            "Run duration (trigger to end)",
            op,
            _quantiles("reviewops_analysis_run_duration_seconds", window="1h"),
            unit="s",
            w=8,
        ),
        table_panel(
            "Hours since last success",
            op,
            [
                promql(
                    f"sort_desc((time() - reviewops_analysis_last_successful_time_seconds{{{JOB}}}) / 3600)",
                    "{{namespace}}/{{name}}",
                    instant=True,
                )
            ],
            w=8,
        ),
    )

    dash = add(
        dash,
        "Reconcile loop",
        series_panel(
            "Reconciles per second",
            op,
            [
                promql(
                    f"sum by (handler) (rate(reviewops_reconcile_total{{{JOB}}}[$__rate_interval]))",
                    "{{handler}}",
                )
            ],
            unit="ops",
            w=8,
        ),
        series_panel(
            "Reconcile errors per second",
            op,
            [
                promql(
                    f"sum by (reason) (rate(reviewops_reconcile_errors_total{{{JOB}}}[$__rate_interval]))",
                    "{{reason}}",
                )
            ],
            unit="ops",
            w=8,
        ),
        series_panel(
            "Reconcile duration",
            op,
            _quantiles("reviewops_reconcile_duration_seconds"),
            unit="s",
            w=8,
        ),
        series_panel(
            "Trigger-to-running latency",
            op,
            _quantiles("reviewops_analysis_trigger_to_running_seconds", window="1h"),
            unit="s",
            w=12,
        ),
        series_panel(
            "Ready analyses",
            op,
            [promql(f"sum(reviewops_analysis_ready{{{JOB}}})", "ready")],
            w=12,
        ),
    )

    dash = add(
        dash,
        "Operator pod",
        series_panel(
            "Operator up",
            op,
            [promql(f"up{{{OPERATOR_POD}}}", "{{pod}}")],
            w=6,
            minimum=0,
            maximum=1,
        ),
        series_panel(
            "Memory (RSS)",
            op,
            [promql(f"process_resident_memory_bytes{{{OPERATOR_POD}}}", "{{pod}}")],
            unit="bytes",
            w=6,
        ),
        series_panel(
            "CPU",
            op,
            [promql(f"rate(process_cpu_seconds_total{{{OPERATOR_POD}}}[$__rate_interval])", "{{pod}}")],
            unit="cores",
            w=6,
        ),
        series_panel(
            "Container memory vs limit (cAdvisor, kube-state-metrics)",
            op,
            [
                promql(
                    'sum by (pod) (container_memory_working_set_bytes{namespace=~"$namespace", '
                    'container="operator", pod=~".*reviewops.*"})',
                    "{{pod}} working set",
                    "A",
                ),
                promql(
                    'max by (pod) (kube_pod_container_resource_limits{namespace=~"$namespace", '
                    'container="operator", pod=~".*reviewops.*", resource="memory"})',
                    "{{pod}} limit",
                    "B",
                ),
            ],
            unit="bytes",
            w=6,
            description="Needs the kubelet's cAdvisor and kube-state-metrics (kube-prometheus-stack).",
        ),
    )
    return dash


# --- output -------------------------------------------------------------------------------------


def to_dict(dashboard: db.Dashboard) -> dict[str, Any]:
    """The dashboard as Grafana JSON, with panel ids numbered in order."""
    data: dict[str, Any] = json.loads(json.dumps(dashboard.build(), cls=JSONEncoder))
    for number, panel in enumerate(data["panels"], start=1):
        panel["id"] = number
    data["id"] = None
    return data


def outputs() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {
        name: json.dumps(to_dict(build()), indent=2, ensure_ascii=False) + "\n"
        for name, build in (("analysis.json", analysis_dashboard), ("operator.json", operator_dashboard))
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with --check, compare) dashboards/*.json and charts/reviewops/dashboards/*.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when a committed file differs")
    args = parser.parse_args(argv)
    stale = []
    for name, text in outputs().items():
        for folder in (HERE, CHART_COPY):
            path = folder / name
            current = path.read_text(encoding="utf-8") if path.is_file() else None
            if current == text:
                continue
            if args.check:
                stale.append(str(path))
            else:
                folder.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                print(f"wrote {path}")
    if stale:
        print("out of date (run: uv run python dashboards/build.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
