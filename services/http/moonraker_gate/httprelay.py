"""Relays one checked GET or HEAD to Moonraker and streams its answer back, headers and all but
the hop-by-hop ones; a Moonraker that cannot be reached is a 502 with one line.

http.client runs over gevent's own sockets here: the gate patches nothing (a monkey-patched
process costs 5 MiB more), so every connection it opens is made with gevent explicitly.
"""

import http.client
from typing import Callable, Iterable, List, Mapping, Tuple

from gevent.socket import create_connection

from appliance.envparse import HttpUrl
from appliance.textresponse import text

READ_SIZE = 65536
READ_TIMEOUT = 30.0  # seconds Moonraker may pause in an answer (a large G-code file) before it is cut
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "trailers", "transfer-encoding", "upgrade"})


def relay(environ: Mapping, start_response: Callable, moonraker: HttpUrl, target: str, headers: List[Tuple[str, str]],
          connect_timeout: float, unreachable: Callable[[str], None]) -> Iterable[bytes]:
    """Moonraker's answer to `target`; `unreachable(reason)` is told when there is none."""
    connection = _connect_to(moonraker, connect_timeout)
    try:
        connection.connect()
        connection.sock.settimeout(READ_TIMEOUT)
        connection.putrequest(environ["REQUEST_METHOD"], target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        reason = " ".join(str(error).split()) or type(error).__name__
        unreachable(reason)
        return text(environ, start_response, "502 Bad Gateway",
                    f"moonraker unreachable at {moonraker.scheme}://{moonraker.netloc}: {reason}")
    start_response(f"{response.status} {response.reason}",
                   [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP])
    return _body(environ, response, connection)


class _Connection(http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = create_connection((self.host, self.port), self.timeout)


class _TLSConnection(http.client.HTTPConnection):
    default_port = 443

    def connect(self) -> None:
        from gevent import ssl

        self.sock = ssl.create_default_context().wrap_socket(create_connection((self.host, self.port), self.timeout),
                                                             server_hostname=self.host)


def _connect_to(moonraker: HttpUrl, timeout: float) -> http.client.HTTPConnection:
    """An http.client connection to Moonraker over gevent's sockets (not yet connected)."""
    kind = _TLSConnection if moonraker.scheme == "https" else _Connection
    return kind(moonraker.host, moonraker.port, timeout=timeout)


def _body(environ: Mapping, response: http.client.HTTPResponse,
          connection: http.client.HTTPConnection) -> Iterable[bytes]:
    """Moonraker's body as it comes; cut short when Moonraker stalls or goes away, and then the
    connection to nginx is closed (environ's "gate.cut"), so the client sees the answer is incomplete."""
    try:
        while True:
            chunk = response.read1(READ_SIZE)
            if not chunk:
                return
            yield chunk
    except (OSError, http.client.HTTPException):
        environ["gate.cut"] = True
    finally:
        connection.close()
