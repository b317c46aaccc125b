"""`python -m reviewops_operator` / `reviewops-operator`: run the operator with kopf."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from reviewops_operator.settings import ConfigError, Settings, get_settings


def run_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `kopf.run` / `kopf.operator` derived from settings."""
    options: dict[str, Any] = {
        "standalone": settings.standalone,
        "clusterwide": not settings.namespaces,
        "namespaces": settings.namespaces,
    }
    if settings.peering_name and not settings.standalone:
        options["peering_name"] = settings.peering_name
    if settings.health_port:
        options["liveness_endpoint"] = f"http://0.0.0.0:{settings.health_port}/healthz"
    return options


def main(argv: list[str] | None = None) -> int:
    """Validate settings, register the handlers and run kopf until stopped."""
    parser = argparse.ArgumentParser(prog="reviewops-operator", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"reviewops-operator: {exc}", file=sys.stderr)
        return 2

    import kopf

    import reviewops_operator.handlers  # noqa: F401  (registers the handlers)

    # "[namespace/name] " before each message about an analysis: with several replicas (and
    # many teams' analyses) the log has to say which object a line is about.
    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat.PLAIN, log_prefix=True)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    kopf.run(**run_options(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
