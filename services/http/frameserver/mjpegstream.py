"""GET /stream.mjpg: a multipart/x-mixed-replace MJPEG stream, every client the newest frame whenever it is ready.

Each client is one greenlet, so a slow client only ever blocks itself; it skips the frames it was too
slow for instead of queueing them. A frame's part (its multipart headers, and the HTTP/1.1 chunk
around them) is built once and the same bytes are written straight to every client's socket, whose
send buffer is kept small so that the kernel does not queue seconds of frames for a slow reader.
To a client that keeps up, the feed reader's greenlet writes the part itself as the frame arrives,
as far as the socket takes it without waiting (µStreamer's way): no greenlet wakes per client per
frame. A client that is behind finishes the part, and catches up, in its own greenlet.
"""

import errno
import logging
import math
import os
import socket
import time
from functools import partial
from pathlib import Path
from typing import Callable, Iterator, Optional
from urllib.parse import parse_qs

import gevent
from gevent.event import Event
from gevent.hub import get_hub

from appliance.statelog import StateLog
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
# nginx's connections come over the unix socket and nginx reads a part as soon as it is written, so
# theirs holds one 720p part whole; whatever it holds more waits, for a slow reader behind nginx,
# in front of nginx's own buffers (bench/: 1.26 s -> 0.85 s at 720p, with nginx's sndbuf=128k).
UNIX_SEND_BUFFER = 128 * 1024
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


class Schedule:
    """Where one client is in its stream: what its last part showed and when, so what is due next.

    A part is due as soon as a newer frame exists, else `wait` seconds after the last one: REPAINT
    after a part that showed something new, `keepalive` after a repeat. `pending` is the rest of a
    part the frame server began to write for the client and the client's own greenlet must finish.
    """

    def __init__(self, keepalive: float):
        self.repaint = min(REPAINT, keepalive)
        self.keepalive = keepalive
        self.sent = 0  # the newest frame seen, sent or not
        self.shown = None  # what the last part showed: a frame's seq, or NO_SIGNAL
        self.wait = 0.0  # the first part goes out at once
        self.last = -math.inf  # time.monotonic() of the last part
        self.pending: Optional[memoryview] = None

    def due(self) -> float:
        return self.last + self.wait

    def record(self, showing: int, seen: int, now: float) -> None:
        """A part showing `showing` went out at `now`; `seen`: the newest frame's seq then."""
        self.wait = self.repaint if showing != self.shown else self.keepalive
        self.shown = showing
        self.sent = max(self.sent, seen)
        self.last = now


def parts(store: FrameStore, schedule: Schedule, max_age: float, frame_part: Callable, nosignal_part: Callable,
          wait: Callable[[float], object]) -> Iterator[bytes]:
    """What one client is sent, part after part, each when it is due: a newer frame as soon as there is
    one, the same picture again after REPAINT and then every `keepalive` while none comes, the
    no-signal picture once the newest frame is older than `max_age`.

    `frame_part(frame)` is a frame's part (built once, shared by every client), `nosignal_part(timestamp)`
    the no-signal picture's; `wait(seconds)` blocks until a newer frame may have come or the time is up.
    The generator never ends.
    """
    while True:
        if schedule.pending is not None:
            data, schedule.pending = schedule.pending, None
            yield data
            continue
        frame = store.latest
        now = time.monotonic()
        if (frame is None or frame.seq <= schedule.sent) and now < schedule.due():
            wait(schedule.due() - now)
            continue
        if frame is None or store.age(frame) > max_age:
            showing, data = NO_SIGNAL, nosignal_part(time.time())
        else:
            showing, data = frame.seq, frame_part(frame)
        schedule.record(showing, frame.seq if frame is not None else 0, now)
        yield data


class _Parked:
    """A client waiting for its next part, whose part for a new frame the frame server writes itself."""

    __slots__ = ("fd", "schedule", "woken", "until")

    def __init__(self, fd: int, schedule: Schedule):
        self.fd = fd
        self.schedule = schedule
        self.woken = Event()
        self.until = 0.0  # time.monotonic() at which it wakes by itself


