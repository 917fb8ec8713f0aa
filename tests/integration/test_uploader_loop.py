"""The upload loop against the Prusa Connect stand-in and a scripted frame server, in virtual time.

Each test drives Uploader.cycle() one cycle at a time with a clock it sets, so a 5 minute retry
costs nothing; the HTTP traffic and the timeouts (shortened through the constructors) are real.
"""

import logging
import math
import threading
import time

import pytest

from appliance import cameras
from standins.scripted_snapshots import make_jpeg
from health_files import read_deadline
from standins.prusa_connect import PrusaConnect
from uploader.connect import ConnectClient
from uploader.healthfile import HealthFile
from uploader.loop import Uploader
from uploader.report import Report
from uploader.schedule import Printer, Schedule
from uploader.snapshotfetch import SnapshotSource

TOKEN = "abcdEFGH1234ijklMNOP"
FINGERPRINT = "0123456789abcdef-fingerprint"
GRACE = 75.0
CAMERA = cameras.load({"PRUSA_CONNECT_TOKEN": TOKEN, "CAMERA_NAME": "Test camera"}, upload=True).get(1)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class Rig:
    """One Uploader wired to real servers, a virtual clock and a captured log."""

    def __init__(self, connect_url, snapshots, health_file, caplog, source=None, total_timeout=5.0):
        self.snapshots = snapshots
        self.clock = Clock(1000.0)
        self.client = ConnectClient(connect_url, TOKEN, FINGERPRINT, connect_timeout=2.0,
                                    total_timeout=total_timeout)
        self.source = source or SnapshotSource(snapshots.url, connect_timeout=2.0, total_timeout=5.0)
        self.schedule = Schedule(10, self.clock.now, random=lambda: 1.0)
        self.health_file = health_file
        log = logging.getLogger("uploader-test")
        self.uploader = Uploader(
            source=self.source, client=self.client, schedule=self.schedule,
            beacon=HealthFile(health_file, log).beacon("the upload loop of Test camera", GRACE),
            report=Report(log, self.clock), camera=CAMERA, fingerprint=FINGERPRINT, clock=self.clock)
        self.due = self.schedule.due
        self._caplog = caplog
        self._stamp = 1700000000.0

    def new_frame(self, width=64, height=48):
        self._stamp += 10
        self.snapshots.serve(make_jpeg(width, height, int(self._stamp)), f"{self._stamp:.6f}")

    def cycle(self, fresh=True):
        """Run the step that is due now; the delay until the next one."""
        if fresh:
            self.new_frame()
        self.clock.now = self.due
        self.due = self.uploader.step()
        return self.due - self.clock.now

    def lines(self):
        return [f"{r.levelname} {r.getMessage()}" for r in self._caplog.records if r.name == "uploader-test"]

    def close(self):
        self.client.close()
        self.source.close()


@pytest.fixture
def rig(connect, snapshots, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="uploader-test")
    made = Rig(connect.url, snapshots, str(tmp_path / "health"), caplog)
    yield made
    made.close()


def test_uploads_at_a_fixed_rate_and_sends_camera_info_once(rig, connect):
    assert [rig.cycle() for _ in range(3)] == [10, 10, 10]
    assert [r["path"] for r in connect.recorded()] == ["/c/snapshot", "/c/info", "/c/snapshot", "/c/snapshot"]
    assert all(r["status"] == 204 and r["token"] == "valid" for r in connect.recorded())
    assert connect.recorded("/c/info")[0]["json"] == {
        "config": {"name": "Test camera", "resolution": {"width": 64, "height": 48}}}
    first, info = rig.lines()
    assert first.startswith(f"INFO uploading: first snapshot accepted (HTTP 204, {connect.recorded()[0]['size']} bytes")
    assert info == "INFO camera info sent: name 'Test camera', resolution 64x48"


def test_the_health_file_holds_the_next_deadline(rig):
    rig.cycle()
    deadline, what = read_deadline(rig.health_file)
    assert abs(deadline - (rig.schedule.due + GRACE)) < 1.1  # whole seconds of /proc/uptime's clock
    assert what == "the upload loop of Test camera must have ended its cycle"


