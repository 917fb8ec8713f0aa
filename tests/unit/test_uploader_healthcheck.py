"""The health file and `python3 -m uploader.healthcheck`: healthy unless a loop misses its deadline."""

import logging
import math

from uploader import healthcheck
from uploader.healthcheck import HealthFile


def test_running_is_healthy_until_a_deadline_passes(tmp_path):
    path = str(tmp_path / "health")
    healthcheck.write(path, healthcheck.RUNNING, {"the upload loop of A": 100.0, "the upload loop of B": 200.0})
    assert healthcheck.check(path, 99.0)[0] is True
    assert healthcheck.check(path, 100.0)[0] is True
    healthy, why = healthcheck.check(path, 130.0)
    assert (healthy, why) == (False, "the upload loop of A is stuck: its cycle should have ended 30 s ago")


def test_a_loop_waiting_for_the_printer_has_no_deadline(tmp_path):
    path = str(tmp_path / "health")
    healthcheck.write(path, healthcheck.RUNNING, {"the upload loop of A": None})
    assert healthcheck.check(path, 1e12) == (True, "every loop waits for the printer to change state")
    healthcheck.write(path, healthcheck.RUNNING, {"the upload loop of A": None, "the upload loop of B": 50.0})
    assert healthcheck.check(path, 60.0)[0] is False


def test_disabled_is_always_healthy(tmp_path):
    path = str(tmp_path / "health")
    healthcheck.write(path, healthcheck.DISABLED, {})
    assert healthcheck.check(path, 1e12)[0] is True


def test_a_missing_or_damaged_file_is_unhealthy(tmp_path):
    path = tmp_path / "health"
    assert healthcheck.check(str(path), 0.0)[0] is False
    for text in ("{not json", '{"state": "running", "deadlines": {}}', '{"state": "running", "deadline": 5}',
                 '{"state": "running", "deadlines": {"x": "soon"}}'):
        path.write_text(text)
        assert healthcheck.check(str(path), 0.0)[0] is False, text


def test_each_beacon_writes_due_plus_grace_and_write_failures_are_logged_once(tmp_path, caplog):
    path = tmp_path / "health"
    health = HealthFile(str(path), logging.getLogger("test"))
    first, second = health.beacon("loop 1", 75.0), health.beacon("loop 2", 10.0)
    first.beat(10.0)
    second.beat(math.inf)
    assert healthcheck.check(str(path), 85.0)[0] is True and healthcheck.check(str(path), 85.1)[0] is False
    second.beat(80.0)
    assert healthcheck.check(str(path), 85.0)[0] is True and healthcheck.check(str(path), 90.1)[0] is False
    broken = HealthFile(str(tmp_path / "missing" / "health"), logging.getLogger("test")).beacon("loop", 75.0)
    with caplog.at_level(logging.INFO):
        broken.beat(1.0)
        broken.beat(2.0)
        (tmp_path / "missing").mkdir()
        broken.beat(3.0)
        broken.beat(4.0)
    assert [r.levelname for r in caplog.records] == ["ERROR", "INFO"]
    assert healthcheck.check(str(tmp_path / "missing" / "health"), 79.0)[0] is True


def test_healthcheck_command_reads_health_file_from_the_config(tmp_path, capsys):
    path = str(tmp_path / "health")
    environ = {"HEALTH_FILE": path}
    assert healthcheck.main(environ) == 1
    assert capsys.readouterr().out.startswith("unhealthy: no health file")
    healthcheck.write(path, healthcheck.DISABLED, {})
    assert healthcheck.main(environ) == 0
    assert capsys.readouterr().out.startswith("healthy: uploads disabled")
    healthcheck.write(path, healthcheck.RUNNING, {"the upload loop of A": 0.0})  # monotonic time 0 is long past
    assert healthcheck.main(environ) == 1
    assert "stuck" in capsys.readouterr().out


def test_healthcheck_with_a_bad_setting_is_unhealthy(capsys):
    assert healthcheck.main({"HEALTH_FILE": "relative"}) == 1
    assert capsys.readouterr().out.startswith("unhealthy: HEALTH_FILE=")
