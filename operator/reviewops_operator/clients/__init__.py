"""Clients for the systems the operator drives, each behind a small Protocol (see `base`)."""
