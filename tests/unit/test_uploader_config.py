"""The uploader's settings: defaults, every camera with a token, and one clear line for each bad value."""

import pytest

from appliance.envparse import ConfigError
from uploader.config import load
from uploader.redact import hint

TOKEN = "abcdEFGH1234ijklMNOP"
TOKEN2 = "zyxwVUTS9876rqpoNMLK"


def test_defaults():
    config = load({})
    assert [camera.number for camera in config.cameras] == [1] and config.uploading == ()
    assert config.snapshot_url(config.cameras[0]) == "http://http:8081/snapshot.jpg"
    assert config.connect_url == "https://connect.prusa3d.com:443"
    [camera] = config.cameras
    assert (camera.name, camera.upload.token, camera.upload.fingerprint, camera.upload.interval) == (
        "Printer camera", "", "", 10)
    assert config.state_dir == "/var/lib/uploader"
    assert config.health_file == "/tmp/uploader-health"
    assert config.warnings == ()


def test_every_setting_is_read():
    config = load({
        "FRAME_SERVER_URL": "http://127.0.0.1:1234", "PRUSA_CONNECT_URL": "http://127.0.0.1:99/",
        "PRUSA_CONNECT_TOKEN": TOKEN, "PRUSA_CONNECT_FINGERPRINT": "0123456789abcdef-._",
        "UPLOAD_INTERVAL": "12.5", "CAMERA_NAME": "Voron 2.4", "STATE_DIR": "/state", "HEALTH_FILE": "/run/h",
    })
    [camera] = config.uploading
    assert config.snapshot_url(camera) == "http://127.0.0.1:1234/snapshot.jpg"
    assert config.connect_url == "http://127.0.0.1:99"
    assert camera.upload.token == TOKEN and camera.upload.fingerprint == "0123456789abcdef-._"
    assert camera.upload.interval == 12.5
    assert (camera.name, config.state_dir, config.health_file) == ("Voron 2.4", "/state", "/run/h")


def test_each_camera_with_a_token_uploads_from_its_own_path():
    config = load({"PRUSA_CONNECT_TOKEN": TOKEN, "CAMERA2_SOURCE": "synthetic", "CAMERA3_SOURCE": "usb",
                   "CAMERA3_PRUSA_CONNECT_TOKEN": TOKEN2, "CAMERA3_NAME": "Nozzle",
                   "CAMERA3_UPLOAD_INTERVAL": "30"})
    assert [camera.number for camera in config.cameras] == [1, 2, 3]
    assert [(camera.number, camera.name, camera.upload.interval) for camera in config.uploading] == [
        (1, "Printer camera", 10), (3, "Nozzle", 30)]
    assert [config.snapshot_url(camera) for camera in config.cameras] == [
        "http://http:8081/snapshot.jpg", "http://http:8081/webcam2/snapshot.jpg",
        "http://http:8081/webcam3/snapshot.jpg"]
    assert set(config.secrets) == {TOKEN, TOKEN2}


@pytest.mark.parametrize("value", ["0", "5", "9.99"])
def test_an_interval_under_10_is_raised_with_one_warning(value):
    config = load({"UPLOAD_INTERVAL": value})
    assert config.cameras[0].upload.interval == 10
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
    ({"FRAME_SERVER_URL": "file:///etc/passwd"}, "FRAME_SERVER_URL"),
    ({"FRAME_SERVER_URL": "http://http:8081/snapshot.jpg"}, "FRAME_SERVER_URL"),
    ({"PRUSA_CONNECT_FINGERPRINT": "short"}, "PRUSA_CONNECT_FINGERPRINT"),
    ({"PRUSA_CONNECT_FINGERPRINT": "0123456789abcdef!"}, "PRUSA_CONNECT_FINGERPRINT"),
    ({"PRUSA_CONNECT_FINGERPRINT": "0123456789 abcdef"}, "PRUSA_CONNECT_FINGERPRINT"),
    ({"CAMERA_NAME": "x" * 65}, "CAMERA_NAME"),
    ({"CAMERA2_PRUSA_CONNECT_TOKEN": TOKEN2}, "CAMERA2_PRUSA_CONNECT_TOKEN"),
    ({"PRUSA_CONNECT_TOKEN": TOKEN, "CAMERA2_SOURCE": "synthetic", "CAMERA2_PRUSA_CONNECT_TOKEN": TOKEN},
     "CAMERA2_PRUSA_CONNECT_TOKEN"),
    ({"STATE_DIR": "relative/dir"}, "STATE_DIR"),
    ({"UPLOAD_WHEN": "sometimes"}, "UPLOAD_WHEN"),
    ({"UPLOAD_IDLE_INTERVAL": "-5"}, "UPLOAD_IDLE_INTERVAL"),
    ({"PRINTER_STATE_SOURCE": "octoprint"}, "PRINTER_STATE_SOURCE"),
    ({"UPLOAD_WHEN": "printing", "PRINTER_STATE_SOURCE": "prusalink", "PRUSALINK_PASSWORD": "pw"}, "PRUSALINK_URL"),
    ({"UPLOAD_WHEN": "printing", "PRINTER_STATE_SOURCE": "prusalink", "PRUSALINK_URL": "http://192.168.1.50"},
     "PRUSALINK_PASSWORD"),
    ({"PRUSALINK_URL": "192.168.1.50"}, "PRUSALINK_URL"),
    ({"PRUSALINK_USER": "two words"}, "PRUSALINK_USER"),
    ({"PRUSALINK_PASSWORD": "pw", "PRUSALINK_API_KEY": "key"}, "PRUSALINK_PASSWORD"),
    ({"GATE_ADDRESS": "/run/gate/gate.sock"}, "GATE_ADDRESS"),
    ({"HEALTH_FILE": "/run/uploader/"}, "HEALTH_FILE"),
])
def test_a_bad_value_is_one_line_naming_the_variable(environ, named):
    with pytest.raises(ConfigError) as error:
        load(environ)
    line = str(error.value)
    assert line.startswith(named) and "\n" not in line
    assert TOKEN not in line and TOKEN2 not in line


