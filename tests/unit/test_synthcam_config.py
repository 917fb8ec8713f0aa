import pytest

from appliance.envparse import ConfigError
from synthcam.config import Config, load


def test_defaults_match_the_documented_rpicam_command():
    assert load({}) == Config(bind="0.0.0.0", port=9000, width=1280, height=720, fps=15, quality=80,
                              keep_serving=False)


def test_every_setting_is_read():
    config = load({"FEED_BIND": "127.0.0.1", "FEED_PORT": "9100", "CAMERA_WIDTH": "640", "CAMERA_HEIGHT": "480",
                   "CAMERA_FPS": "30", "CAMERA_QUALITY": "55", "SYNTHETIC_KEEP_SERVING": "1"})
    assert config == Config(bind="127.0.0.1", port=9100, width=640, height=480, fps=30, quality=55,
                            keep_serving=True)


@pytest.mark.parametrize("value, keep", [("1", True), ("true", True), ("0", False), ("false", False), (" ", False)])
def test_keep_serving_takes_0_1_true_false(value, keep):
    assert load({"SYNTHETIC_KEEP_SERVING": value}).keep_serving is keep


def test_the_limits_are_inclusive():
    low = load({"CAMERA_WIDTH": "16", "CAMERA_HEIGHT": "16", "CAMERA_FPS": "1", "CAMERA_QUALITY": "1",
                "FEED_PORT": "1"})
    high = load({"CAMERA_WIDTH": "4096", "CAMERA_HEIGHT": "4096", "CAMERA_FPS": "120", "CAMERA_QUALITY": "100",
                 "FEED_PORT": "65535"})
    assert (low.width, low.height, low.fps, low.quality, low.port) == (16, 16, 1, 1, 1)
    assert (high.width, high.height, high.fps, high.quality, high.port) == (4096, 4096, 120, 100, 65535)


@pytest.mark.parametrize("name, value", [
    ("CAMERA_WIDTH", "15"), ("CAMERA_WIDTH", "4097"), ("CAMERA_WIDTH", "wide"), ("CAMERA_HEIGHT", "0"),
    ("CAMERA_FPS", "0"), ("CAMERA_FPS", "121"), ("CAMERA_FPS", "7.5"), ("CAMERA_QUALITY", "0"),
    ("CAMERA_QUALITY", "101"), ("FEED_PORT", "0"), ("FEED_PORT", "65536"), ("FEED_PORT", "http"),
    ("SYNTHETIC_KEEP_SERVING", "yes"), ("FEED_BIND", "0.0.0.0; rm -rf /")])
def test_a_bad_setting_is_one_line_naming_the_variable(name, value):
    with pytest.raises(ConfigError) as error:
        load({name: value})
    assert str(error.value).startswith(f"{name}=")
    assert "\n" not in str(error.value)
