"""The health file and `python3 -m uploader.healthcheck`: healthy unless the loop misses its deadline."""

import logging

from uploader import healthcheck
from uploader.healthcheck import Beacon


def test_running_is_healthy_until_the_deadline_passes(tmp_path):
    path = str(tmp_path / "health")
    healthcheck.write(path, healthcheck.RUNNING, 100.0)
    assert healthcheck.check(path, 99.0)[0] is True
    assert healthcheck.check(path, 100.0)[0] is True
    healthy, why = healthcheck.check(path, 130.0)
    assert healthy is False and "stuck" in why and "30 s" in why


def test_disabled_is_always_healthy(tmp_path):
    path = str(tmp_path / "health")
    healthcheck.write(path, healthcheck.DISABLED, None)
    assert healthcheck.check(path, 1e12)[0] is True


def test_a_missing_or_damaged_file_is_unhealthy(tmp_path):
    path = tmp_path / "health"
    assert healthcheck.check(str(path), 0.0)[0] is False
    path.write_text("{not json")
    assert healthcheck.check(str(path), 0.0)[0] is False
    path.write_text('{"state": "running", "deadline": null}')
    assert healthcheck.check(str(path), 0.0)[0] is False


def test_the_beacon_writes_due_plus_grace_and_logs_write_failures_once(tmp_path, caplog):
    path = tmp_path / "health"
    beacon = Beacon(str(path), 75.0, logging.getLogger("test"))
    beacon.beat(10.0)
    assert healthcheck.check(str(path), 85.0)[0] is True and healthcheck.check(str(path), 85.1)[0] is False
    broken = Beacon(str(tmp_path / "missing" / "health"), 75.0, logging.getLogger("test"))
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
    healthcheck.write(path, healthcheck.DISABLED, None)
    assert healthcheck.main(environ) == 0
    assert capsys.readouterr().out.startswith("healthy: uploads disabled")
    healthcheck.write(path, healthcheck.RUNNING, 0.0)  # monotonic time 0 is long past
    assert healthcheck.main(environ) == 1
    assert "stuck" in capsys.readouterr().out


def test_healthcheck_with_a_bad_setting_is_unhealthy(capsys):
    assert healthcheck.main({"HEALTH_FILE": "relative"}) == 1
    assert capsys.readouterr().out.startswith("unhealthy: HEALTH_FILE=")
