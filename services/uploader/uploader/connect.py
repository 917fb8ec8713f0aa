"""The Prusa Connect camera API: PUT /c/snapshot and PUT /c/info, each classified into one Result.

It knows nothing about scheduling: every call is one exchange, bounded in time, and its outcome
tells the caller what kind of failure it was.
"""

import enum
import json
from typing import NamedTuple, Optional

from .redact import Redactor
from .transfer import Failure, Transfer


class Outcome(enum.Enum):
    OK = "ok"
    RETRY_LATER = "retry-later"  # timeout, DNS, refused, TLS, closed, 408, 429, 5xx
    AUTH = "auth"  # 401, 403
    TOO_LARGE = "too-large"  # 413
    BAD_REQUEST = "bad-request"  # 400 and other 4xx
    NOT_FOUND = "not-found"  # 404, or a redirect: the URL is wrong


class Result(NamedTuple):
    outcome: Outcome
    cause: str  # one secret-free line: "HTTP 204", "HTTP 403 FORBIDDEN_INVALID_FINGERPRINT: ...", "DNS lookup ..."
    status: Optional[int] = None
    code: str = ""  # the "code" of Connect's JSON error body
    latency: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def kind(self) -> tuple:
        """What makes two results the same failure, for logging only changes."""
        return (self.outcome, self.status, self.code, None if self.status else self.cause)


def classify(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.OK
    if status in (401, 403):
        return Outcome.AUTH
    if status == 413:
        return Outcome.TOO_LARGE
    if status == 404 or 300 <= status < 400:
        return Outcome.NOT_FOUND
    if status in (408, 429) or status >= 500:
        return Outcome.RETRY_LATER
    if 400 <= status < 500:
        return Outcome.BAD_REQUEST
    return Outcome.RETRY_LATER


class ConnectClient:
    def __init__(self, base_url: str, token: str, fingerprint: str, *,
                 connect_timeout: float = 5.0, total_timeout: float = 15.0):
        self.base_url = base_url.rstrip("/")
        self._headers = {"Token": token, "Fingerprint": fingerprint}
        self._redact = Redactor([token])
        self.total_timeout = total_timeout
        self._transfer = Transfer(connect_timeout, total_timeout)

    def put_snapshot(self, jpeg: bytes) -> Result:
        return self._put("/c/snapshot", jpeg, "image/jpg")

    def put_info(self, name: str, width: int, height: int) -> Result:
        info = {"config": {"name": name, "resolution": {"width": width, "height": height}}}
        return self._put("/c/info", json.dumps(info).encode(), "application/json")

    def close(self) -> None:
        """Abort the call in progress (it raises transfer.Cancelled) and refuse new ones."""
        self._transfer.close()

    def _put(self, path: str, body: bytes, content_type: str) -> Result:
        headers = dict(self._headers, **{"Content-Type": content_type})
        try:
            answer = self._transfer.exchange("PUT", self.base_url + path, headers=headers, body=body)
        except Failure as failure:
            return Result(Outcome.RETRY_LATER, self._redact(str(failure)))
        outcome = classify(answer.status)
        if outcome is Outcome.OK:
            return Result(outcome, f"HTTP {answer.status}", answer.status, "", answer.latency)
        code, message = _error_body(answer.body)
        if not message and answer.headers.get("Location"):
            message = f"redirected to {answer.headers['Location']}"
        # Redacted before being cut short, so no part of the token can survive.
        code, message = self._redact(_one_line(code))[:80], self._redact(_one_line(message))[:200]
        cause = " ".join(filter(None, (f"HTTP {answer.status}", code))) + (f": {message}" if message else "")
        return Result(outcome, cause, answer.status, code, answer.latency)


def _error_body(body: bytes):
    """(code, message) from Connect's JSON error body, empty where absent."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "", ""
    if not isinstance(document, dict):
        return "", ""
    code = document.get("code")
    message = document.get("message")
    return "" if code is None else str(code), "" if message is None else str(message)


def _one_line(text: str) -> str:
    return " ".join(text.split())
