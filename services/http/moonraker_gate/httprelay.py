"""Relays one checked GET or HEAD to Moonraker and streams its answer back, headers and all but
the hop-by-hop ones; a Moonraker that cannot be reached is a 502 with one line."""

import http.client
from typing import Callable, Iterable, List, Mapping, Tuple

from appliance.envparse import HttpUrl
from appliance.textresponse import text

READ_SIZE = 65536
READ_TIMEOUT = 30.0  # seconds Moonraker may pause in an answer (a large G-code file) before it is cut
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "trailers", "transfer-encoding", "upgrade"})


def relay(environ: Mapping, start_response: Callable, moonraker: HttpUrl, target: str, headers: List[Tuple[str, str]],
          connect_timeout: float, unreachable: Callable[[str], None]) -> Iterable[bytes]:
    """Moonraker's answer to `target`; `unreachable(reason)` is told when there is none."""
    kind = http.client.HTTPSConnection if moonraker.scheme == "https" else http.client.HTTPConnection
    connection = kind(moonraker.host, moonraker.port, timeout=connect_timeout)
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
