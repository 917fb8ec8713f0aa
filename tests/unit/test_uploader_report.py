"""What reaches `docker logs`: one line per change of state, a summary a minute at most, no token."""

import logging

import pytest

from appliance.log import Prefixed
from uploader.connect import Outcome, Result
from uploader.redact import Redactor
from uploader.report import Report, explain

OK = Result(Outcome.OK, "HTTP 204", 204, latency=0.25)
FINGERPRINT = "ffffffff-1111-2222-3333-444444444444"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger="report-test")
    return lambda: [f"{r.levelname} {r.getMessage()}" for r in caplog.records]


def test_first_upload_then_silence_then_a_summary_a_minute_later(lines):
    clock = Clock()
    report = Report(logging.getLogger("report-test"), clock)
    for second in range(0, 130, 10):
        clock.now = second
        report.uploaded(1000, OK)
    assert lines() == [
        "INFO uploading: first snapshot accepted (HTTP 204, 1000 bytes in 0.25 s)",
        "INFO uploads: 6 in the last 1 min 0 s, 6000 bytes, last latency 0.25 s",
        "INFO uploads: 6 in the last 1 min 0 s, 6000 bytes, last latency 0.25 s",
    ]


def test_each_change_of_state_is_one_line_and_repeats_are_silent(lines):
    clock = Clock()
    report = Report(logging.getLogger("report-test"), clock)
    report.uploaded(1000, OK)
    clock.now = 10
    report.not_uploading("a", "cause A", 10)
    clock.now = 20
    report.not_uploading("a", "cause A", 20)
    clock.now = 40
    report.not_uploading("b", "cause B", 40)
    report.not_uploading("b", "cause B", 80)
    clock.now = 130
    report.uploaded(1000, OK)
    clock.now = 140
    report.uploaded(1000, OK)
    assert lines() == [
        "INFO uploading: first snapshot accepted (HTTP 204, 1000 bytes in 0.25 s)",
        "WARNING not uploading: cause A; next try in 10 s",
        "WARNING not uploading: cause B; next try in 40 s",
        "INFO uploading again after 2 min 0 s: snapshot accepted (HTTP 204, 1000 bytes in 0.25 s)",
    ]


def test_the_first_upload_after_a_start_with_problems_is_still_the_first(lines):
    clock = Clock()
    report = Report(logging.getLogger("report-test"), clock)
    report.not_uploading("not-ready", "no frame yet", 10)
    clock.now = 20
    report.uploaded(1000, OK)
    assert lines() == ["WARNING not uploading: no frame yet; next try in 10 s",
                       "INFO uploading: first snapshot accepted (HTTP 204, 1000 bytes in 0.25 s)"]


def test_info_success_always_logs_and_failures_only_on_change(lines):
    report = Report(logging.getLogger("report-test"), Clock())
    failure = Result(Outcome.RETRY_LATER, "HTTP 500", 500)
    report.info(failure, "Cam", (640, 480), 60)
    report.info(failure, "Cam", (640, 480), 60)
    report.info(OK, "Cam", (640, 480), 60)
    assert lines() == [
        "WARNING camera info not sent (HTTP 500); snapshots are unaffected, retrying in 1 min 0 s",
        "INFO camera info sent: name 'Cam', resolution 640x480",
    ]


def explained(result, size=123456, resolution=(1280, 720), camera=1):
    return explain(result, camera=camera, size=size, resolution=resolution, fingerprint=FINGERPRINT,
                   connect_url="https://connect.example")


def test_explanations_say_what_to_do():
    bound = explained(Result(Outcome.AUTH, "HTTP 403 FORBIDDEN_INVALID_FINGERPRINT", 403,
                             "FORBIDDEN_INVALID_FINGERPRINT"))
    assert FINGERPRINT in bound and "delete the camera" in bound and "Add new other camera" in bound
    assert "PRUSA_CONNECT_TOKEN" in explained(Result(Outcome.AUTH, "HTTP 401 UNAUTHORIZED", 401, "UNAUTHORIZED"))
    assert "PRUSA_CONNECT_TOKEN" in explained(Result(Outcome.AUTH, "HTTP 403 FORBIDDEN", 403, "FORBIDDEN"))
    large = explained(Result(Outcome.TOO_LARGE, "HTTP 413", 413))
    assert "123456 bytes" in large and "1280x720" in large and "CAMERA_QUALITY" in large
    assert "PRUSA_CONNECT_URL" in explained(Result(Outcome.NOT_FOUND, "HTTP 404", 404))
    assert "unreachable: DNS" in explained(Result(Outcome.RETRY_LATER, "DNS lookup failed for x"))
    assert "HTTP 503" in explained(Result(Outcome.RETRY_LATER, "HTTP 503", 503))
    assert "HTTP 400" in explained(Result(Outcome.BAD_REQUEST, "HTTP 400", 400))


def test_each_camera_is_told_its_own_variables():
    refused = explained(Result(Outcome.AUTH, "HTTP 403 FORBIDDEN_INVALID_FINGERPRINT", 403,
                               "FORBIDDEN_INVALID_FINGERPRINT"), camera=2)
    assert "CAMERA2_PRUSA_CONNECT_TOKEN" in refused and "CAMERA2_PRUSA_CONNECT_FINGERPRINT" in refused
    large = explained(Result(Outcome.TOO_LARGE, "HTTP 413", 413), camera=3)
    assert "CAMERA3_WIDTH and CAMERA3_HEIGHT or CAMERA3_QUALITY" in large


def test_a_camera_log_prefixes_every_line_with_the_camera_name(lines):
    report = Report(Prefixed(logging.getLogger("report-test"), "Nozzle cam: "), Clock())
    report.uploaded(1000, OK)
    report.not_uploading("a", "cause A", 10)
    assert lines() == ["INFO Nozzle cam: uploading: first snapshot accepted (HTTP 204, 1000 bytes in 0.25 s)",
                       "WARNING Nozzle cam: not uploading: cause A; next try in 10 s"]


def test_the_redacting_filter_removes_the_token_from_messages_and_tracebacks():
    token = "abcdEFGH1234ijklMNOP"
    redact = Redactor([token])
    try:
        raise ValueError(f"header value {token!r}")
    except ValueError as error:
        exc_info = (type(error), error, error.__traceback__)
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", (token,), exc_info)
    assert redact.filter(record)
    text = logging.Formatter().format(record)
    assert token not in text and "[secret]" in text and "ValueError" in text
    assert Redactor([""])("no token configured") == "no token configured"