class StreamHandler:
    """The WSGI app of one camera's stream. It runs under gunicorn only: it writes to `gunicorn.socket`."""

    def __init__(self, store: FrameStore, config: Config, log: logging.Logger, nosignal: bytes = NO_SIGNAL_JPEG):
        self.clients = 0
        self._store = store
        self._config = config
        self._log = log
        self._at_limit = StateLog(False)  # at STREAM_MAX_CLIENTS: logged once each time it is reached
        self._troubles = Throttle(60.0)
        self._parked = set()  # clients that keep up and wait for a newer frame: _push writes it to them
        store.subscribe(self._push)
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
            if self._at_limit.changed(True):
                self._log.warning("stream clients at the limit of %d (STREAM_MAX_CLIENTS): refusing new ones", limit)
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
            self._at_limit.changed(False)

    def _body(self, sock, hangup, framing: tuple, interval: float, peer: str):
        """The opening through gunicorn (it sends the headers with it), then every part written to the
        socket directly. A client that accepts no data for STREAM_IDLE_TIMEOUT is dropped (the socket's
        own timeout, which gevent arms only when a send has to wait); one that hangs up ends the stream
        at once, wherever it waits. Both end it as a broken pipe, which gunicorn takes as a client gone.

        A chunked client without ?fps waits parked: a new frame's part is then written to it by _push,
        in the feed reader's greenlet, without waking this one, unless the socket cannot take it whole.
        """
        config = self._config
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF,
                        UNIX_SEND_BUFFER if sock.family == socket.AF_UNIX else SEND_BUFFER)
        sock.settimeout(config.stream_idle_timeout)
        # A stream client sends nothing after its request, so its socket turning readable means it
        # has closed it (or broken the protocol): either way the stream is over.
        hangup.start(_hung_up, hangup, gevent.getcurrent())
        yield OPENING
        schedule = Schedule(config.stream_keepalive)
        if interval or framing is not self._framings[True]:
            wait = lambda seconds: self._store.wait_newer(schedule.sent, seconds)  # noqa: E731
        else:
            wait = partial(self._park, _Parked(sock.fileno(), schedule))
        upcoming = parts(self._store, schedule, config.snapshot_max_age, *framing, wait)
        while True:
            started = time.monotonic()
            try:
                data = next(upcoming)
            except OSError:
                raise
            except Exception:
                self._trouble(peer)
                gevent.sleep(config.stream_keepalive)
                upcoming = parts(self._store, schedule, config.snapshot_max_age, *framing, wait)
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

    def _park(self, client: _Parked, seconds: float) -> None:
        client.woken.clear()
        client.until = time.monotonic() + seconds
        self._parked.add(client)
        try:
            client.woken.wait(seconds)
        finally:
            self._parked.discard(client)

    def _push(self, frame) -> None:
        """A new frame: its part written at once to every parked client, as far as its socket takes it
        without waiting; the rest (all of it, when the socket is full or broken) is left to the client's
        own greenlet, which is woken for it."""
        if not self._parked:
            return
        try:
            data = self._framings[True][0](frame)
            now = time.monotonic()
            for client in list(self._parked):
                try:
                    written = os.write(client.fd, data)
                except OSError:  # full (EAGAIN), or broken: the client's own send finds out which
                    written = 0
                client.schedule.record(frame.seq, frame.seq, now)
                if written < len(data):
                    client.schedule.pending = memoryview(data)[written:]
                if written < len(data) or client.schedule.due() < client.until:  # or its repaint comes sooner
                    self._parked.discard(client)
                    client.woken.set()
        except Exception:
            self._trouble("the parked clients")  # who then make their parts themselves
            for client in list(self._parked):
                self._parked.discard(client)
                client.woken.set()

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
