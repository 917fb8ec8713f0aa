"""What the uploader tells `docker logs`: a line per change of state, and a summary a minute at most.

A steady state, good or bad, logs nothing per cycle: the same failure repeated is one line, and
while all is well only the summary appears, at most once a minute.
"""

import logging
import os
import traceback
from typing import Callable, Optional, Tuple

from appliance.cameras import variable
from appliance.statelog import StateLog

from .connect import Outcome, Result

SUMMARY_EVERY = 60.0


def explain(result: Result, *, camera: int, size: int, resolution: Optional[Tuple[int, int]], fingerprint: str,
            connect_url: str) -> str:
    """The one line a user needs for a failed upload of camera number `camera`: what Connect said and
    what to do about it, naming that camera's variables."""
    outcome = result.outcome
    token, fingerprint_variable = variable(camera, "token"), variable(camera, "fingerprint")
    if outcome is Outcome.RETRY_LATER:
        if result.status is None:
            return f"Prusa Connect unreachable: {result.cause}"
        return f"Prusa Connect is unavailable or overloaded ({result.cause})"
    if outcome is Outcome.AUTH and result.code == "FORBIDDEN_INVALID_FINGERPRINT":
        return (f"Prusa Connect refused the fingerprint ({result.cause}): the token is bound to the fingerprint "
                f"first used with it, and this camera's is {fingerprint}. Fix: in Prusa Connect delete the "
                f"camera, add it again with 'Add new other camera' and set its new token in {token}; "
                f"or set {fingerprint_variable} to the fingerprint first used with this token")
    if outcome is Outcome.AUTH and result.status == 401:
        return (f"Prusa Connect refused the token ({result.cause}): set {token} to the token Prusa "
                "Connect shows for this camera (printer > Camera > Add new other camera)")
    if outcome is Outcome.AUTH:
        return (f"Prusa Connect refused the token or the fingerprint ({result.cause}): check {token}; "
                f"if the token was first used with another fingerprint than {fingerprint}, delete the camera "
                "in Prusa Connect, add it again and set its new token")
    if outcome is Outcome.TOO_LARGE:
        shape = f"{resolution[0]}x{resolution[1]}, " if resolution else ""
        return (f"Prusa Connect refused the image as too large ({result.cause}; {shape}{size} bytes): lower "
                f"{variable(camera, 'width')} and {variable(camera, 'height')} or {variable(camera, 'quality')}")
    if outcome is Outcome.NOT_FOUND:
        return (f"Prusa Connect does not know this address or camera ({result.cause}): check PRUSA_CONNECT_URL "
                f"(now {connect_url}) and that the camera still exists in Prusa Connect")
    return f"Prusa Connect rejected the upload ({result.cause})"




def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


class Report:
    """Turns each cycle's outcome into log lines, logging only changes of state and periodic summaries,
    and keeps what the state (GET /state) shows: the last accepted upload and the current cause."""

    def __init__(self, log: logging.Logger, clock: Callable[[], float], summary_every: float = SUMMARY_EVERY):
        self._log = log
        self._clock = clock
        self._summary_every = summary_every
        self._problem = StateLog()  # the kind of the current problem; None while all is well
        self._problem_since = 0.0
        self._window_start: Optional[float] = None
        self._uploads = 0
        self._bytes = 0
        self._info_problem = StateLog()
        self.last_accepted: Optional[float] = None  # clock time of the last snapshot Connect accepted
        self.cause: Optional[str] = None  # the current `not uploading:` text, None while all is well

    def uploaded(self, size: int, result: Result) -> None:
        now = self._clock()
        self.last_accepted, self.cause = now, None
        if self._window_start is None or self._problem.state is not None:
            if self._window_start is None:
                self._log.info("uploading: first snapshot accepted (%s, %d bytes in %.2f s)",
                               result.cause, size, result.latency)
            else:
                self._log.info("uploading again after %s: snapshot accepted (%s, %d bytes in %.2f s)",
                               duration(now - self._problem_since), result.cause, size, result.latency)
            self._problem.changed(None)
            self._window_start, self._uploads, self._bytes = now, 0, 0
            return
        self._uploads += 1
        self._bytes += size
        if now - self._window_start >= self._summary_every:
            self._log.info("uploads: %d in the last %s, %d bytes, last latency %.2f s",
                           self._uploads, duration(now - self._window_start), self._bytes, result.latency)
            self._window_start, self._uploads, self._bytes = now, 0, 0

    def not_uploading(self, kind, text: str, next_in: float) -> None:
        """A cycle ended without an accepted upload; logs only when the kind of problem changes."""
        self._problem_line(kind, text, next_in, None)

    def crashed(self, error: Exception, next_in: float) -> None:
        """A cycle ended in an unexpected exception (a bug); logged with its traceback, once while it repeats."""
        where = traceback.extract_tb(error.__traceback__)[-1]
        kind = ("internal", type(error).__name__, where.filename, where.lineno)
        text = f"internal error {type(error).__name__} at {os.path.basename(where.filename)}:{where.lineno}: {error}"
        self._problem_line(kind, text, next_in, error)

    def _problem_line(self, kind, text: str, next_in: float, error: Optional[Exception]) -> None:
        self.cause = text
        was_well = self._problem.state is None
        if not self._problem.changed(kind):
            return
        if was_well:
            self._problem_since = self._clock()
        self._log.log(logging.WARNING if error is None else logging.ERROR, "not uploading: %s; next try in %s",
                      text, duration(next_in), exc_info=error)

    def info(self, result: Result, name: str, resolution: Tuple[int, int], retry_in: float) -> None:
        if result.ok:
            self._log.info("camera info sent: name %r, resolution %dx%d", name, *resolution)
            self._info_problem.changed(None)
        elif self._info_problem.changed(result.kind):
            self._log.warning("camera info not sent (%s); snapshots are unaffected, retrying in %s",
                              result.cause, duration(retry_in))
