"""What Grafana does to a panel's query before a data source runs it, without Grafana.

No Grafana server can be installed here, so the dashboards are tested by running every panel's
query against the real PostgreSQL / Prometheus it points at, after the same two rewrites Grafana
makes:

1. the frontend's template service replaces dashboard variables (`$var`, `${var}`,
   `${var:queryparam}` ...) with the data source's formatting: SQL data sources quote the values
   of multi-value / include-All variables (`'a','b'`) and only double single quotes otherwise
   (public/app/features/plugins/sql/datasource/SqlDatasource.ts, `interpolateVariable`);
   Prometheus inserts single values as they are and a custom All value raw;
2. the PostgreSQL backend expands its macros (pkg/tsdb/grafana-postgresql-datasource/macros.go):
   `$__timeFilter(c)` → `c BETWEEN '<from RFC 3339>' AND '<to>'`, `$__timeGroup(c,'1w')` →
   `floor(extract(epoch from c)/604800)*604800`, `$__timeGroupAlias` adds ` AS "time"`, ...

Variables are resolved in dashboard order as Grafana does on load: constants and custom values
from the JSON, query variables by running their query (first option, or every option for All).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

Dashboard = Mapping[str, Any]

# templateSrv's variable syntax: $var, [[var]] / [[var:fmt]], ${var} / ${var.field} / ${var:fmt}
_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}")
# macros.go: `\$([_a-zA-Z0-9]+)\(([^\)]*)\)`
_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")
_UNITS = {
    "s": "seconds",
    "m": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
    "M": "months",
    "y": "years",
}


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's time picker."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of(cls, dashboard: Dashboard, now: dt.datetime | None = None) -> TimeRange:
        """The dashboard's default range (`time.from` / `time.to`, e.g. now-2y .. now)."""
        now = now or dt.datetime.now(dt.UTC)
        return cls(relative(dashboard["time"]["from"], now), relative(dashboard["time"]["to"], now))


def relative(expression: str, now: dt.datetime) -> dt.datetime:
    """Grafana's date math for `now`, `now-6h`, `now-2y` (no rounding `/d`)."""
    match = re.fullmatch(r"now(?:([-+])(\d+)([smhdwMy]))?", expression)
    if match is None:
        raise ValueError(f"unsupported time expression {expression!r}")
    if match.group(1) is None:
        return now
    amount = int(match.group(2))
    step = relativedelta(**{_UNITS[match.group(3)]: amount})  # type: ignore[arg-type]
    moment: dt.datetime = now - step if match.group(1) == "-" else now + step
    return moment


@dataclass
class Variable:
    """A resolved dashboard variable: its selected value(s) and how Grafana formats them."""

    name: str
    value: str | list[str]
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None  # the custom All value, inserted raw
    options: list[str] = field(default_factory=list)


def parse_interval(text: str) -> float:
    """gtime.ParseInterval for the units the dashboards use (ms, s, m, h, d, w, y)."""
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text.strip("'"))
    if match is None:
        raise ValueError(f"error parsing interval {text}")
    seconds = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return int(match.group(1)) * seconds[match.group(2)]


def go_float(value: float) -> str:
    """Go's `%v` of a float64 (strconv 'g' with the shortest digits; exponent form when the decimal
    exponent is < -4 or >= 6): 604800 → 604800, 2592000 → 2.592e+06."""
    if value == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # digits before the decimal point
    exp = point - 1
    minus = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return minus + digits + "0" * (point - len(digits))
    return f"{minus}{digits[:point]}.{digits[point:]}"


def _rfc3339(moment: dt.datetime) -> str:
    # Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros, then Z.
    text = moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def expand_postgres_macros(sql: str, time_range: TimeRange) -> str:
    """The PostgreSQL backend's macro engine (no TimescaleDB)."""

    def evaluate(name: str, args: list[str], sql: str, whole: str) -> str:
        if name == "__timeGroup":
            index = sql.find(whole)
            if index >= 0 and sql[index + len(whole) : index + len(whole) + 1] == ",":
                name = "__timeGroupAlias"  # pre-5.3 compatibility, as macros.go
        if name == "__time":
            return f'{args[0]} AS "time"'
        if name == "__timeEpoch":
            return f'extract(epoch from {args[0]}) as "time"'
        if name == "__timeFilter":
            return f"{args[0]} BETWEEN '{_rfc3339(time_range.start)}' AND '{_rfc3339(time_range.end)}'"
        if name == "__timeFrom":
            return f"'{_rfc3339(time_range.start)}'"
        if name == "__timeTo":
            return f"'{_rfc3339(time_range.end)}'"
        if name in ("__timeGroup", "__timeGroupAlias"):
            if len(args) < 2:
                raise ValueError(f"macro {name} needs time column and interval and optional fill value")
            seconds = go_float(parse_interval(args[1]))
            expanded = f"floor(extract(epoch from {args[0]})/{seconds})*{seconds}"
            return expanded + (' AS "time"' if name == "__timeGroupAlias" else "")
        if name == "__unixEpochFilter":
            start, end = int(time_range.start.timestamp()), int(time_range.end.timestamp())
            return f"{args[0]} >= {start} AND {args[0]} <= {end}"
        raise ValueError(f'unknown macro "{name}"')

    def replace(match: re.Match[str]) -> str:
        args = [arg.strip(" ") for arg in match.group(2).split(",")]
        return evaluate(match.group(1), args, sql, match.group(0))

    return _MACRO.sub(replace, sql)


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def format_sql(variable: Variable) -> str:
    """SqlDatasource.interpolateVariable."""
    value = variable.value
    if isinstance(value, list):
        return ",".join(_sql_literal(v) for v in value)
    if variable.multi or variable.include_all:
        return _sql_literal(value)
    return value.replace("'", "''")


