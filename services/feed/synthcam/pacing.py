"""When each frame is due: slots on a fixed grid from the start, so the rate never drifts."""


class Pacer:
    def __init__(self, fps: float, start: float):
        self._period = 1.0 / fps
        self._start = start
        self.slot = 0

    def due(self) -> float:
        """The monotonic time the current slot's frame is due."""
        return self._start + self.slot * self._period

    def advance(self, now: float) -> None:
        """On to the next slot; when late, to the latest slot already due (skip, never burst)."""
        self.slot = max(self.slot + 1, int((now - self._start) / self._period))
