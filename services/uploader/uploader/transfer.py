"""One HTTP exchange on a shared requests.Session, bounded as a whole and abortable on shutdown.

requests' read timeout applies to each read and cannot bound DNS, so every exchange runs through
`bounded.Calls`: the caller gets an answer or a one-line cause within `total_timeout` seconds, and
at once after close().
"""

import threading
import time
from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import urlsplit

import requests

from . import failures
from .bounded import Calls, DeadlineExceeded

_CHUNK = 64 * 1024


class Failure(Exception):
    """No answer; str(error) is a secret-free cause."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool  # the body was longer than the limit; only its start is in `body`
    latency: float  # seconds from sending the request to the end of the body


class Transfer:
    def __init__(self, connect_timeout: float = 5.0, total_timeout: float = 15.0):
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self._session = requests.Session()
        self._session.trust_env = False  # settings come from config.py only, never from proxy variables
        self._calls = Calls()

    def exchange(self, method: str, url: str, *, headers: Optional[Mapping[str, str]] = None,
                 body: Optional[bytes] = None, limit: int = _CHUNK) -> Answer:
        """The answer, its body read up to `limit` bytes; Failure when there is none in time.

        Raises bounded.Cancelled once close() has been called.
        """
        host = urlsplit(url).netloc

        def work(abandoned: threading.Event) -> Answer:
            started = time.monotonic()
            data = None if body is None else _Body(body, abandoned)
            with self._session.request(method, url, headers=headers, data=data, stream=True,
                                       allow_redirects=False,
                                       timeout=(self.connect_timeout, self.total_timeout)) as response:
                content, truncated = _read(response, limit, abandoned)
                return Answer(response.status_code, response.headers, content, truncated,
                              time.monotonic() - started)

        try:
            return self._calls.run(work, self.total_timeout)
        except DeadlineExceeded:
            raise Failure(failures.timed_out(host, self.total_timeout)) from None
        except (requests.RequestException, OSError) as error:
            raise Failure(failures.describe(error, host, self.connect_timeout, self.total_timeout)) from None

    def close(self) -> None:
        """Abort the exchange in progress and refuse new ones."""
        self._calls.cancel()
        self._session.close()


class _Abandoned(Exception):
    """The caller gave up on this exchange: send and read nothing more."""


class _Body:
    """A request body that stops being sent once its exchange is abandoned."""

    def __init__(self, data: bytes, abandoned: threading.Event):
        self._data = memoryview(data)
        self._position = 0
        self._abandoned = abandoned

    def __len__(self) -> int:
        return len(self._data)

    def read(self, size: int = -1) -> bytes:
        if self._abandoned.is_set():
            raise _Abandoned()
        end = len(self._data) if size is None or size < 0 else self._position + size
        chunk = self._data[self._position:end]
        self._position += len(chunk)
        return bytes(chunk)


def _read(response: requests.Response, limit: int, abandoned: threading.Event):
    content = bytearray()
    for chunk in response.iter_content(_CHUNK):
        if abandoned.is_set():
            raise _Abandoned()
        content += chunk
        if len(content) > limit:
            return bytes(content[:limit]), True
    return bytes(content), False