def format_prometheus(variable: Variable) -> str:
    """The Prometheus data source: single values as they are, several as a regex alternation."""
    value = variable.value
    if isinstance(value, list):
        escaped = [re.sub(r"([\\^$*+?.()|{}\[\]])", r"\\\1", v) for v in value]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    return value


def interpolate(
    text: str,
    variables: Mapping[str, Variable],
    fmt: Callable[[Variable], str],
    builtins: Mapping[str, str] | None = None,
) -> str:
    """templateSrv.replace: unknown names (macros such as $__timeFilter) stay as they are."""
    builtins = builtins or {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        style = match.group(3) or match.group(6)
        if name in builtins:
            return builtins[name]
        variable = variables.get(name)
        if variable is None:
            return match.group(0)
        if style == "queryparam":
            values = variable.value if isinstance(variable.value, list) else [variable.value]
            return "&".join(f"var-{name}={v}" for v in values)
        if style == "raw":
            return ",".join(variable.value) if isinstance(variable.value, list) else variable.value
        if variable.all_value is not None and variable.value == variable.options and variable.include_all:
            return variable.all_value
        return fmt(variable)

    return _VARIABLE.sub(replace, text)


def resolve_variables(
    dashboard: Dashboard,
    run_query: Callable[[Mapping[str, Any], str], Sequence[tuple[str, str]]],
) -> dict[str, Variable]:
    """Every variable's value as Grafana has it after loading the dashboard with defaults.

    `run_query(variable, query)` runs a query variable's (already interpolated) query against its
    data source and returns (text, value) options in the order the data source gave them.
    """
    resolved: dict[str, Variable] = {}
    for spec in dashboard.get("templating", {}).get("list", []):
        kind, name = spec["type"], spec["name"]
        current = (spec.get("current") or {}).get("value")
        if kind == "constant":
            resolved[name] = Variable(name, str(spec["query"]))
        elif kind == "datasource":
            resolved[name] = Variable(name, str(current or ""))
        elif kind in ("custom", "interval"):
            options = [o.strip() for o in str(spec["query"]).split(",") if o.strip()]
            value = current if current in options else options[0]
            resolved[name] = Variable(name, str(value), options=options)
        elif kind == "query":
            query = spec["query"]["query"] if isinstance(spec["query"], Mapping) else spec["query"]
            source_kind = (spec.get("datasource") or {}).get("type", "")
            fmt = format_sql if "sql" in source_kind or "postgres" in source_kind else format_prometheus
            found = list(
                dict.fromkeys(value for _, value in run_query(spec, interpolate(query, resolved, fmt)))
            )
            if not found:
                raise AssertionError(f"variable {name!r} has no options: {query}")
            include_all = bool(spec.get("includeAll"))
            chosen: str | list[str] = found if include_all and current == "$__all" else found[0]
            resolved[name] = Variable(
                name,
                chosen,
                multi=bool(spec.get("multi")),
                include_all=include_all,
                all_value=spec.get("allValue"),
                options=found,
            )
        else:
            raise AssertionError(f"variable type {kind!r} of {name!r} is not emulated")
    return resolved


def sql_for(target: Mapping[str, Any], variables: Mapping[str, Variable], time_range: TimeRange) -> str:
    """A SQL target's rawSql as the PostgreSQL server receives it."""
    return expand_postgres_macros(interpolate(target["rawSql"], variables, format_sql), time_range)


def promql_for(
    target: Mapping[str, Any], variables: Mapping[str, Variable], time_range: TimeRange, scrape: float
) -> str:
    """A Prometheus target's expr as Prometheus receives it (scrape: the data source's interval)."""
    span = (time_range.end - time_range.start).total_seconds()
    step = max(scrape, span / 1000)  # $__interval for ~1000 points
    builtins = {
        "__rate_interval": f"{round(max(step + scrape, 4 * scrape))}s",
        "__interval": f"{round(step)}s",
        "__range": f"{round(span)}s",
    }
    return interpolate(target["expr"], variables, format_prometheus, builtins)


def panels(dashboard: Dashboard) -> list[Mapping[str, Any]]:
    """Every panel that queries something (rows excluded, nested row panels included)."""
    found: list[Mapping[str, Any]] = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            found.extend(panel.get("panels") or [])
        else:
            found.append(panel)
    return found
