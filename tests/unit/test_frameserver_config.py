"""The frame server's settings: defaults, overrides, and one clear line for every bad value."""

import pytest

from appliance.envparse import ConfigError
from frameserver.config import CameraConfig, load


def test_defaults():
    config = load({})
    assert (config.feed_host, config.http_port) == ("feed", 8081)
    assert config.cameras == (CameraConfig(1, "Printer camera", 9000),)
    assert config.max_frame_bytes == 8 * 1024 * 1024
    assert config.snapshot_max_age == 10.0
    assert config.stream_max_clients == 20
    assert config.stream_idle_timeout == 30.0
    assert config.stream_keepalive == 1.0
    assert config.feed_timeout == 5.0
    assert config.worker_connections == 1000


def test_overrides_and_blank_values():
    config = load({
        "FEED_HOST": " 127.0.0.1 ", "FEED_PORT": "9100", "HTTP_PORT": "18081", "MAX_FRAME_BYTES": "4096",
        "SNAPSHOT_MAX_AGE": "2.5", "STREAM_MAX_CLIENTS": "50", "STREAM_IDLE_TIMEOUT": "3",
        "STREAM_KEEPALIVE": "0.5", "FEED_TIMEOUT": "2", "WORKER_CONNECTIONS": "200",
    })
    assert (config.feed_host, config.cameras[0].feed_port, config.http_port) == ("127.0.0.1", 9100, 18081)
    assert (config.max_frame_bytes, config.snapshot_max_age, config.stream_max_clients) == (4096, 2.5, 50)
    assert (config.stream_idle_timeout, config.stream_keepalive, config.feed_timeout) == (3.0, 0.5, 2.0)
    assert config.worker_connections == 200
    assert load({"SNAPSHOT_MAX_AGE": "  ", "FEED_HOST": ""}) == load({})
    assert load({"FEED_HOST": "::1"}).feed_host == "::1"
    assert load({"FEED_HOST": "camera-feed.local"}).feed_host == "camera-feed.local"


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        load({}).http_port = 1


@pytest.mark.parametrize("name, value", [
    ("SNAPSHOT_MAX_AGE", "abc"),
    ("SNAPSHOT_MAX_AGE", "-1"),
    ("SNAPSHOT_MAX_AGE", "0"),
    ("SNAPSHOT_MAX_AGE", "nan"),
    ("FEED_PORT", "0"),
    ("FEED_PORT", "65536"),
    ("FEED_PORT", "9000.5"),
    ("HTTP_PORT", "70000"),
    ("HTTP_PORT", "-8081"),
    ("HTTP_PORT", "http"),
    ("FEED_HOST", "feed host"),
    ("FEED_HOST", "-feed"),
    ("FEED_HOST", "feed/9000"),
    ("FEED_HOST", "feed:9000"),
    ("FEED_HOST", "feed_cam"),
    ("MAX_FRAME_BYTES", "100"),
    ("MAX_FRAME_BYTES", "8MiB"),
    ("MAX_FRAME_BYTES", str(65 * 1024 * 1024)),
    ("STREAM_MAX_CLIENTS", "0"),
    ("STREAM_MAX_CLIENTS", "-5"),
    ("STREAM_MAX_CLIENTS", "twenty"),
    ("STREAM_IDLE_TIMEOUT", "0"),
    ("STREAM_IDLE_TIMEOUT", "inf"),
    ("STREAM_KEEPALIVE", "-1"),
    ("STREAM_KEEPALIVE", "61"),
    ("FEED_TIMEOUT", "0"),
    ("FEED_TIMEOUT", "soon"),
    ("WORKER_CONNECTIONS", "5"),
    ("WORKER_CONNECTIONS", "many"),
])
def test_a_bad_value_is_one_line_naming_the_variable_and_the_accepted_form(name, value):
    with pytest.raises(ConfigError) as caught:
        load({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}={value!r} is ")
    assert "expected " in message
    assert "\n" not in message


def test_stream_clients_must_leave_connections_for_everything_else():
    with pytest.raises(ConfigError) as caught:
        load({"STREAM_MAX_CLIENTS": "100", "WORKER_CONNECTIONS": "100"})
    assert str(caught.value).startswith(
        "STREAM_MAX_CLIENTS=100 is out of range: expected fewer than WORKER_CONNECTIONS")
    assert load({"STREAM_MAX_CLIENTS": "99", "WORKER_CONNECTIONS": "100"}).stream_max_clients == 99


def test_each_enabled_camera_is_read_from_its_own_port_above_feed_port():
    config = load({"CAMERA2_SOURCE": "synthetic", "CAMERA4_SOURCE": "synthetic", "CAMERA4_NAME": "Bed",
                   "FEED_PORT": "9100"})
    assert config.cameras == (CameraConfig(1, "Printer camera", 9100), CameraConfig(2, "Printer camera 2", 9101),
                              CameraConfig(4, "Bed", 9103))


def test_a_camera_whose_port_would_pass_65535_is_refused():
    assert load({"FEED_PORT": "65535"}).cameras[0].feed_port == 65535
    with pytest.raises(ConfigError) as caught:
        load({"FEED_PORT": "65534", "CAMERA3_SOURCE": "synthetic"})
    assert str(caught.value).startswith("FEED_PORT=65534 is out of range: camera 3 is served 2 ports above it")


def test_a_bad_camera_slot_is_refused_by_the_shared_parser():
    with pytest.raises(ConfigError) as caught:
        load({"CAMERA2_SOURCE": "webcam"})
    assert str(caught.value).startswith("CAMERA2_SOURCE='webcam' is ")
