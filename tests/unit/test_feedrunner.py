import sys

import pytest

from appliance.envparse import ConfigError
from feedrunner.command import camera_command, choose_source
from feedrunner.config import load
from feedrunner.supervisor import HEALTHY_RUN_S, MAX_RESTART_S, QUICK_RESTART_S, next_pause


def test_defaults_match_the_documented_rpicam_command():
    config = load({})
    argv, env = camera_command(config, "rpicam", "/usr/bin/rpicam-vid")
    assert argv == ["/usr/bin/rpicam-vid", "-t", "0", "-n", "--codec", "mjpeg", "--width", "1280",
                    "--height", "720", "--framerate", "15", "-q", "80", "--listen", "-o", "tcp://0.0.0.0:9000"]
    assert env == {}


def test_extra_args_are_split_like_a_shell_and_appended():
    config = load({"CAMERA_EXTRA_ARGS": "--hflip --vflip --awb 'indoor'"})
    argv, _ = camera_command(config, "rpicam", "/usr/bin/rpicam-vid")
    assert argv[-4:] == ["--hflip", "--vflip", "--awb", "indoor"]


def test_the_synthetic_camera_gets_the_same_settings():
    config = load({"CAMERA_WIDTH": "640", "CAMERA_HEIGHT": "480", "CAMERA_FPS": "5", "CAMERA_QUALITY": "60"})
    argv, env = camera_command(config, "synthetic", None)
    assert argv == [sys.executable, "-m", "synthcam"]
    assert env == {"FEED_BIND": "0.0.0.0", "FEED_PORT": "9000", "CAMERA_WIDTH": "640", "CAMERA_HEIGHT": "480",
                   "CAMERA_FPS": "5", "CAMERA_QUALITY": "60", "SYNTHETIC_KEEP_SERVING": "false"}


@pytest.mark.parametrize("source, rpicam, chosen", [
    ("auto", "/usr/bin/rpicam-vid", "rpicam"), ("auto", None, "synthetic"),
    ("rpicam", "/usr/bin/rpicam-vid", "rpicam"), ("synthetic", "/usr/bin/rpicam-vid", "synthetic"),
    ("synthetic", None, "synthetic")])
def test_source_choice(source, rpicam, chosen):
    assert choose_source(load({"FEED_SOURCE": source}), rpicam) == chosen


def test_insisting_on_the_camera_without_rpicam_vid_is_an_error():
    with pytest.raises(ConfigError, match="FEED_SOURCE=rpicam but this image has no rpicam-vid"):
        choose_source(load({"FEED_SOURCE": "rpicam"}), None)


@pytest.mark.parametrize("name, value", [("FEED_SOURCE", "usb"), ("CAMERA_WIDTH", "wide"), ("CAMERA_FPS", "0"),
                                         ("CAMERA_QUALITY", "101"), ("CAMERA_EXTRA_ARGS", "--awb 'indoor")])
def test_bad_settings_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        load({name: value})


def test_restart_pause_is_short_after_a_healthy_run_and_grows_for_a_dying_camera():
    assert next_pause(QUICK_RESTART_S, HEALTHY_RUN_S + 1) == QUICK_RESTART_S
    pauses = [QUICK_RESTART_S]
    for _ in range(10):
        pauses.append(next_pause(pauses[-1], 0.1))
    assert pauses[1] == 2 * QUICK_RESTART_S
    assert pauses == sorted(pauses) and pauses[-1] == MAX_RESTART_S
    assert next_pause(MAX_RESTART_S, HEALTHY_RUN_S) == QUICK_RESTART_S