def test_a_bad_token_is_refused_without_echoing_it():
    token = "secret\x01token-XYZ"
    with pytest.raises(ConfigError) as error:
        load({"PRUSA_CONNECT_TOKEN": token})
    assert "PRUSA_CONNECT_TOKEN" in str(error.value)
    assert "secret" not in str(error.value) and "XYZ" not in str(error.value)


def test_a_secret_shows_only_as_its_last_four_characters():
    config = load({"PRUSA_CONNECT_TOKEN": TOKEN})
    assert hint(TOKEN) == "…MNOP" and hint("abcd1234") == "…" and hint("") == "(none)"
    assert TOKEN not in repr(config)


def test_upload_when_printing_with_each_state_source():
    config = load({"UPLOAD_WHEN": "printing", "UPLOAD_IDLE_INTERVAL": "600"})
    assert (config.follows_printer, config.idle_interval, config.state_source, config.gate_address) == (
        True, 600, "moonraker", "unix:/run/gate/gate.sock")
    link = load({"UPLOAD_WHEN": "printing", "PRINTER_STATE_SOURCE": "prusalink", "PRUSALINK_URL": "http://10.0.0.7/",
                 "PRUSALINK_API_KEY": "Ab12Cd34Ef56", "PRUSA_CONNECT_TOKEN": TOKEN})
    assert (link.prusalink_url, link.prusalink_user, link.prusalink_api_key) == ("http://10.0.0.7:80", "maker",
                                                                                "Ab12Cd34Ef56")
    assert "Ab12Cd34Ef56" in link.secrets and "Ab12Cd34Ef56" not in repr(link)
    assert load({}).follows_printer is False and load({}).idle_interval == 0


@pytest.mark.parametrize("secret", ["PRUSALINK_PASSWORD", "PRUSALINK_API_KEY"])
def test_repr_and_str_show_the_settings_but_no_secret(secret):
    config = load({"UPLOAD_WHEN": "printing", "PRINTER_STATE_SOURCE": "prusalink", "PRUSALINK_URL": "http://10.0.0.7/",
                   secret: "Secret-9876-value", "PRUSA_CONNECT_TOKEN": TOKEN})
    for text in (repr(config), str(config)):
        assert "Secret-9876-value" not in text and TOKEN not in text
        assert text.startswith("Config(cameras=(Camera(number=1, ") and "prusalink_user='maker'" in text
        assert "prusalink_password" not in text and "prusalink_api_key" not in text


def test_an_idle_interval_under_10_is_raised_and_printer_settings_without_printing_are_warned_about():
    assert load({"UPLOAD_WHEN": "printing", "UPLOAD_IDLE_INTERVAL": "3"}).idle_interval == 10
    [warning] = load({"UPLOAD_IDLE_INTERVAL": "600", "PRINTER_STATE_SOURCE": "prusalink"}).warnings
    assert warning.startswith("UPLOAD_IDLE_INTERVAL, PRINTER_STATE_SOURCE are set but UPLOAD_WHEN=always")