def test_camera_info_is_sent_again_when_the_resolution_changes(rig, connect):
    rig.cycle()
    rig.new_frame(96, 64)
    rig.cycle(fresh=False)
    rig.cycle()
    infos = [r["json"]["config"]["resolution"] for r in connect.recorded("/c/info")]
    assert infos == [{"width": 64, "height": 48}, {"width": 96, "height": 64}, {"width": 64, "height": 48}]


@pytest.mark.parametrize("mode, delays, line", [
    ({"status": 400}, [10, 10], "Prusa Connect rejected the upload (HTTP 400 BAD_REQUEST"),
    ({"status": 401}, [300, 300], "Prusa Connect refused the token (HTTP 401 UNAUTHORIZED"),
    ({"status": 403, "code": "FORBIDDEN_INVALID_FINGERPRINT"}, [300, 300], "delete the camera"),
    ({"status": 403}, [300, 300], "refused the token or the fingerprint (HTTP 403 FORBIDDEN"),
    ({"status": 413}, [10, 10], "too large (HTTP 413 PAYLOAD_TOO_LARGE: Request Entity Too Large; 64x48, "),
    ({"status": 429}, [10, 20], "unavailable or overloaded (HTTP 429 TOO_MANY_REQUESTS"),
    ({"status": 500}, [10, 20], "unavailable or overloaded (HTTP 500 INTERNAL_SERVER_ERROR"),
    ({"status": 503}, [10, 20], "unavailable or overloaded (HTTP 503 SERVICE_UNAVAILABLE"),
    ({"stall": 30}, [10, 20], "unreachable: no complete answer from 127.0.0.1:"),
    ({"close": True}, [10, 20], "unreachable: connection closed by 127.0.0.1:"),
])
def test_each_failure_is_logged_once_paced_and_recovered_from(connect, snapshots, tmp_path, caplog,
                                                              mode, delays, line):
    caplog.set_level(logging.INFO, logger="uploader-test")
    rig = Rig(connect.url, snapshots, str(tmp_path / "health"), caplog, total_timeout=1.0 if "stall" in mode else 5.0)
    try:
        check_failure_and_recovery(rig, connect, mode, delays, line)
    finally:
        rig.close()


def check_failure_and_recovery(rig, connect, mode, delays, line):
    assert rig.cycle() == 10
    connect.set_mode(count=2, path="/c/snapshot", **mode)
    assert [rig.cycle(), rig.cycle()] == delays
    assert rig.cycle() == 10
    assert rig.schedule.failures == 0
    lines = rig.lines()
    assert len(lines) == 4, lines
    assert lines[2].startswith("WARNING not uploading: ") and line in lines[2]
    assert lines[2].endswith("next try in 5 min 0 s" if delays[0] == 300 else f"next try in {delays[0]} s")
    assert lines[3].startswith("INFO uploading again after ")
    assert [r["status"] for r in connect.recorded("/c/snapshot")][-1] == 204


def test_a_token_bound_to_another_fingerprint_explains_the_fix_and_recovers_without_restart(rig, connect):
    connect.reset(fingerprint="the-first-camera-fingerprint")
    assert rig.cycle() == 300
    assert rig.cycle() == 300
    [warning] = [line for line in rig.lines() if line.startswith("WARNING")]
    assert "FORBIDDEN_INVALID_FINGERPRINT" in warning and FINGERPRINT in warning and "Add new other camera" in warning
    connect.reset()  # the camera was fixed in Connect
    assert rig.cycle() == 10
    assert rig.lines()[-2].startswith("INFO uploading: first snapshot accepted")


def test_a_refused_connection_backs_off_and_recovers_when_connect_returns(snapshots, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="uploader-test")
    gone = PrusaConnect(TOKEN).start()
    port = gone.port
    gone.stop()
    rig = Rig(f"http://127.0.0.1:{port}", snapshots, str(tmp_path / "health"), caplog)
    try:
        assert [rig.cycle(), rig.cycle(), rig.cycle()] == [10, 20, 40]
        with PrusaConnect(TOKEN, port=port):
            assert rig.cycle() == 10
    finally:
        rig.close()
    refused, recovered, info = rig.lines()
    assert refused.startswith("WARNING not uploading: Prusa Connect unreachable: connection refused by 127.0.0.1:")
    assert recovered.startswith("INFO uploading: first snapshot accepted")


