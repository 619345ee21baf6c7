"""The process's kept-alive connections to Slack (the Web API and response_urls): urllib3 pools that retry only
a connection that could not be made, so nothing is ever sent twice."""

from __future__ import annotations

import ssl

import urllib3

RETRIES = urllib3.Retry(total=2, connect=2, read=False, status=0, redirect=0, other=0)


def kept_alive(
    size: int, proxy: str | None, ssl_context: ssl.SSLContext | None = None, timeout: urllib3.Timeout | None = None
) -> urllib3.PoolManager:
    """At most `size` idle connections per host, through `proxy` when there is one."""
    pooled: dict[str, object] = {"num_pools": 4, "maxsize": size, "block": False, "retries": RETRIES}
    if ssl_context is not None:
        pooled["ssl_context"] = ssl_context
    if timeout is not None:
        pooled["timeout"] = timeout
    return urllib3.ProxyManager(proxy, **pooled) if proxy else urllib3.PoolManager(**pooled)  # type: ignore[arg-type]
