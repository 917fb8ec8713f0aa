"""Blocking calls a caller can stop waiting for: at a deadline, or at once when the service stops.

Each call runs on its own daemon thread. A call given up on is told so through its `abandoned`
event and left to end by itself; the caller never waits for it.
"""

import threading
from typing import Callable, TypeVar

T = TypeVar("T")


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