def test_a_dns_failure_backs_off(snapshots, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="uploader-test")
    rig = Rig("http://connect.invalid", snapshots, str(tmp_path / "health"), caplog)
    try:
        assert [rig.cycle(), rig.cycle()] == [10, 20]
    finally:
        rig.close()
    [line] = rig.lines()
    assert line.startswith("WARNING not uploading: Prusa Connect unreachable: ")
    assert "connect.invalid" in line


@pytest.mark.parametrize("serve, kind", [
    ({"status": 503, "body": b"no frame\n"}, "no current frame (HTTP 503)"),
    ({"body": make_jpeg()[:-100], "timestamp": "1800000000.0"}, "not a complete JPEG"),
])
def test_unfit_snapshots_are_skipped_and_logged_once_per_change(rig, connect, snapshots, serve, kind):
    rig.cycle()
    snapshots.serve(**serve)
    assert [rig.cycle(fresh=False) for _ in range(3)] == [10, 10, 10]
    rig.cycle()
    assert len(connect.recorded("/c/snapshot")) == 2
    lines = rig.lines()
    assert len(lines) == 4 and kind in lines[2] and lines[3].startswith("INFO uploading again after 30 s")


def test_a_frame_not_newer_than_the_last_upload_is_skipped(rig, connect):
    rig.cycle()
    assert [rig.cycle(fresh=False) for _ in range(2)] == [10, 10]
    assert len(connect.recorded("/c/snapshot")) == 1
    rig.cycle()
    assert len(connect.recorded("/c/snapshot")) == 2
    assert "not newer than the last one uploaded" in rig.lines()[2] and len(rig.lines()) == 4


def test_a_failing_camera_info_never_blocks_snapshots(connect, snapshots, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="uploader-test")
    rig = Rig(connect.url, snapshots, str(tmp_path / "health"), caplog, total_timeout=1.0)
    try:
        check_info_failures(rig, connect)
    finally:
        rig.close()


def check_info_failures(rig, connect):
    connect.set_mode(path="/c/info", status=500)
    assert [rig.cycle() for _ in range(3)] == [10, 10, 10]
    assert len(connect.recorded("/c/snapshot")) == 3
    assert len(connect.recorded("/c/info")) == 1  # retried after a minute, not every cycle
    connect.set_mode(path="/c/info", stall=30)
    for _ in range(4):
        rig.cycle()
    assert len(connect.recorded("/c/snapshot")) == 7
    assert len(connect.recorded("/c/info")) == 2
    connect.set_mode()
    for _ in range(6):
        rig.cycle()
    assert [r["status"] for r in connect.recorded("/c/info")][-1] == 204
    warnings = [line for line in rig.lines() if "camera info not sent" in line]
    assert len(warnings) == 2 and "snapshots are unaffected" in warnings[0]


class _Broken:
    """A snapshot source whose first `times` fetches hit a bug: raise, or return what no source returns."""

    def __init__(self, source, times, bug):
        self._source = source
        self._times = times
        self._bug = bug
        self.calls = 0

    def fetch(self):
        self.calls += 1
        if self.calls <= self._times:
            return self._bug()
        return self._source.fetch()

    def close(self):
        self._source.close()


def a_bug():
    raise RuntimeError("a bug")


@pytest.mark.parametrize("bug, kind", [(a_bug, "RuntimeError"), (lambda: None, "AttributeError")])
def test_an_unexpected_error_is_logged_once_with_its_traceback_backed_off_and_survived(
        connect, snapshots, tmp_path, caplog, bug, kind):
    caplog.set_level(logging.INFO, logger="uploader-test")
    source = _Broken(SnapshotSource(snapshots.url), 3, bug)
    rig = Rig(connect.url, snapshots, str(tmp_path / "health"), caplog, source=source)
    try:
        delays = [rig.cycle() for _ in range(3)]
        assert delays[1] > delays[0] >= 10 and delays[2] > delays[1]  # backed off
        assert rig.cycle() == 10
    finally:
        rig.close()
    errors = [r for r in caplog.records if r.name == "uploader-test" and r.levelname == "ERROR"]
    assert len(errors) == 1
    assert errors[0].getMessage().startswith(f"not uploading: internal error {kind} at ")
    assert errors[0].exc_info[0].__name__ == kind and "Traceback" in caplog.text
    assert rig.lines()[-2].startswith("INFO uploading: first snapshot accepted")
    assert len(connect.recorded("/c/snapshot")) == 1


