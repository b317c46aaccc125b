"""A host that does not resolve or refuses connections fails at once, naming the cause."""

from __future__ import annotations

import time

import pytest

from reviewops.sources.polite_http import FetchError, HttpClient


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("http://127.0.0.1:1/robots.txt", "connection refused for 127.0.0.1:1"),
        ("http://no-such-host.invalid/robots.txt", "name resolution failed for no-such-host.invalid"),
    ],
)
def test_an_unreachable_host_is_not_retried(url: str, cause: str) -> None:
    waits: list[float] = []
    client = HttpClient(delay_seconds=0, sleep=waits.append)
    started = time.monotonic()
    with pytest.raises(FetchError, match=cause) as caught:
        client.get_text(url)
    assert caught.value.status is None and "HTTPS_PROXY" in caught.value.message
    assert client.requests_sent == 1 and waits == []  # no backoff, no second attempt
    assert time.monotonic() - started < 10
