"""The uploader's settings: defaults, the interval floor, and one clear line for each bad value."""

import pytest

from appliance.envparse import ConfigError
from uploader.config import load

TOKEN = "abcdEFGH1234ijklMNOP"


def test_defaults():
    config = load({})
    assert config.snapshot_url == "http://http:8081/snapshot.jpg"
    assert config.connect_url == "https://connect.prusa3d.com"
    assert config.token == "" and not config.uploads_enabled
    assert config.fingerprint == ""
    assert config.interval == 10
    assert config.camera_name == "Printer camera"
    assert config.state_dir == "/var/lib/uploader"
    assert config.health_file == "/tmp/uploader-health"
    assert config.warnings == ()


def test_every_setting_is_read():
    config = load({
        "SNAPSHOT_URL": "http://127.0.0.1:1234/snap.jpg?x=1", "PRUSA_CONNECT_URL": "http://127.0.0.1:99/",
        "PRUSA_CONNECT_TOKEN": TOKEN, "PRUSA_CONNECT_FINGERPRINT": "0123456789abcdef-._",
        "UPLOAD_INTERVAL": "12.5", "CAMERA_NAME": "Voron 2.4", "STATE_DIR": "/state", "HEALTH_FILE": "/run/h",
    })
    assert config.snapshot_url == "http://127.0.0.1:1234/snap.jpg?x=1"
    assert config.connect_url == "http://127.0.0.1:99"
    assert config.token == TOKEN and config.uploads_enabled
    assert config.fingerprint == "0123456789abcdef-._"
    assert config.interval == 12.5
    assert (config.camera_name, config.state_dir, config.health_file) == ("Voron 2.4", "/state", "/run/h")


@pytest.mark.parametrize("value", ["0", "5", "9.99"])
def test_an_interval_under_10_is_raised_with_one_warning(value):
    config = load({"UPLOAD_INTERVAL": value})
    assert config.interval == 10
    assert len(config.warnings) == 1
    assert "UPLOAD_INTERVAL" in config.warnings[0] and "using 10" in config.warnings[0]


@pytest.mark.parametrize("environ, named", [
    ({"UPLOAD_INTERVAL": "ten"}, "UPLOAD_INTERVAL"),
    ({"UPLOAD_INTERVAL": "-1"}, "UPLOAD_INTERVAL"),
    ({"UPLOAD_INTERVAL": "nan"}, "UPLOAD_INTERVAL"),
    ({"PRUSA_CONNECT_URL": "ftp://connect.prusa3d.com"}, "PRUSA_CONNECT_URL"),
    ({"PRUSA_CONNECT_URL": "connect.prusa3d.com"}, "PRUSA_CONNECT_URL"),
    ({"PRUSA_CONNECT_URL": "https://user:pw@connect.prusa3d.com"}, "PRUSA_CONNECT_URL"),
    ({"PRUSA_CONNECT_URL": "https://connect.prusa3d.com/?a=b"}, "PRUSA_CONNECT_URL"),
    ({"SNAPSHOT_URL": "file:///etc/passwd"}, "SNAPSHOT_URL"),
    ({"PRUSA_CONNECT_FINGERPRINT": "short"}, "PRUSA_CONNECT_FINGERPRINT"),
    ({"PRUSA_CONNECT_FINGERPRINT": "0123456789abcdef!"}, "PRUSA_CONNECT_FINGERPRINT"),
    ({"PRUSA_CONNECT_FINGERPRINT": "0123456789 abcdef"}, "PRUSA_CONNECT_FINGERPRINT"),
    ({"CAMERA_NAME": "x" * 65}, "CAMERA_NAME"),
    ({"STATE_DIR": "relative/dir"}, "STATE_DIR"),
    ({"HEALTH_FILE": "/run/uploader/"}, "HEALTH_FILE"),
])
def test_a_bad_value_is_one_line_naming_the_variable(environ, named):
    with pytest.raises(ConfigError) as error:
        load(environ)
    line = str(error.value)
    assert line.startswith(named) and "\n" not in line


def test_a_bad_token_is_refused_without_echoing_it():
    token = "secret\x01token-XYZ"
    with pytest.raises(ConfigError) as error:
        load({"PRUSA_CONNECT_TOKEN": token})
    assert "PRUSA_CONNECT_TOKEN" in str(error.value)
    assert "secret" not in str(error.value) and "XYZ" not in str(error.value)


def test_the_token_shows_only_as_its_last_four_characters():
    config = load({"PRUSA_CONNECT_TOKEN": TOKEN})
    assert config.token_hint == "…MNOP"
    assert TOKEN not in repr(config)
    assert load({"PRUSA_CONNECT_TOKEN": "abcd1234"}).token_hint == "…"
