"""One HTTP exchange on a shared requests.Session, bounded as a whole and abortable on shutdown.

requests' read timeout applies to each read and cannot bound DNS, so every exchange runs on its
own daemon thread (`Calls`): the caller gets an answer or a one-line, secret-free cause within
`total_timeout` seconds, and at once after close(). A call given up on is told so through its
`abandoned` event and left to end by itself; the caller never waits for it.
"""

import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Optional, TypeVar
from urllib.parse import urlsplit

import requests
import requests.auth
import urllib3.exceptions

T = TypeVar("T")

_CHUNK = 64 * 1024


class Cancelled(Exception):
    """cancel() was called: the service is stopping."""


class DeadlineExceeded(Exception):
    """The call did not finish within its time."""


class _Call:
    def __init__(self):
        self.wake = threading.Event()
        self.abandoned = threading.Event()
        self.finished = False
        self.value = None
        self.error = None

    def run(self, work):
        try:
            self.value = work(self.abandoned)
        except BaseException as error:  # handed to the waiting caller, which re-raises it
            self.error = error
        self.finished = True
        self.wake.set()


class Calls:
    """Blocking calls a caller can stop waiting for: at a deadline, or at once when the service stops."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting = set()
        self._cancelled = False

    def run(self, work: Callable[[threading.Event], T], timeout: float) -> T:
        """work(abandoned) on a daemon thread; its value or exception within `timeout` seconds.

        Raises DeadlineExceeded or Cancelled when given up on; `abandoned` is then set, and work
        must check it before anything that would still have an effect.
        """
        call = _Call()
        with self._lock:
            if self._cancelled:
                raise Cancelled()
            self._waiting.add(call)
        try:
            threading.Thread(target=call.run, args=(work,), name="bounded-call", daemon=True).start()
            call.wake.wait(timeout)
        finally:
            with self._lock:
                self._waiting.discard(call)
        if not call.finished:
            call.abandoned.set()
            raise Cancelled() if self._cancelled else DeadlineExceeded()
        if call.error is not None:
            raise call.error
        return call.value

    def cancel(self) -> None:
        """Wake every waiting caller with Cancelled, and refuse new calls."""
        with self._lock:
            self._cancelled = True
            for call in self._waiting:
                call.wake.set()


def describe(error: BaseException, host: str, connect_timeout: float, total_timeout: float) -> str:
    """One line naming the cause; never the exception's own text, which may quote a request."""
    chain = list(_chain(error))
    if _has(chain, urllib3.exceptions.NameResolutionError, socket.gaierror):
        return f"DNS lookup failed for {host}"
    if _has(chain, ConnectionRefusedError):
        return f"connection refused by {host}"
    # Not urllib3's ConnectTimeoutError: its NewConnectionError, any failed connect, derives from it.
    if _has(chain, requests.exceptions.ConnectTimeout):
        return f"no connection to {host} within {connect_timeout:g} s"
    for link in chain:
        if isinstance(link, ssl.SSLError):
            return f"TLS error with {host}: {link.reason or type(link).__name__}"
    if _has(chain, requests.exceptions.SSLError, ssl.CertificateError):
        return f"TLS error with {host}"
    if _has(chain, requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return timed_out(host, total_timeout)
    if _has(chain, requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError, ConnectionError):
        return f"connection closed by {host} before a complete answer"
    return f"request to {host} failed ({type(error).__name__})"


def timed_out(host: str, total_timeout: float) -> str:
    return f"no complete answer from {host} within {total_timeout:g} s"


def _has(chain, *kinds) -> bool:
    return any(isinstance(link, kinds) for link in chain)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every error it wraps (requests -> urllib3 -> socket)."""
    seen = set()
    pending = [error]
    while pending:
        link = pending.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        reason = getattr(link, "reason", None)
        wrapped = [arg for arg in link.args if isinstance(arg, BaseException)]
        pending.extend([link.__cause__, link.__context__, *wrapped])
        if isinstance(reason, BaseException):
            pending.append(reason)


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
    def __init__(self, connect_timeout: float = 5.0, total_timeout: float = 15.0,
                 auth: Optional[requests.auth.AuthBase] = None):
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self._session = requests.Session()
        self._session.trust_env = False  # settings come from config.py only, never from proxy variables
        self._session.auth = auth
        self._calls = Calls()

    def exchange(self, method: str, url: str, *, headers: Optional[Mapping[str, str]] = None,
                 body: Optional[bytes] = None, limit: int = _CHUNK) -> Answer:
        """The answer, its body read up to `limit` bytes; Failure when there is none in time.

        Raises Cancelled once close() has been called.
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
            raise Failure(timed_out(host, self.total_timeout)) from None
        except (requests.RequestException, OSError) as error:
            raise Failure(describe(error, host, self.connect_timeout, self.total_timeout)) from None

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
