"""What ends a stream early: a client that accepts nothing for too long, or one that has hung up.

Both break into the stream's greenlet with a broken pipe, wherever it waits (for a frame, or in a
write), which gunicorn takes as a client gone: it closes the connection without a traceback.
"""

import errno

import gevent
from gevent.hub import get_hub

_READ = 1  # libev's EV_READ


class SendDeadline(gevent.Timeout):
    """Armed around each write to a client (`with deadline: yield part`); breaks one off that takes too long.

    Unlike a plain gevent.Timeout, leaving the `with` only disarms it, so it serves every write.
    """

    def __init__(self, seconds: float):
        super().__init__(seconds, BrokenPipeError(errno.EPIPE, f"stream client accepted no data for {seconds:g} s"))
        self.expired = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.cancel()

    def _on_expiration(self, prev_greenlet, ex):
        self.expired = True
        super()._on_expiration(prev_greenlet, ex)


class HangupWatch:
    """Ends a stream the moment its client hangs up, not at the next write to it (up to a keepalive later).

    A stream client sends nothing after its request, so its socket turning readable means it has
    closed it (or broken the protocol): either way the stream is over.
    """

    def __init__(self, sock):
        self._watcher = get_hub().loop.io(sock.fileno(), _READ)

    def start(self, greenlet: gevent.Greenlet) -> None:
        self._watcher.start(self._readable, greenlet)

    def _readable(self, greenlet) -> None:
        self._watcher.stop()
        greenlet.throw(BrokenPipeError(errno.EPIPE, "stream client hung up"))

    def close(self) -> None:
        self._watcher.stop()
        self._watcher.close()
