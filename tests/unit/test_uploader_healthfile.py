"""The uploader's health file: the earliest deadline of its loops and the loop that owes it."""

import logging
import math
import time

from health_files import read_deadline as read
from uploader import healthfile
from uploader.healthfile import HealthFile


def test_the_file_holds_the_earliest_deadline_and_names_its_loop(tmp_path):
    path = str(tmp_path / "health")
    health = HealthFile(path, logging.getLogger("test"))
    now = time.monotonic()
    health.beacon("the upload loop of A", 10.0).beat(now + 100)
    health.beacon("the upload loop of B", 10.0).beat(now + 50)
    deadline, what = read(path)
    assert abs(deadline - (now + 60)) < 1.1
    assert what == "the upload loop of B must have ended its cycle"


def test_a_loop_waiting_for_the_printer_has_no_deadline(tmp_path):
    path = str(tmp_path / "health")
    health = HealthFile(path, logging.getLogger("test"))
    waiting = health.beacon("the upload loop of A", 10.0)
    waiting.beat(math.inf)
    assert read(path) == (None, "every loop waits for the printer to change state")
    health.beacon("the printer state reader", 5.0).beat(time.monotonic())
    assert read(path)[1] == "the printer state reader must have ended its cycle"


def test_start_and_disabled_states(tmp_path):
    path = str(tmp_path / "health")
    healthfile.write_disabled(path)
    assert read(path) == (None, "uploads disabled (no camera has a Prusa Connect token); nothing to check")
    healthfile.write_starting(path)
    deadline, what = read(path)
    assert abs(deadline - (time.monotonic() + healthfile.START_GRACE)) < 1.1
    assert what == "the upload loops must have started"


def test_write_failures_are_logged_once_and_recovery_once(tmp_path, caplog):
    broken = HealthFile(str(tmp_path / "missing" / "health"), logging.getLogger("test")).beacon("loop", 75.0)
    with caplog.at_level(logging.INFO):
        broken.beat(1.0)
        broken.beat(2.0)
        (tmp_path / "missing").mkdir()
        broken.beat(3.0)
        broken.beat(4.0)
    assert [r.levelname for r in caplog.records] == ["ERROR", "INFO"]
    assert read(str(tmp_path / "missing" / "health"))[1] == "loop must have ended its cycle"
