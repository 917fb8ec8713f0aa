"""Both ends of a session as websockets over wsproto, read only when the relay asks for a message.

Nothing is read ahead: while the gate waits to hand a message on, it reads no more from that
side, so a peer that sends without reading fills its own socket buffers, never the gate's memory.
Every send has a deadline: a peer that stops reading ends its session instead of holding it.
"""

import base64
import binascii
import time
from typing import Callable, List, Optional, Union
from urllib.parse import urlsplit

import gevent
from gevent.lock import Semaphore
from gevent.socket import create_connection
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Message, Ping, RejectConnection,
                            Request, TextMessage)
from wsproto.utilities import RemoteProtocolError, generate_accept_token

READ_SIZE = 65536
SEND_TIMEOUT = 30.0  # seconds a peer may take to accept one message before its session ends
CLOSE_TIMEOUT = 3.0  # seconds a peer gets to answer our close frame
UPSTREAM_MAX_MESSAGE = 64 * 1024 * 1024  # Moonraker's messages are trusted, but not without end

Data = Union[str, bytes]


class Closed(Exception):
    """A websocket ended; str(error) says why, for the session's last log line; `side` is that websocket."""

    def __init__(self, reason: str, side: "Websocket"):
        super().__init__(reason)
        self.side = side


class HandshakeFailed(Exception):
    """Moonraker refused the websocket or did not finish its handshake; `status` when it answered HTTP."""

    def __init__(self, reason: str, status: Optional[int] = None):
        super().__init__(reason)
        self.status = status


class Websocket:
    """One open websocket: `receive()` the next whole message, `send(message)`, `close(code, reason)`."""

    def __init__(self, name: str, sock, read: Callable[[int], bytes], connection, max_message: int):
        self.name = name  # "the client" or "Moonraker", for the reasons it gives
        self._sock = sock
        self._read = read
        self._conn = connection
        self._max_message = max_message
        self._sending = Semaphore()
        self.last_heard = time.monotonic()  # when the peer last sent anything (a pong too)

    @property
    def open(self) -> bool:
        return self._conn.state is ConnectionState.OPEN

    def receive(self) -> Data:
        """The next whole message; answers pings; raises Closed when the websocket ends."""
        parts: List[Data] = []
        size = 0
        while True:
            for event in self._conn.events():
                if isinstance(event, Message):
                    parts.append(event.data)
                    size += len(event.data.encode("utf-8", "surrogatepass")) if isinstance(event, TextMessage) \
                        else len(event.data)
                    if size > self._max_message:
                        self.close(1009, "message too big")
                        raise Closed(f"{self.name} sent a message over {self._max_message} bytes "
                                     "(closed with 1009)", self)
                    if event.message_finished:
                        return "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)
                elif isinstance(event, Ping):
                    self._send_bytes(self._conn.send(event.response()))
                elif isinstance(event, CloseConnection):
                    raise Closed(self._closed_by_peer(event), self)
            self._receive_data()

    def send(self, message: Data) -> None:
        """Sends one whole message; raises Closed when the peer is gone or does not take it in time."""
        if not self.open:
            raise Closed(f"{self.name} is closing", self)
        event = TextMessage(data=message) if isinstance(message, str) else BytesMessage(data=message)
        self._send_bytes(self._conn.send(event))

    def ping(self) -> None:
        """Asks the peer for a pong (its answer, read with what it sends, renews `last_heard`)."""
        if not self.open:
            raise Closed(f"{self.name} is closing", self)
        self._send_bytes(self._conn.send(Ping(payload=b"gate")))

    def close(self, code: int, reason: str) -> None:
        """Sends our close frame (once; quietly when the peer is already gone)."""
        if self._conn.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            try:
                self._send_bytes(self._conn.send(CloseConnection(code=code, reason=reason)), CLOSE_TIMEOUT)
            except Closed:
                pass

    def finish(self) -> None:
        """Waits up to CLOSE_TIMEOUT for the peer's answer to our close frame (reading what it still
        sends, so that closing the socket does not reset it and lose our frame), then closes the socket."""
        try:
            with gevent.Timeout(CLOSE_TIMEOUT, False):
                while self._conn.state is ConnectionState.LOCAL_CLOSING:
                    for event in self._conn.events():
                        if isinstance(event, CloseConnection):
                            break
                    else:
                        self._receive_data()
        except (Closed, OSError):
            pass
        finally:
            try:
                self._sock.close()
            except OSError:
                pass

    def _closed_by_peer(self, event: CloseConnection) -> str:
        if self._conn.state is ConnectionState.REMOTE_CLOSING:
            self._send_bytes(self._conn.send(event.response()), CLOSE_TIMEOUT)
            return f"{self.name} closed the connection ({event.code})"
        if self._conn.state is ConnectionState.OPEN:  # wsproto's own verdict on a frame it cannot parse
            self.close(event.code, event.reason or "")
            return f"{self.name} broke the websocket protocol: {event.reason} (closed with {event.code})"
        return f"{self.name} answered our close frame"

    def _receive_data(self) -> None:
        try:
            data = self._read(READ_SIZE)
        except (OSError, ValueError) as error:  # ValueError: the socket was closed under the read
            raise Closed(f"{self.name} went away ({getattr(error, 'strerror', None) or error})", self) from None
        if not data:
            if self._conn.state is ConnectionState.CLOSED:
                raise Closed(f"{self.name} went away", self)
            self._conn.receive_data(None)
            raise Closed(f"{self.name} went away without a close frame", self)
        self.last_heard = time.monotonic()
        self._conn.receive_data(data)

    def _send_bytes(self, data: bytes, timeout: float = SEND_TIMEOUT) -> None:
        try:
            stalled = Closed(f"{self.name} accepted no data for {timeout:g} s", self)
            with self._sending, gevent.Timeout(timeout, stalled):
                self._sock.sendall(data)
        except OSError as error:
            raise Closed(f"{self.name} went away ({error.strerror or error})", self) from None


