"""Errors raised by the external-system clients, classified once so reconcile can decide calmly.

Transient errors (connection refused, timeouts, 5xx, 429) are retried with backoff and shown as a
condition; the others (bad credentials, missing DAG, 4xx) are configuration problems that a retry
storm cannot fix: they are shown as a condition and re-checked at the normal timer interval.
"""

from __future__ import annotations

import re


class ExternalError(Exception):
    """A call to Airflow, MLflow, Grafana or the Kubernetes API failed.

    `reason` is a CamelCase condition reason (e.g. `AirflowUnavailable`); the message says what
    failed, where (URL, object) and what to do.
    """

    def __init__(self, system: str, reason: str, message: str, *, transient: bool) -> None:
        # Messages become Events and conditions that every reader of the namespace sees.
        super().__init__(redact(message))
        self.system = system
        self.reason = reason
        self.transient = transient

    @property
    def message(self) -> str:
        """The human-readable explanation (the exception's text)."""
        return str(self.args[0])


_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact(text: str) -> str:
    """`text` with credentials written into URLs (`http://user:pw@host`) replaced by `***`."""
    return _USERINFO.sub(r"\1***@", text)


def is_transient_status(status: int) -> bool:
    """HTTP statuses worth retrying: throttling, timeouts and server-side failures."""
    return status in (408, 425, 429) or status >= 500


def classify_http(system: str, what: str, url: str, status: int, body: str) -> ExternalError:
    """Turn an unexpected HTTP answer into an ExternalError with a useful reason and message."""
    detail = body.strip().replace("\n", " ")[:300]
    if is_transient_status(status):
        return ExternalError(
            system,
            f"{system}Unavailable",
            f"{what}: {system} at {url} answered {status} ({detail}); retrying with backoff",
            transient=True,
        )
    if status in (401, 403):
        return ExternalError(
            system,
            f"{system}AuthFailed",
            f"{what}: {system} at {url} refused the operator's credentials ({status}: {detail}); "
            "check the operator's REVIEWOPS_* credential settings",
            transient=False,
        )
    return ExternalError(
        system,
        f"{system}Rejected",
        f"{what}: {system} at {url} answered {status} ({detail})",
        transient=False,
    )


def unreachable(system: str, what: str, url: str, exc: BaseException) -> ExternalError:
    """A connection-level failure (refused, DNS, timeout): always transient."""
    return ExternalError(
        system,
        f"{system}Unavailable",
        f"{what}: cannot reach {system} at {url} ({type(exc).__name__}: {exc}); retrying with backoff",
        transient=True,
    )
