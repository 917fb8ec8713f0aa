"""GET /stream.mjpg: a multipart/x-mixed-replace MJPEG stream, every client the newest frame whenever it is ready.

Each client is one greenlet, so a slow client only ever blocks itself; it skips the frames it was too
slow for instead of queueing them. A frame's part (its multipart headers, and the HTTP/1.1 chunk
around them) is built once and the same bytes are written straight to every client's socket, whose
send buffer is kept small so that the kernel does not queue seconds of frames for a slow reader.
"""

import errno
import logging
import math
import socket
import time
from pathlib import Path
from typing import Callable, Iterator, Optional
from urllib.parse import parse_qs

import gevent
from gevent.hub import get_hub

from appliance.textresponse import NO_CACHE, method_not_allowed, text, unavailable
from appliance.throttle import Throttle

from .config import Config
from .framestore import FrameStore, PerFrame, stamp

BOUNDARY = "frameserver-mjpeg-boundary"
CONTENT_TYPE = "multipart/x-mixed-replace; boundary=" + BOUNDARY
OPENING = b"--" + BOUNDARY.encode() + b"\r\n"
# Each part ends with the next part's boundary line, so a client that waits for it (Firefox) shows the
# part at once. Chromium waits for the next part's headers as well: see REPAINT.
_CLOSING = b"\r\n" + OPENING
NO_SIGNAL_JPEG = Path(__file__).with_name("nosignal.jpg").read_bytes()  # shown while there is no live frame
MAX_FPS = 1000.0
NO_SIGNAL = 0  # never a frame's seq
# Chromium shows a part only once the next part's headers arrive. So a part that shows something
# new is sent again after this long if no newer frame has come: a still or stalled feed, or a new
# client, shows its picture within this, and a live feed (a frame every 33-66 ms) never needs it.
REPAINT = 0.25
# A stream socket's send buffer: enough for a 1080p part or two, so a client that keeps up is never
# held back, while a slow one waits for the newest frame instead of seconds of queued ones (the
# kernel's autotuning lets it grow to 4 MB). bench/ measures the frame age a slow reader sees.
SEND_BUFFER = 256 * 1024
HEADERS = (
    ("Content-Type", CONTENT_TYPE),
    *NO_CACHE,
    ("X-Accel-Buffering", "no"),  # tells a proxying nginx not to buffer the stream
)
_READ = 1  # libev's EV_READ


def part(jpeg: bytes, timestamp: float) -> bytes:
    """One part: headers, the JPEG as is, and the boundary line that completes it."""
    head = ("Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Timestamp: %s\r\n\r\n"
            % (len(jpeg), stamp(timestamp))).encode()
    return b"".join((head, jpeg, _CLOSING))


def chunk(data: bytes) -> bytes:
    """`data` as one HTTP/1.1 chunk (the stream has no Content-Length, so HTTP/1.1 clients get it chunked)."""
    return b"%X\r\n%s\r\n" % (len(data), data)


def min_interval(query: str) -> float:
    """Seconds between two parts for a client asking ?fps=N (0: as fast as frames come); ValueError if bad."""
    values = parse_qs(query, keep_blank_values=True).get("fps")
    if not values:
        return 0.0
    value = values[-1]
    try:
        fps = float(value)
    except ValueError:
        fps = math.nan
    if not 0 < fps <= MAX_FPS:
        raise ValueError(f"fps={value[:40]!r} is invalid: expected a number of frames per second "
                         f"above 0 and at most {MAX_FPS:g}")
    return 1.0 / fps


def parts(store: FrameStore, max_age: float, keepalive: float, frame_part: Callable, nosignal_part: Callable
          ) -> Iterator[bytes]:
    """What one client is sent, part after part, each when it is due: a newer frame as soon as there is
    one, the same picture again after REPAINT and then every `keepalive` while none comes, the
    no-signal picture once the newest frame is older than `max_age`.

    `frame_part(frame)` is a frame's part (built once, shared by every client), `nosignal_part(timestamp)`
    the no-signal picture's. The generator blocks (in gevent) until each part is due, and never ends.
    """
    repaint = min(REPAINT, keepalive)
    sent = 0  # the newest frame seen, sent or not
    shown = None  # what the last part showed: a frame's seq, or NO_SIGNAL
    wait = 0.0  # the first part goes out at once
    while True:
        frame = store.wait_newer(sent, wait) or store.latest
        if frame is not None:
            sent = frame.seq
        if frame is None or store.age(frame) > max_age:
            showing, data = NO_SIGNAL, nosignal_part(time.time())
        else:
            showing, data = frame.seq, frame_part(frame)
        wait = repaint if showing != shown else keepalive
        shown = showing
        yield data


