"""A camera's upload loop: each cycle fetches a snapshot, uploads it if fit, and schedules the next cycle.

Time comes from an injected clock and the wait between cycles is on a threading.Event, so tests
drive steps one by one in virtual time, and a printer change or SIGTERM ends a wait at once.
"""

import math
import threading
from typing import Callable, List, Optional, Tuple

from appliance.backoff import Backoff
from appliance.cameras import Camera

from .transfer import Cancelled
from .connect import ConnectClient, Outcome, Result
from .healthfile import Beacon
from .report import Report, explain
from .schedule import BACKOFF_CAP, Pace, Printer, Schedule
from .snapshotfetch import Snapshot, Skip, SnapshotSource, staleness

INFO_RETRY = 60.0
PACES = {
    Outcome.OK: Pace.NORMAL,
    Outcome.TOO_LARGE: Pace.NORMAL,
    Outcome.BAD_REQUEST: Pace.NORMAL,
    Outcome.RETRY_LATER: Pace.BACKOFF,
    Outcome.AUTH: Pace.SLOW,
    Outcome.NOT_FOUND: Pace.SLOW,
}


class Uploader:
    def __init__(self, *, source: SnapshotSource, client: ConnectClient, schedule: Schedule, beacon: Beacon,
                 report: Report, camera: Camera, fingerprint: str, clock: Callable[[], float]):
        self._source = source
        self._client = client
        self._schedule = schedule
        self._beacon = beacon
        self._report = report
        self._camera = camera
        self._fingerprint = fingerprint
        self._clock = clock
        self._last: Optional[Snapshot] = None  # the last frame Connect accepted
        self._info_sent: Optional[Tuple[int, int]] = None  # the resolution Connect last accepted
        self._info_retry_at = float("-inf")
        self._crashes = Backoff(schedule.interval, max(BACKOFF_CAP, schedule.interval), jitter=0.5)
        self._crashed_until = -math.inf  # no cycle before this, after a bug
        self._lock = threading.Lock()
        self._news: List[Printer] = []  # printer states not yet applied, oldest first
        self._wake = threading.Event()
        self._stopping = False

    def status(self) -> dict:
        """What GET /state shows of this camera (read from another thread; times on the loop's clock)."""
        due = max(self._schedule.due, self._crashed_until)
        return {"last_accepted": self._report.last_accepted, "cause": self._report.cause,
                "next_try": None if math.isinf(due) else due, "why": self._schedule.why()}

    def printer_changed(self, printer: Printer) -> None:
        """The printer is now in this state (called from the printer state's thread); wakes the loop."""
        with self._lock:
            self._news.append(printer)
        self._wake.set()

    def stop(self) -> None:
        """End run() at once when it waits; a call in progress ends when its connections are closed."""
        self._stopping = True
        self._wake.set()

    def run(self) -> None:
        """Step on schedule, and at once at each printer change, until stop()."""
        due = self._schedule.due
        self._beacon.beat(due)
        while True:
            wait = due - self._clock()
            if wait > 0:
                self._wake.wait(None if math.isinf(wait) else wait)
            self._wake.clear()
            if self._stopping:
                return
            try:
                due = self.step()
            except Cancelled:
                return

    def step(self) -> float:
        """Apply the printer's changes, then run the cycle if it is due; when the next step is due.

        Raises Cancelled on shutdown. Any other exception is a bug: it is logged with its traceback
        (once while it repeats) and the next cycle backs off, without the schedule, which may be
        where the bug is.
        """
        started = self._clock()
        try:
            due = self._apply_news(started)
            if started >= max(due, self._crashed_until):
                due = self._cycle(started)
                self._crashes.reset()
        except Cancelled:
            raise
        except Exception as error:
            delay = self._crashes.next()
            self._report.crashed(error, delay)
            self._crashed_until = self._clock() + delay
            self._beacon.beat(self._crashed_until)
            return self._crashed_until
        due = max(due, self._crashed_until)
        self._beacon.beat(due)
        return due

    def _apply_news(self, now: float) -> float:
        with self._lock:
            news, self._news = self._news, []
        for printer in news:
            self._schedule.printer_changed(printer, now)
        return self._schedule.due

    def _cycle(self, started: float) -> float:
        pace, uploaded, problem = self._attempt()
        now = self._clock()
        due = self._schedule.next(pace, started=started, now=now, uploaded=uploaded)
        if problem is not None:
            self._report.not_uploading(problem[0], problem[1], due - now)
        return due

    def _attempt(self):
        """(pace, whether an upload was sent, (kind, text) of the problem or None)."""
        got = self._source.fetch()
        if isinstance(got, Snapshot):
            got = staleness(got, self._last) or got
        if isinstance(got, Skip):
            return Pace.SKIP, False, (("snapshot", got.kind), got.text)
        result = self._client.put_snapshot(got.data)
        if not result.ok:
            text = explain(result, camera=self._camera.number, size=len(got.data), resolution=got.size,
                           fingerprint=self._fingerprint, connect_url=self._client.base_url)
            return PACES[result.outcome], True, (result.kind, text)
        self._last = got
        self._report.uploaded(len(got.data), result)
        self._send_info(got.size)
        return Pace.NORMAL, True, None

    def _send_info(self, resolution: Optional[Tuple[int, int]]) -> None:
        """/c/info once Connect accepts snapshots, and again when the resolution changes."""
        if resolution is None or resolution == self._info_sent or self._clock() < self._info_retry_at:
            return
        result: Result = self._client.put_info(self._camera.name, *resolution)
        self._report.info(result, self._camera.name, resolution, INFO_RETRY)
        if result.ok:
            self._info_sent = resolution
        else:
            self._info_retry_at = self._clock() + INFO_RETRY
