"""One HTTP exchange (standard library http.client, one kept-alive connection per Transfer), bounded
as a whole and abortable on shutdown.

A socket's timeout applies to each read and cannot bound DNS, so every exchange runs on its
own daemon thread (`Calls`): the caller gets an answer or a one-line, secret-free cause within
`total_timeout` seconds, and at once after close(). A call given up on is told so through its
`abandoned` event and left to end by itself; the caller never waits for it.
"""

import http.client
import select
import socket
import ssl
import threading
import time
from typing import Callable, Iterator, Mapping, NamedTuple, Optional, TypeVar
from urllib.parse import urlsplit

from .digestauth import DigestAuth

T = TypeVar("T")

_CHUNK = 64 * 1024


class Cancelled(Exception):
    """cancel() was called: the service is stopping."""


class DeadlineExceeded(Exception):
    """The call did not finish within its time."""


class ConnectTimeout(Exception):
    """No connection within the connect timeout."""


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
    if _has(chain, socket.gaierror):
        return f"DNS lookup failed for {host}"
    if _has(chain, ConnectionRefusedError):
        return f"connection refused by {host}"
    if _has(chain, ConnectTimeout):
        return f"no connection to {host} within {connect_timeout:g} s"
    for link in chain:
        if isinstance(link, ssl.SSLError):
            return f"TLS error with {host}: {link.reason or type(link).__name__}"
    if _has(chain, ssl.CertificateError):
        return f"TLS error with {host}"
    if _has(chain, TimeoutError):
        return timed_out(host, total_timeout)
    if _has(chain, http.client.HTTPException, ConnectionError):
        return f"connection closed by {host} before a complete answer"
    return f"request to {host} failed ({type(error).__name__})"


def timed_out(host: str, total_timeout: float) -> str:
    return f"no complete answer from {host} within {total_timeout:g} s"


def _has(chain, *kinds) -> bool:
    return any(isinstance(link, kinds) for link in chain)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every error it wraps."""
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


class Answer(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool  # the body was longer than the limit; only its start is in `body`
    latency: float  # seconds from sending the request to the end of the body


class _Connection(http.client.HTTPConnection):
    """http:// or https:// (the system's CA certificates, the host name checked); the connect timeout
    for connecting and the TLS handshake, then `read_timeout` for each read."""

    def __init__(self, scheme: str, host: str, port: Optional[int], connect_timeout: float, read_timeout: float):
        super().__init__(host, port or (443 if scheme == "https" else 80), timeout=connect_timeout)
        self._tls = ssl.create_default_context() if scheme == "https" else None
        self._read_timeout = read_timeout

    def connect(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), self.timeout)
        except TimeoutError as error:
            raise ConnectTimeout() from error
        try:
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(self._read_timeout)
        except TimeoutError as error:
            sock.close()
            raise ConnectTimeout() from error
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def dropped(self) -> bool:
        """The server closed this idle connection (or sent something unasked)."""
        return self.sock is None or bool(select.select([self.sock], [], [], 0)[0])


class Transfer:
    def __init__(self, connect_timeout: float = 5.0, total_timeout: float = 15.0,
                 auth: Optional[DigestAuth] = None):
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self._auth = auth
        self._lock = threading.Lock()
        self._idle: Optional[tuple] = None  # ((scheme, netloc), the connection kept alive after the last exchange)
        self._closed = False
        self._calls = Calls()

    def exchange(self, method: str, url: str, *, headers: Optional[Mapping[str, str]] = None,
                 body: Optional[bytes] = None, limit: int = _CHUNK) -> Answer:
        """The answer, its body read up to `limit` bytes; Failure when there is none in time.

        Raises Cancelled once close() has been called.
        """
        parts = urlsplit(url)
        host = parts.netloc
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

        def work(abandoned: threading.Event) -> Answer:
            started = time.monotonic()
            connection = self._connection(parts)
            try:
                status, answer_headers, content, truncated = self._send(connection, method, target, headers,
                                                                         body, limit, abandoned)
                if status == 401 and self._auth and self._auth.challenged(answer_headers.get("WWW-Authenticate")):
                    status, answer_headers, content, truncated = self._send(connection, method, target, headers,
                                                                             body, limit, abandoned)
            except BaseException:
                connection.close()
                raise
            self._keep(parts, connection, abandoned)
            return Answer(status, answer_headers, content, truncated, time.monotonic() - started)

        try:
            return self._calls.run(work, self.total_timeout)
        except DeadlineExceeded:
            raise Failure(timed_out(host, self.total_timeout)) from None
        except (http.client.HTTPException, ConnectTimeout, OSError) as error:
            raise Failure(describe(error, host, self.connect_timeout, self.total_timeout)) from None

    def close(self) -> None:
        """Abort the exchange in progress and refuse new ones."""
        self._calls.cancel()
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, None
        if idle is not None:
            idle[1].close()

    def _connection(self, parts) -> _Connection:
        """The connection kept from the last exchange to the same server if it is still open, else a new one."""
        with self._lock:
            idle, self._idle = self._idle, None
        if idle is not None:
            if idle[0] == (parts.scheme, parts.netloc) and not idle[1].dropped():
                return idle[1]
            idle[1].close()
        return _Connection(parts.scheme, parts.hostname, parts.port, self.connect_timeout, self.total_timeout)

    def _keep(self, parts, connection: _Connection, abandoned: threading.Event) -> None:
        with self._lock:
            if connection.sock is not None and not abandoned.is_set() and not self._closed and self._idle is None:
                self._idle = ((parts.scheme, parts.netloc), connection)
                return
        connection.close()

    def _send(self, connection: _Connection, method: str, target: str, headers: Optional[Mapping[str, str]],
              body: Optional[bytes], limit: int, abandoned: threading.Event):
        """One request and its answer on `connection`: (status, headers, body, truncated). The
        connection is closed when the answer leaves it unusable."""
        connection.putrequest(method, target)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if self._auth is not None:
            authorization = self._auth.header(method, target)
            if authorization is not None:
                connection.putheader("Authorization", authorization)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body is not None:
            _send_body(connection, body, abandoned)
        response = connection.getresponse()
        content, truncated = _read(response, limit, abandoned)
        if truncated or response.will_close:
            connection.close()
        return response.status, response.msg, content, truncated


class _Abandoned(Exception):
    """The caller gave up on this exchange: send and read nothing more."""


def _send_body(connection: http.client.HTTPConnection, data: bytes, abandoned: threading.Event) -> None:
    """The request body in pieces, stopping once the exchange is abandoned."""
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        if abandoned.is_set():
            raise _Abandoned()
        connection.send(view[start:start + _CHUNK])


def _read(response: http.client.HTTPResponse, limit: int, abandoned: threading.Event):
    content = bytearray()
    while True:
        chunk = response.read(_CHUNK)
        if not chunk:
            return bytes(content), False
        if abandoned.is_set():
            raise _Abandoned()
        content += chunk
        if len(content) > limit:
            return bytes(content[:limit]), True
