import pytest

from appliance.envparse import ConfigError
from synthcam.config import Config, load


def test_defaults_are_camera_1s_on_its_port():
    assert load({}) == Config(number=1, name="Printer camera", bind="0.0.0.0", port=9000, width=1280, height=720,
                              fps=15, quality=80, keep_serving=False)


def test_every_setting_is_read():
    config = load({"FEED_BIND": "127.0.0.1", "FEED_PORT": "9100", "CAMERA_WIDTH": "640", "CAMERA_HEIGHT": "480",
                   "CAMERA_FPS": "30", "CAMERA_QUALITY": "55", "CAMERA_NAME": "Nozzle", "SYNTHETIC_KEEP_SERVING": "1"})
    assert config == Config(number=1, name="Nozzle", bind="127.0.0.1", port=9100, width=640, height=480, fps=30,
                            quality=55, keep_serving=True)


def test_feed_camera_picks_the_slot_and_its_port():
    config = load({"FEED_CAMERA": "3", "CAMERA3_SOURCE": "synthetic", "CAMERA3_WIDTH": "320", "CAMERA3_NAME": "Bed",
                   "CAMERA_WIDTH": "999"})
    assert (config.number, config.name, config.port, config.width, config.height) == (3, "Bed", 9002, 320, 720)


@pytest.mark.parametrize("environ", [{"FEED_CAMERA": "2"}, {"FEED_CAMERA": "2", "CAMERA2_SOURCE": "usb",
                                                            "CAMERA2_DEVICE": "/dev/video0"}])
def test_a_slot_that_is_not_a_synthetic_camera_is_refused(environ):
    with pytest.raises(ConfigError, match="^FEED_CAMERA=2 is invalid: expected a camera whose CAMERA2_SOURCE is "
                                          "synthetic or auto$"):
        load(environ)


@pytest.mark.parametrize("value, keep", [("1", True), ("true", True), ("0", False), ("false", False), (" ", False)])
def test_keep_serving_takes_0_1_true_false(value, keep):
    assert load({"SYNTHETIC_KEEP_SERVING": value}).keep_serving is keep


@pytest.mark.parametrize("name, value", [
    ("CAMERA_WIDTH", "15"), ("CAMERA_FPS", "7.5"), ("CAMERA_QUALITY", "101"), ("FEED_PORT", "0"),
    ("FEED_PORT", "65536"), ("FEED_PORT", "http"), ("FEED_CAMERA", "5"), ("FEED_CAMERA", "0"),
    ("SYNTHETIC_KEEP_SERVING", "yes"), ("FEED_BIND", "0.0.0.0; rm -rf /")])
def test_a_bad_setting_is_one_line_naming_the_variable(name, value):
    with pytest.raises(ConfigError) as error:
        load({name: value})
    assert str(error.value).startswith(f"{name}=")
    assert "\n" not in str(error.value)