def valid_handshake(environ) -> bool:
    """Whether the request is a websocket handshake this gate can complete (version 13, a 16-byte key)."""
    if "websocket" not in environ.get("HTTP_UPGRADE", "").lower() \
            or "upgrade" not in environ.get("HTTP_CONNECTION", "").lower() \
            or environ.get("HTTP_SEC_WEBSOCKET_VERSION") != "13":
        return False
    try:
        return len(base64.b64decode(environ.get("HTTP_SEC_WEBSOCKET_KEY", ""), validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def accept(environ, rfile, sock, max_message: int) -> Websocket:
    """Completes a client's valid_handshake, without permessage-deflate (Moonraker offers none either)."""
    key = environ["HTTP_SEC_WEBSOCKET_KEY"]
    accept_token = generate_accept_token(key.encode()).decode()
    sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {accept_token}\r\n\r\n").encode())
    return Websocket("the client", sock, rfile.read1, Connection(ConnectionType.SERVER), max_message)


def connect(url: str, host: str, headers: List[tuple], timeout: float) -> Websocket:
    """A websocket to `url` (ws:// or wss://host:port/path?query), sending this Host and these extra
    headers; raises HandshakeFailed, or OSError when Moonraker cannot be reached."""
    parts = urlsplit(url)
    sock = create_connection((parts.hostname, parts.port), timeout=timeout)
    try:
        if parts.scheme == "wss":
            from gevent import ssl

            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
        conn = WSConnection(ConnectionType.CLIENT)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        sock.sendall(conn.send(Request(host=host, target=target, extra_headers=headers)))
        with gevent.Timeout(timeout, HandshakeFailed(f"no answer to the websocket handshake within {timeout:g} s")):
            _handshake(conn, sock)
        sock.settimeout(None)
    except RemoteProtocolError as error:
        sock.close()
        raise HandshakeFailed(f"Moonraker's websocket handshake was not valid: {error}") from None
    except BaseException:
        sock.close()
        raise
    return Websocket("Moonraker", sock, sock.recv, conn, UPSTREAM_MAX_MESSAGE)


def _handshake(conn: WSConnection, sock) -> None:
    while True:
        data = sock.recv(READ_SIZE)
        if not data:
            raise HandshakeFailed("Moonraker closed the connection during the websocket handshake")
        conn.receive_data(data)
        for event in conn.events():
            if isinstance(event, AcceptConnection):
                return
            if isinstance(event, RejectConnection):
                raise HandshakeFailed(f"Moonraker answered the websocket handshake with HTTP {event.status_code}",
                                      event.status_code)
