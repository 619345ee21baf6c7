"""HTTP for the RMM APIs and the threat feeds: JSON over urllib, a 429 waited out as the server asks
(Retry-After, else a minute), a 5xx or a dropped connection retried with backoff, anything else raised with
the service's own words; conditional GETs (ETag, Last-Modified) for feeds that change rarely.
Credentials travel in headers only; nothing here logs a header or a body."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

log = logging.getLogger(__name__)
TIMEOUT = 30
TRIES = 4  # a 5xx or a dropped connection: tried this many times in all
RATE_LIMIT_TRIES = 5  # 429s waited out before giving up


class ApiError(RuntimeError):
    """The API did not give what was asked; the message is safe to show (no secrets)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Fetched:
    """A JSON answer with the validators a conditional request sends back next time."""

    body: Any
    etag: str = ""
    modified: str = ""
    not_modified: bool = False


@dataclass
class Http:
    """One API's base address; `sleep` waits (a test passes its own, so no test waits a real minute)."""

    base: str
    name: str
    sleep: Callable[[float], None] = time.sleep
    waited: list[float] = field(default_factory=list)

    def get(self, path: str, headers: dict[str, str], params: dict[str, Any] | None = None) -> Any:
        query = f"?{urlencode({k: v for k, v in (params or {}).items() if v is not None})}" if params else ""
        return self.send("GET", f"{self.base.rstrip('/')}{path}{query}", headers)

    def post_form(self, url: str, form: dict[str, str]) -> Any:
        body = urlencode(form).encode()
        return self.send("POST", url, {"Content-Type": "application/x-www-form-urlencoded"}, body)

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None) -> Any:
        return self.exchange(method, url, headers, body).body

    def get_if_changed(self, url: str, etag: str = "", modified: str = "") -> Fetched:
        """A conditional GET: `not_modified` when the server says the copy named by etag/modified is current."""
        headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", modified)) if v}
        return self.exchange("GET", url, headers)

    def exchange(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None) -> Fetched:
        failures = limited = 0
        while True:
            request = urllib.request.Request(
                url, data=body, method=method, headers={"Accept": "application/json", **headers}
            )
            try:
                with urllib.request.urlopen(
                    request, timeout=TIMEOUT
                ) as response:  # the base is configured by the operator
                    return Fetched(
                        json.loads(response.read() or b"null"),
                        response.headers.get("ETag", ""),
                        response.headers.get("Last-Modified", ""),
                    )
            except urllib.error.HTTPError as err:
                if err.code == 304:
                    return Fetched(None, err.headers.get("ETag", ""), err.headers.get("Last-Modified", ""), True)
                if err.code == 429 and limited < RATE_LIMIT_TRIES:
                    limited += 1
                    self._wait(_retry_after(err.headers.get("Retry-After")))
                    continue
                if err.code >= 500 and failures + 1 < TRIES:
                    failures += 1
                    self._wait(2.0**failures)
                    continue
                raise ApiError(
                    f"{self.name} answered {err.code} {err.reason} for {method} {_path(url)}", err.code
                ) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                failures += 1
                if failures >= TRIES:
                    reason = getattr(err, "reason", err)
                    raise ApiError(f"{self.name} could not be reached ({reason}) for {method} {_path(url)}") from None
                self._wait(2.0**failures)
            except json.JSONDecodeError:
                raise ApiError(f"{self.name} answered with something that is not JSON for {_path(url)}") from None

    def _wait(self, seconds: float) -> None:
        self.waited.append(seconds)
        self.sleep(seconds)


def _retry_after(value: str | None) -> float:
    try:
        return max(1.0, min(float(value or 60), 300.0))
    except ValueError:
        return 60.0


def _path(url: str) -> str:
    """The address without its query (a query may carry an organisation id, never a secret, but keep it short)."""
    return url.split("?", 1)[0]
