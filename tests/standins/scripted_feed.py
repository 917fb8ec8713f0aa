"""A stand-in for the camera feed: a real TCP server on 127.0.0.1 that plays scripts to its client.

Like `rpicam-vid --listen` it serves one client at a time; a client that connects while another is
being served is closed at once and counted in `extra_connections` (the frame server must never open a
second connection). Either the test takes each client with `accept()` and drives it by hand, or
`serve(steps)` plays the same script to every client that connects. A step is bytes (sent as they
are), a number (a pause in seconds) or CLOSE (hang up); a script that ends without CLOSE holds the
connection open until the client leaves. `stop_listening()` makes new connections get refused.
"""

import io
import queue
import socket
import threading
from typing import Iterable, Iterator, Optional

from PIL import Image

from jpegframes.markers import comments, with_comment

CLOSE = object()
FRAME_MARK = b"scripted-frame "


def make_frame(number: int, pad: int = 0) -> bytes:
    """A real 64x48 JPEG whose COM segment says `scripted-frame <number>`; `pad` more bytes in other COMs."""
    image = Image.new("RGB", (64, 48), ((number * 40) % 256, 90, 160))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=70)
    data = buf.getvalue()
    while pad > 0:
        chunk = min(pad, 60000)
        data = with_comment(data, b"p" * chunk)
        pad -= chunk
    return with_comment(data, FRAME_MARK + str(number).encode())


def frame_number(jpeg: bytes) -> Optional[int]:
    """The number make_frame() put in, or None."""
    for text in comments(jpeg):
        if text.startswith(FRAME_MARK):
            return int(text[len(FRAME_MARK):])
    return None


def frames_at(fps: float) -> Iterator:
    """Steps that send frames numbered 1, 2, 3... at `fps`, for as long as the client stays."""
    number = 1
    while True:
        yield make_frame(number)
        yield 1.0 / fps
        number += 1


class Client:
    """One accepted connection, driven by hand or by a script."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.closed = threading.Event()

    def send(self, data: bytes) -> bool:
        """False once the client has gone."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()

    def watch(self) -> None:
        """Read (and ignore) until the client hangs up, then mark the connection closed."""
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass
        self.close()

    def play(self, steps: Iterable) -> None:
        for step in steps:
            if step is CLOSE:
                break
            if isinstance(step, (int, float)):
                if self.closed.wait(step):
                    return
            elif not self.send(step):
                break
        else:
            self.closed.wait()
        self.close()


class ScriptedFeed:
    """Listens on `port` (0: any free one)."""

    def __init__(self, port: int = 0):
        self.connections = 0  # clients served
        self.extra_connections = 0  # clients that connected while another was being served
        self._lock = threading.Condition()
        self._current: Optional[Client] = None
        self._clients: "queue.Queue[Client]" = queue.Queue()
        self._script: Optional[Iterable] = None
        self._listener: Optional[socket.socket] = None
        self._threads = []
        self.port = self.listen(port)

    def __enter__(self) -> "ScriptedFeed":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def listen(self, port: Optional[int] = None) -> int:
        """Start (again) accepting connections, on the same port unless told otherwise."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port if port is None else port))
        listener.listen(4)
        self._listener = listener
        self._spawn(self._accept_loop, listener)
        return listener.getsockname()[1]

    def stop_listening(self) -> None:
        """From now on a connection attempt is refused; a client being served stays connected."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            except OSError:
                pass
            listener.close()

    def serve(self, steps) -> None:
        """Play `steps` to every client from now on; a callable is called for a fresh script per client."""
        self._script = steps

    def accept(self, timeout: float = 10.0) -> Client:
        """The next client, to drive by hand (only while no script is set)."""
        return self._clients.get(timeout=timeout)

    def wait_connections(self, count: int, timeout: float = 10.0) -> bool:
        """Block until `count` clients in all have been served; False after `timeout` seconds."""
        with self._lock:
            return self._lock.wait_for(lambda: self.connections >= count, timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no client is being served; False after `timeout` seconds."""
        with self._lock:
            client = self._current
        return client is None or client.closed.wait(timeout)

    def drop_current(self) -> None:
        """Hang up on the client being served."""
        with self._lock:
            client = self._current
        if client is not None:
            client.close()

    def close(self) -> None:
        self.stop_listening()
        self.drop_current()
        while not self._clients.empty():
            self._clients.get().close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = Client(sock)
            with self._lock:
                if self._current is not None and not self._current.closed.is_set():
                    self.extra_connections += 1
                    client.close()
                    continue
                self._current = client
                self.connections += 1
                self._lock.notify_all()
            self._spawn(client.watch)
            script = self._script
            if script is None:
                self._clients.put(client)
            else:
                self._spawn(client.play, script() if callable(script) else script)
