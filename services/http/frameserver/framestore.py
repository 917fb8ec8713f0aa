"""The newest frame of a camera, and an event that wakes everyone waiting for a newer one."""

import time
from typing import Callable, List, NamedTuple, Optional, TypeVar

from gevent.event import Event

T = TypeVar("T")


class Frame(NamedTuple):
    data: bytes
    seq: int  # 1 for the first frame the store ever got, then one more for each
    timestamp: float  # arrival, epoch seconds
    arrived: float  # arrival, time.monotonic()


class FrameStore:
    def __init__(self):
        self.latest: Optional[Frame] = None
        self._arrival = Event()
        self._subscribers: List[Callable[[Frame], None]] = []

    def subscribe(self, call: Callable[[Frame], None]) -> None:
        """`call(frame)` with each new frame, in the publishing greenlet, before the waiters wake."""
        self._subscribers.append(call)

    @property
    def frames_total(self) -> int:
        return self.latest.seq if self.latest is not None else 0

    def publish(self, data: bytes) -> Frame:
        """Make `data` the newest frame and wake every waiter."""
        frame = Frame(data, self.frames_total + 1, time.time(), time.monotonic())
        self.latest = frame
        for call in self._subscribers:
            call(frame)
        arrival, self._arrival = self._arrival, Event()
        arrival.set()
        return frame

    def wait_newer(self, seq: int, timeout: float) -> Optional[Frame]:
        """The newest frame once its seq is above `seq`; None if none comes within `timeout` seconds."""
        frame = self.latest
        if frame is not None and frame.seq > seq:
            return frame
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._arrival.wait(left):
                return None
            frame = self.latest
            if frame.seq > seq:
                return frame

    def age(self, frame: Frame) -> float:
        """Seconds since `frame` arrived."""
        return time.monotonic() - frame.arrived


def stamp(timestamp: float) -> str:
    """X-Timestamp's value: epoch seconds with microseconds."""
    return "%.6f" % timestamp


class PerFrame:
    """Memoises build(frame) for the most recent frame it was asked about: built once, shared by all clients."""

    def __init__(self, build: Callable[[Frame], T]):
        self._build = build
        self._seq = 0
        self._value: Optional[T] = None

    def __call__(self, frame: Frame) -> T:
        if frame.seq != self._seq:
            self._value = self._build(frame)
            self._seq = frame.seq
        return self._value
