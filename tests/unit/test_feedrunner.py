import sys

import pytest

from appliance.envparse import ConfigError
from feedrunner.command import camera_command, choose_source
from feedrunner.config import load
from feedrunner.supervisor import HEALTHY_RUN_S, MAX_RESTART_S, QUICK_RESTART_S, SETTING_RETRY_S, Restarts

RPICAM = "/usr/bin/rpicam-vid"
V4L2 = "/usr/bin/v4l2-ctl"


def command(environ, number=1, source="rpicam"):
    config = load(environ)
    camera = next(camera for camera in config.cameras if camera.number == number)
    return camera_command(camera, source, config.port(camera), RPICAM)


def test_defaults_match_the_documented_rpicam_command():
    argv, env = command({})
    assert argv == [RPICAM, "-t", "0", "-n", "--codec", "mjpeg", "--width", "1280",
                    "--height", "720", "--framerate", "15", "-q", "80", "--listen", "-o", "tcp://0.0.0.0:9000"]
    assert env == {}


def test_extra_args_are_split_like_a_shell_and_appended():
    argv, _ = command({"CAMERA_EXTRA_ARGS": "--hflip --vflip --awb 'indoor'"})
    assert argv[-4:] == ["--hflip", "--vflip", "--awb", "indoor"]


def test_a_second_pi_camera_is_its_index_on_the_next_port():
    argv, _ = command({"CAMERA2_SOURCE": "rpicam", "CAMERA2_DEVICE": "1", "CAMERA2_WIDTH": "1920",
                       "CAMERA2_HEIGHT": "1080", "CAMERA2_FPS": "30", "CAMERA2_QUALITY": "90"}, number=2)
    assert argv == [RPICAM, "-t", "0", "-n", "--camera", "1", "--codec", "mjpeg", "--width", "1920",
                    "--height", "1080", "--framerate", "30", "-q", "90", "--listen", "-o", "tcp://0.0.0.0:9001"]


def test_the_synthetic_camera_is_told_its_slot_and_port():
    argv, env = command({"CAMERA3_SOURCE": "synthetic", "FEED_PORT": "9100"}, number=3, source="synthetic")
    assert argv == [sys.executable, "-m", "synthcam"]
    assert env == {"FEED_CAMERA": "3", "FEED_BIND": "0.0.0.0", "FEED_PORT": "9102", "SYNTHETIC_KEEP_SERVING": "false"}


def test_a_usb_camera_is_served_by_usbcam():
    argv, env = command({"CAMERA4_SOURCE": "usb", "CAMERA4_DEVICE": "/dev/v4l/by-id/usb-cam-video-index0"},
                        number=4, source="usb")
    assert argv == [sys.executable, "-m", "usbcam"]
    assert env == {"FEED_CAMERA": "4", "FEED_BIND": "0.0.0.0", "FEED_PORT": "9003"}


def test_every_enabled_camera_is_run():
    config = load({"CAMERA2_SOURCE": "synthetic", "CAMERA4_SOURCE": "synthetic"})
    assert [(camera.number, config.port(camera)) for camera in config.cameras] == [(1, 9000), (2, 9001), (4, 9003)]


@pytest.mark.parametrize("environ, tools, chosen", [
    ({"FEED_SOURCE": "auto"}, (RPICAM, None), "rpicam"), ({"FEED_SOURCE": "auto"}, (None, V4L2), "synthetic"),
    ({"FEED_SOURCE": "rpicam"}, (RPICAM, None), "rpicam"), ({"FEED_SOURCE": "synthetic"}, (RPICAM, V4L2), "synthetic"),
    ({"FEED_SOURCE": "usb", "CAMERA_DEVICE": "/dev/video0"}, (RPICAM, V4L2), "usb")])
def test_source_choice(environ, tools, chosen):
    assert choose_source(load(environ).cameras[0], *tools) == chosen


def test_insisting_on_the_camera_without_rpicam_vid_is_an_error():
    with pytest.raises(ConfigError, match="^FEED_SOURCE=rpicam but this image has no rpicam-vid .*: use "
                                          "FEED_SOURCE=auto or synthetic, or build on the Pi$"):
        choose_source(load({"FEED_SOURCE": "rpicam"}).cameras[0], None, V4L2)
    with pytest.raises(ConfigError, match="^CAMERA2_SOURCE=rpicam but this image has no rpicam-vid .*: use "
                                          "synthetic, or build on the Pi$"):
        choose_source(load({"CAMERA2_SOURCE": "rpicam", "CAMERA2_DEVICE": "1"}).cameras[1], None, V4L2)


def test_a_usb_camera_without_v4l2_ctl_is_an_error():
    camera = load({"CAMERA2_SOURCE": "usb", "CAMERA2_DEVICE": "/dev/video0"}).cameras[1]
    with pytest.raises(ConfigError, match="^CAMERA2_SOURCE=usb but this image has no v4l2-ctl"):
        choose_source(camera, RPICAM, None)


@pytest.mark.parametrize("name, value", [("FEED_SOURCE", "webcam"), ("CAMERA_WIDTH", "wide"), ("CAMERA_FPS", "0"),
                                         ("CAMERA2_WIDTH", "640"), ("CAMERA_EXTRA_ARGS", "--awb 'indoor"),
                                         ("FEED_PORT", "65535")])
def test_bad_settings_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=f"^{name}"):
        load({name: value})


def test_restart_pause_is_short_after_a_healthy_run_and_grows_for_a_dying_camera():
    restarts = Restarts()
    assert restarts.pause(1, HEALTHY_RUN_S + 1) == QUICK_RESTART_S
    pauses = [restarts.pause(1, 0.1) for _ in range(10)]
    assert pauses[:2] == [QUICK_RESTART_S, 2 * QUICK_RESTART_S]
    assert pauses == sorted(pauses) and pauses[-1] == MAX_RESTART_S
    assert restarts.pause(1, HEALTHY_RUN_S) == QUICK_RESTART_S
    assert restarts.pause(1, 0.1) == QUICK_RESTART_S  # the growth starts again after a healthy run


def test_a_clean_exit_is_routine_and_a_refused_mode_waits_longest():
    restarts = Restarts()
    for _ in range(5):
        restarts.pause(1, 0.1)
    assert restarts.pause(0, 0.1) == QUICK_RESTART_S  # its client left, however soon
    assert restarts.pause(78, 0.1) == SETTING_RETRY_S
