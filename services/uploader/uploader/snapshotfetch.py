"""Fetches the frame server's snapshot and decides whether it is fit to upload."""

import hashlib
import math
from typing import NamedTuple, Optional, Tuple, Union

from jpegframes import markers

from .transfer import Failure, Transfer

MAX_BYTES = 16 * 1024 * 1024


class Snapshot(NamedTuple):
    data: bytes
    timestamp: Optional[float]  # the X-Timestamp header, when the server sends one
    size: Optional[Tuple[int, int]]  # (width, height) from the SOF header

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.data).digest()


class Skip(NamedTuple):
    """Why there is nothing to upload this cycle."""
    kind: str  # stable across cycles, for logging only changes
    text: str


class SnapshotSource:
    def __init__(self, url: str, *, connect_timeout: float = 5.0, total_timeout: float = 15.0,
                 max_bytes: int = MAX_BYTES):
        self.url = url
        self.total_timeout = total_timeout
        self._max_bytes = max_bytes
        self._transfer = Transfer(connect_timeout, total_timeout)

    def fetch(self) -> Union[Snapshot, Skip]:
        """A complete JPEG, or why not. Raises transfer.Cancelled once close() has been called."""
        try:
            answer = self._transfer.exchange("GET", self.url, limit=self._max_bytes)
        except Failure as failure:
            return Skip("unreachable", f"cannot fetch the snapshot from {self.url}: {failure}")
        if answer.status == 503:
            return Skip("not-ready", "the frame server has no current frame (HTTP 503): the camera feed is "
                                     "starting or stalled")
        if answer.status != 200:
            return Skip(f"http-{answer.status}", f"the snapshot URL {self.url} answered HTTP {answer.status}")
        if answer.truncated:
            return Skip("too-large", f"the snapshot is larger than {self._max_bytes} bytes")
        if not markers.is_complete_jpeg(answer.body):
            return Skip("broken", f"the snapshot is not a complete JPEG ({len(answer.body)} bytes)")
        stamp = answer.headers.get("X-Timestamp")
        try:
            timestamp = None if stamp is None else float(stamp)
        except ValueError:
            timestamp = math.nan
        if timestamp is not None and not math.isfinite(timestamp):
            return Skip("bad-timestamp", f"the snapshot's X-Timestamp {stamp[:40]!r} is not a number")
        return Snapshot(answer.body, timestamp, markers.dimensions(answer.body))

    def close(self) -> None:
        self._transfer.close()


def staleness(frame: Snapshot, last: Optional[Snapshot]) -> Optional[Skip]:
    """A Skip when `frame` is not newer than `last`, the last one uploaded."""
    if last is None:
        return None
    if frame.timestamp is not None and last.timestamp is not None:
        if frame.timestamp <= last.timestamp:
            return Skip("stale", f"the snapshot is not newer than the last one uploaded (X-Timestamp "
                                 f"{frame.timestamp:.6f}): the camera feed may be stalled")
        return None
    if frame.digest == last.digest:
        return Skip("stale", "the snapshot is the same image as the last one uploaded (no X-Timestamp): "
                             "the camera feed may be stalled")
    return None