class StreamHandler:
    """The WSGI app of one camera's stream. It runs under gunicorn only: it writes to `gunicorn.socket`."""

    def __init__(self, store: FrameStore, config: Config, log: logging.Logger, nosignal: bytes = NO_SIGNAL_JPEG):
        self.clients = 0
        self._store = store
        self._config = config
        self._log = log
        self._at_limit_logged = False
        self._troubles = Throttle(60.0)
        self._framings = {  # chunked or not: a frame's part, and the no-signal picture's
            True: (PerFrame(lambda frame: chunk(part(frame.data, frame.timestamp))),
                   lambda timestamp: chunk(part(nosignal, timestamp))),
            False: (PerFrame(lambda frame: part(frame.data, frame.timestamp)),
                    lambda timestamp: part(nosignal, timestamp)),
        }

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method not in ("GET", "HEAD"):
            return method_not_allowed(environ, start_response)
        try:
            interval = min_interval(environ.get("QUERY_STRING", ""))
        except ValueError as error:
            return text(environ, start_response, "400 Bad Request", str(error))
        if method == "HEAD":
            start_response("200 OK", list(HEADERS))
            return []
        limit = self._config.stream_max_clients
        if self.clients >= limit:
            if not self._at_limit_logged:
                self._log.warning("stream clients at the limit of %d (STREAM_MAX_CLIENTS): refusing new ones", limit)
                self._at_limit_logged = True
            return unavailable(environ, start_response, f"too many stream clients (at most {limit})", retry_after=5)
        start_response("200 OK", list(HEADERS))
        self.clients += 1
        sock = environ["gunicorn.socket"]
        hangup = get_hub().loop.io(sock.fileno(), _READ)
        chunked = environ.get("SERVER_PROTOCOL") != "HTTP/1.0"
        body = self._body(sock, hangup, self._framings[chunked], interval, environ.get("REMOTE_ADDR", "?"))
        return _Body(body, hangup, self._ended)

    def _ended(self) -> None:
        self.clients -= 1
        if self.clients < self._config.stream_max_clients:
            self._at_limit_logged = False

    def _body(self, sock, hangup, framing: tuple, interval: float, peer: str):
        """The opening through gunicorn (it sends the headers with it), then every part written to the
        socket directly. A client that accepts no data for STREAM_IDLE_TIMEOUT is dropped (the socket's
        own timeout, which gevent arms only when a send has to wait); one that hangs up ends the stream
        at once, wherever it waits. Both end it as a broken pipe, which gunicorn takes as a client gone.
        """
        config = self._config
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        sock.settimeout(config.stream_idle_timeout)
        # A stream client sends nothing after its request, so its socket turning readable means it
        # has closed it (or broken the protocol): either way the stream is over.
        hangup.start(_hung_up, hangup, gevent.getcurrent())
        yield OPENING
        upcoming = parts(self._store, config.snapshot_max_age, config.stream_keepalive, *framing)
        while True:
            started = time.monotonic()
            try:
                data = next(upcoming)
            except OSError:
                raise
            except Exception:
                self._trouble(peer)
                gevent.sleep(config.stream_keepalive)
                upcoming = parts(self._store, config.snapshot_max_age, config.stream_keepalive, *framing)
                continue
            try:
                # send(), not sendall(): gevent's sendall asks the kernel for SO_SNDBUF on every call.
                sent = sock.send(data)
                if sent < len(data):
                    rest = memoryview(data)[sent:]
                    while rest:
                        rest = rest[sock.send(rest):]
            except socket.timeout:
                self._log.info("stream client %s dropped: it accepted no data for %g s",
                               peer, config.stream_idle_timeout)
                raise BrokenPipeError(errno.EPIPE, "stream client accepted no data") from None
            if interval:
                rest = started + interval - time.monotonic()
                if rest > 0:
                    gevent.sleep(rest)

    def _trouble(self, peer: str) -> None:
        """An unexpected error while making the next part: the first of its kind with the traceback."""
        held = self._troubles.admit("next part")
        if held == 0:
            self._log.exception("stream to %s: making the next part failed; trying again", peer)
        elif held is not None:
            self._log.error("stream to %s: making the next part failed again, %d times in the last minute",
                            peer, held + 1)


def _hung_up(hangup, greenlet: gevent.Greenlet) -> None:
    hangup.stop()
    greenlet.throw(BrokenPipeError(errno.EPIPE, "stream client hung up"))


class _Body:
    """One client's response body; the server closes it exactly once, however the stream ends."""

    def __init__(self, body, hangup, on_close):
        self._body = body
        self._hangup = hangup
        self._on_close = on_close

    def __iter__(self):
        return self._body

    def close(self) -> None:
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            self._hangup.stop()
            self._hangup.close()
            self._body.close()
            on_close()