def real_time_uploader(rig, idle_interval=None):
    log = logging.getLogger("uploader-test")
    return Uploader(
        source=rig.source, client=rig.client, schedule=Schedule(10, time.monotonic(), idle_interval=idle_interval),
        beacon=HealthFile(rig.health_file, log).beacon("the upload loop of Test camera", GRACE),
        report=Report(log, time.monotonic), camera=CAMERA,
        fingerprint=FINGERPRINT, clock=time.monotonic)


def started(uploader):
    loop = threading.Thread(target=uploader.run)
    loop.start()
    return loop


def test_run_stops_at_once_while_waiting_for_the_next_cycle(rig, connect):
    uploader = real_time_uploader(rig)
    loop = started(uploader)
    connect.wait_answered(2)  # snapshot and info: the loop now waits 10 s for the next cycle
    uploader.stop()
    loop.join(5)
    assert not loop.is_alive()
    assert len(connect.recorded()) == 2


def test_run_stops_at_once_mid_upload(rig, connect):
    connect.set_mode(stall=30)
    uploader = real_time_uploader(rig)
    loop = started(uploader)
    connect.wait_for(1)
    uploader.stop()
    rig.close()  # what SIGTERM does: abort the calls in progress
    loop.join(5)
    assert not loop.is_alive()


def test_a_print_start_wakes_a_loop_that_waits_for_the_printer(rig, connect):
    uploader = real_time_uploader(rig, idle_interval=0)
    loop = started(uploader)
    try:
        uploader.printer_changed(Printer.IDLE)
        assert connect.wait_for(1, timeout=1.0) == []  # idle without idle uploads: nothing
        begun = time.time()  # the stand-in records wall-clock times
        uploader.printer_changed(Printer.PRINTING)
        [snapshot] = connect.wait_answered(1, path="/c/snapshot")
        assert snapshot["status"] == 204 and snapshot["time"] - begun < 5
    finally:
        uploader.stop()
        loop.join(5)
    assert not loop.is_alive()


def printing_rig(connect, snapshots, tmp_path, caplog, idle_interval=0):
    made = Rig(connect.url, snapshots, str(tmp_path / "health"), caplog)
    made.schedule = Schedule(10, made.clock.now, idle_interval=idle_interval, random=lambda: 1.0)
    log = logging.getLogger("uploader-test")
    made.uploader = Uploader(
        source=made.source, client=made.client, schedule=made.schedule,
        beacon=HealthFile(made.health_file, log).beacon("the upload loop of Test camera", GRACE),
        report=Report(log, made.clock), camera=CAMERA, fingerprint=FINGERPRINT, clock=made.clock)
    made.due = made.schedule.due
    return made


def step_at(rig, now):
    """The step at virtual time `now`, with a fresh frame; when the next one is due."""
    rig.new_frame()
    rig.clock.now = now
    return rig.uploader.step()


def test_uploads_follow_the_print_and_the_end_sends_one_last_picture(connect, snapshots, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="uploader-test")
    rig = printing_rig(connect, snapshots, tmp_path, caplog)
    try:
        assert rig.schedule.due == math.inf  # nothing before the first reading
        rig.uploader.printer_changed(Printer.IDLE)
        assert step_at(rig, 1000.0) == math.inf and connect.recorded() == []
        rig.uploader.printer_changed(Printer.PRINTING)
        assert step_at(rig, 1100.0) == 1110.0  # the print started: at once, then every 10 s
        assert step_at(rig, 1110.0) == 1120.0
        assert len(connect.recorded("/c/snapshot")) == 2
        rig.uploader.printer_changed(Printer.IDLE)
        assert step_at(rig, 1114.0) == 1120.0  # the print ended: the last picture once the 10 s floor allows
        assert len(connect.recorded("/c/snapshot")) == 2
        assert step_at(rig, 1120.0) == math.inf
        assert len(connect.recorded("/c/snapshot")) == 3
        assert read_deadline(rig.health_file) == (None, "every loop waits for the printer to change state")
    finally:
        rig.close()
