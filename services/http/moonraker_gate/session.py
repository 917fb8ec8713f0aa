"""One client's session: its own websocket to Moonraker, Moonraker's messages relayed to the client
untouched, the client's passed through the filter; when either side closes, the other is closed too.

Runs in gunicorn's gevent worker, so every blocking call here yields to the other sessions.
"""

import socket
import threading
from typing import Callable, Dict, Mapping

import gevent
import simple_websocket
import websocket
from wsproto.frame_protocol import CloseReason

from .rpcfilter import check

CLOSE_TIMEOUT = 5.0  # seconds a side gets to answer our close frame before its socket is shut
LINGER = 2.0  # seconds spent reading what a closed client still sends, so that it reads our close frame
_PASSED_HEADERS = ("X-Api-Key", "Authorization")  # the client's own credentials, for Moonraker to judge


def connect(upstream_url: str, environ: Mapping, timeout: float) -> websocket.WebSocket:
    """A websocket to Moonraker for the client of this request, with its query string (a oneshot
    token) and the client's address as nginx gave it; raises OSError or websocket.WebSocketException."""
    query = environ.get("QUERY_STRING", "")
    upstream = websocket.create_connection(
        f"{upstream_url}?{query}" if query else upstream_url, timeout=timeout,
        header=upstream_headers(environ), skip_utf8_validation=True, http_no_proxy=["*"])
    upstream.settimeout(None)
    return upstream


def upstream_headers(environ: Mapping) -> Dict[str, str]:
    """X-Real-IP and X-Forwarded-For as nginx set them (else the peer's address, so Moonraker never
    mistakes a client for the gate itself), and the client's credentials if it sent any."""
    peer = environ.get("REMOTE_ADDR", "")
    headers = {"X-Real-IP": environ.get("HTTP_X_REAL_IP") or peer,
               "X-Forwarded-For": environ.get("HTTP_X_FORWARDED_FOR") or peer}
    for name in _PASSED_HEADERS:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        if value:
            headers[name] = value
    return headers


def accept(environ: Mapping, max_message: int) -> simple_websocket.Server:
    """Completes the client's websocket handshake on gunicorn's socket.

    permessage-deflate is not offered (Moonraker does not offer it either): frames then carry no
    shared compression state, so the two greenlets that send to a client only need whole sends.
    """
    handshake = {key: value for key, value in environ.items()
                 if key.startswith("HTTP_") and key != "HTTP_SEC_WEBSOCKET_EXTENSIONS"}
    handshake["gunicorn.socket"] = _ClientSocket(environ["gunicorn.socket"])
    return simple_websocket.Server(handshake, max_message_size=max_message)


def relay(client: simple_websocket.Server, upstream: websocket.WebSocket, max_message: int,
          denied: Callable[[str], None]) -> None:
    """Runs the session until either side closes, then closes the other; returns once every greenlet
    of the session has ended. `denied` is called with each method the filter refused."""
    to_moonraker = gevent.spawn(_client_to_moonraker, client, upstream, max_message, denied)
    to_client = gevent.spawn(_moonraker_to_client, upstream, client)
    try:
        gevent.wait([to_moonraker, to_client], count=1)
    finally:
        _end(client, upstream, to_moonraker, to_client)


def _end(client, upstream, to_moonraker, to_client) -> None:
    """Closes both sides, each given CLOSE_TIMEOUT to answer, and ends the session's greenlets.
    Also runs when gunicorn kills the session because the gate is stopping."""
    if client.connected:
        stopping = not (to_moonraker.dead or to_client.dead)
        _quietly(client.close, CloseReason.GOING_AWAY,
                 "the gate is stopping" if stopping else "Moonraker closed the connection")
    if upstream.connected:
        _quietly(upstream.send_close)
    to_client.join(CLOSE_TIMEOUT)
    upstream.shutdown()
    client.thread.join(CLOSE_TIMEOUT)
    client.sock.shutdown()
    gevent.joinall([to_moonraker, to_client], timeout=CLOSE_TIMEOUT)
    client.thread.join(CLOSE_TIMEOUT)
    gevent.killall([to_moonraker, to_client])


def _client_to_moonraker(client, upstream, max_message, denied) -> None:
    try:
        while True:
            verdict = check(client.receive(), max_message)
            for method in verdict.denied:
                denied(method)
            if verdict.too_big:
                client.close(CloseReason.MESSAGE_TOO_BIG, "message too big")
                return
            if verdict.forward is not None:
                upstream.send(verdict.forward)
            if verdict.reply is not None:
                client.send(verdict.reply)
    except (simple_websocket.ConnectionClosed, websocket.WebSocketException, OSError):
        return


def _moonraker_to_client(upstream, client) -> None:
    try:
        while True:
            opcode, data = upstream.recv_data()
            if opcode == websocket.ABNF.OPCODE_TEXT:
                client.send(data.decode("utf-8"))
            elif opcode == websocket.ABNF.OPCODE_BINARY:
                client.send(bytes(data))
            else:
                return  # Moonraker's close frame, already answered
    except (simple_websocket.ConnectionClosed, websocket.WebSocketException, OSError, UnicodeDecodeError):
        return


def _quietly(action, *args) -> None:
    try:
        action(*args)
    except (simple_websocket.ConnectionClosed, websocket.WebSocketException, OSError):
        pass


class _ClientSocket:
    """The client's socket as simple_websocket uses it: each send whole and alone (two greenlets
    send to a client), and a lingering close."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._sending = threading.Lock()

    def send(self, data: bytes) -> int:
        with self._sending:
            self._sock.sendall(data)
        return len(data)

    def recv(self, size: int) -> bytes:
        return self._sock.recv(size)

    def shutdown(self) -> None:
        """Ends the session's reads and writes; the reader then closes the socket."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        """Closing with unread bytes would reset the connection and lose our close frame (say, 1009
        in the middle of an oversized message): send FIN first, read until the client's own FIN."""
        try:
            self._sock.shutdown(socket.SHUT_WR)
            with gevent.Timeout(LINGER, False):
                while self._sock.recv(65536):
                    pass
        except OSError:
            pass
        finally:
            self._sock.close()
