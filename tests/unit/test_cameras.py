"""appliance.cameras: the camera slots every service reads, and each way a setting is refused."""

import pytest

from appliance.cameras import Camera, Capture, Upload, default_name, load, variable
from appliance.envparse import ConfigError

EVERYTHING = {"capture": True, "upload": True}


def refused(environ, **groups):
    with pytest.raises(ConfigError) as error:
        load(environ, **(groups or EVERYTHING))
    message = str(error.value)
    assert "\n" not in message
    return message


def test_no_settings_is_camera_1_alone_with_todays_defaults():
    cameras = load({}, **EVERYTHING)
    assert cameras.enabled == (Camera(1, "auto", "Printer camera",
                                      Capture(device="0", width=1280, height=720, fps=15, quality=80, extra_args=()),
                                      Upload(token="", fingerprint="", interval=10.0)),)
    assert cameras.warnings == ()
    assert cameras.get(1).feed_port == 9000 and cameras.get(2) is None


def test_camera_1_reads_todays_variables_unchanged():
    camera = load({"FEED_SOURCE": "synthetic", "CAMERA_WIDTH": "640", "CAMERA_HEIGHT": "480", "CAMERA_FPS": "30",
                   "CAMERA_QUALITY": "55", "CAMERA_EXTRA_ARGS": "--hflip --awb 'indoor'", "CAMERA_NAME": "Nozzle",
                   "PRUSA_CONNECT_TOKEN": "token-one-abcd", "PRUSA_CONNECT_FINGERPRINT": "f" * 16,
                   "UPLOAD_INTERVAL": "12.5"}, **EVERYTHING).get(1)
    assert camera == Camera(1, "synthetic", "Nozzle",
                            Capture(device="", width=640, height=480, fps=30, quality=55,
                                    extra_args=("--hflip", "--awb", "indoor")),
                            Upload(token="token-one-abcd", fingerprint="f" * 16, interval=12.5))


def test_cameras_2_to_4_take_the_prefixed_names_and_their_own_defaults():
    environ = {"CAMERA2_SOURCE": "usb", "CAMERA2_DEVICE": "/dev/v4l/by-id/usb-046d_C920_AB12-video-index0",
               "CAMERA2_WIDTH": "1920", "CAMERA2_HEIGHT": "1080", "CAMERA2_FPS": "30", "CAMERA2_QUALITY": "90",
               "CAMERA2_EXTRA_ARGS": "--set-ctrl=focus_automatic_continuous=0", "CAMERA2_NAME": "Overview",
               "CAMERA2_PRUSA_CONNECT_TOKEN": "token-two", "CAMERA2_PRUSA_CONNECT_FINGERPRINT": "g" * 20,
               "CAMERA2_UPLOAD_INTERVAL": "30", "CAMERA4_SOURCE": "rpicam", "CAMERA4_DEVICE": "1"}
    cameras = load(environ, **EVERYTHING)
    assert cameras.numbers == (1, 2, 4)
    assert cameras.get(2) == Camera(2, "usb", "Overview",
                                    Capture(device="/dev/v4l/by-id/usb-046d_C920_AB12-video-index0", width=1920,
                                            height=1080, fps=30, quality=90,
                                            extra_args=("--set-ctrl=focus_automatic_continuous=0",)),
                                    Upload(token="token-two", fingerprint="g" * 20, interval=30.0))
    assert cameras.get(4) == Camera(4, "rpicam", "Printer camera 4",
                                    Capture(device="1", width=1280, height=720, fps=15, quality=80, extra_args=()),
                                    Upload(token="", fingerprint="", interval=10.0))
    assert [camera.feed_port for camera in cameras] == [9000, 9001, 9003]


def test_an_empty_source_is_off_and_blank_values_count_as_unset():
    cameras = load({"CAMERA2_SOURCE": "", "CAMERA3_SOURCE": "  ", "CAMERA3_WIDTH": "", "CAMERA4_NAME": " "},
                   **EVERYTHING)
    assert cameras.numbers == (1,)


def test_a_service_gets_only_the_groups_it_asks_for():
    environ = {"CAMERA2_SOURCE": "synthetic", "CAMERA2_NAME": "Bed"}
    http = load(environ)
    assert [(c.number, c.source, c.name, c.capture, c.upload) for c in http] == [
        (1, "auto", "Printer camera", None, None), (2, "synthetic", "Bed", None, None)]
    # The uploader neither reads nor checks the feed's settings, and the feed not the uploader's.
    assert load({"CAMERA_WIDTH": "huge", "CAMERA3_DEVICE": "/dev/video0"}, upload=True).get(1).capture is None
    assert load({"PRUSA_CONNECT_TOKEN": "has space", "CAMERA3_PRUSA_CONNECT_TOKEN": "t"}, capture=True).get(1).upload \
        is None


def test_the_token_is_kept_out_of_repr_and_str():
    camera = load({"PRUSA_CONNECT_TOKEN": "secret-token-1234"}, upload=True).get(1)
    for text in (repr(camera), str(camera), repr(camera.upload), str(camera.upload)):
        assert "secret-token-1234" not in text and "token=" not in text
    assert repr(camera.upload) == "Upload(fingerprint='', interval=10.0)"


def test_an_interval_under_connects_limit_is_raised_with_a_warning():
    cameras = load({"UPLOAD_INTERVAL": "2", "CAMERA2_SOURCE": "synthetic", "CAMERA2_UPLOAD_INTERVAL": "0"},
                   upload=True)
    assert [camera.upload.interval for camera in cameras] == [10.0, 10.0]
    assert cameras.warnings == (
        "UPLOAD_INTERVAL=2 is under Prusa Connect's limit of one image per 10 s: using 10",
        "CAMERA2_UPLOAD_INTERVAL=0 is under Prusa Connect's limit of one image per 10 s: using 10")


@pytest.mark.parametrize("number, setting, name", [
    (1, "source", "FEED_SOURCE"), (1, "token", "PRUSA_CONNECT_TOKEN"), (1, "upload_interval", "UPLOAD_INTERVAL"),
    (1, "fingerprint", "PRUSA_CONNECT_FINGERPRINT"), (1, "device", "CAMERA_DEVICE"),
    (1, "extra_args", "CAMERA_EXTRA_ARGS"), (3, "source", "CAMERA3_SOURCE"),
    (3, "token", "CAMERA3_PRUSA_CONNECT_TOKEN"), (3, "fingerprint", "CAMERA3_PRUSA_CONNECT_FINGERPRINT"),
    (3, "upload_interval", "CAMERA3_UPLOAD_INTERVAL"), (4, "extra_args", "CAMERA4_EXTRA_ARGS")])
def test_variable_names(number, setting, name):
    assert variable(number, setting) == name


def test_default_names_tell_the_cameras_apart():
    assert [default_name(n) for n in (1, 2, 3, 4)] == ["Printer camera", "Printer camera 2", "Printer camera 3",
                                                       "Printer camera 4"]


@pytest.mark.parametrize("name, value", [
    ("FEED_SOURCE", "webcam"), ("CAMERA_WIDTH", "15"), ("CAMERA_WIDTH", "4097"), ("CAMERA_HEIGHT", "tall"),
    ("CAMERA_FPS", "0"), ("CAMERA_FPS", "121"), ("CAMERA_FPS", "7.5"), ("CAMERA_QUALITY", "0"),
    ("CAMERA_QUALITY", "101"), ("CAMERA_EXTRA_ARGS", "--awb 'indoor"), ("CAMERA_DEVICE", "8"),
    ("CAMERA_DEVICE", "/dev/video0"), ("CAMERA_NAME", "a" * 65), ("CAMERA_NAME", "tab\there"),
    ("PRUSA_CONNECT_FINGERPRINT", "short"), ("UPLOAD_INTERVAL", "soon"), ("UPLOAD_INTERVAL", "86401")])
def test_a_bad_camera_1_value_names_its_variable(name, value):
    assert refused({name: value}).startswith(f"{name}=")


@pytest.mark.parametrize("name, value", [
    ("CAMERA2_SOURCE", "auto"), ("CAMERA2_SOURCE", "USB"), ("CAMERA2_WIDTH", "0"), ("CAMERA2_FPS", "200"),
    ("CAMERA2_QUALITY", "-1"), ("CAMERA2_DEVICE", "video0"), ("CAMERA2_DEVICE", "/dev/v4l/../../etc/passwd"),
    ("CAMERA2_DEVICE", "/dev/video0; reboot"), ("CAMERA2_EXTRA_ARGS", '"open'),
    ("CAMERA2_PRUSA_CONNECT_FINGERPRINT", "x" * 129), ("CAMERA2_UPLOAD_INTERVAL", "-1")])
def test_a_bad_camera_2_value_names_its_variable(name, value):
    environ = {"CAMERA2_SOURCE": "usb", "CAMERA2_DEVICE": "/dev/v4l/by-id/usb-cam-video-index0", name: value}
    assert refused(environ).startswith(f"{name}=")


def test_a_token_with_spaces_is_refused_without_echoing_it():
    message = refused({"CAMERA2_SOURCE": "synthetic", "CAMERA2_PRUSA_CONNECT_TOKEN": "secret with space"})
    assert message.startswith("CAMERA2_PRUSA_CONNECT_TOKEN is invalid:") and "secret" not in message


@pytest.mark.parametrize("setting", ["device", "width", "height", "fps", "quality", "extra_args", "name",
                                     "fingerprint", "upload_interval"])
def test_a_setting_for_a_camera_that_is_off_is_refused(setting):
    name = variable(3, setting)
    assert refused({name: "/dev/video0"}) == (
        f"{name}='/dev/video0' is set but camera 3 is off (CAMERA3_SOURCE is empty): set CAMERA3_SOURCE to "
        f"rpicam, usb, synthetic, or leave {name} empty")


def test_a_token_for_a_camera_that_is_off_is_refused_without_echoing_it():
    message = refused({"CAMERA4_PRUSA_CONNECT_TOKEN": "secret-token-9876"})
    assert message.startswith("CAMERA4_PRUSA_CONNECT_TOKEN is set but camera 4 is off (CAMERA4_SOURCE is empty)")
    assert "secret" not in message and "9876" not in message


def test_a_usb_camera_needs_its_device():
    assert refused({"CAMERA2_SOURCE": "usb"}, capture=True).startswith(
        "CAMERA2_DEVICE is empty but CAMERA2_SOURCE=usb needs it: expected a device path such as /dev/v4l/by-id/")
    assert refused({"FEED_SOURCE": "usb"}, capture=True).startswith(
        "CAMERA_DEVICE is empty but FEED_SOURCE=usb needs it")


def test_the_synthetic_camera_ignores_a_device_left_from_another_source():
    assert load({"FEED_SOURCE": "synthetic", "CAMERA_DEVICE": "/dev/video0"}, capture=True).get(1).capture.device == ""


def test_one_usb_device_for_two_cameras_is_refused():
    device = "/dev/v4l/by-id/usb-cam-video-index0"
    message = refused({"FEED_SOURCE": "usb", "CAMERA_DEVICE": device, "CAMERA3_SOURCE": "usb",
                       "CAMERA3_DEVICE": "/dev/v4l//by-id/usb-cam-video-index0"}, capture=True)
    assert message == (f"CAMERA3_DEVICE='{device}' is invalid: {device} is already camera 1's (CAMERA_DEVICE); "
                       "each camera needs its own device")


def test_two_pi_cameras_need_their_own_indexes():
    message = refused({"CAMERA2_SOURCE": "rpicam"}, capture=True)
    assert message == ("CAMERA2_DEVICE='0' is invalid: Pi camera 0 is already camera 1's (CAMERA_DEVICE); "
                       "give each Pi camera its own index (rpicam-vid --list-cameras shows them)")
    assert load({"CAMERA2_SOURCE": "rpicam", "CAMERA2_DEVICE": "1"}, capture=True).numbers == (1, 2)
    # A USB camera and the synthetic one never clash with a Pi camera's index.
    assert load({"FEED_SOURCE": "synthetic", "CAMERA2_SOURCE": "rpicam", "CAMERA3_SOURCE": "synthetic"},
                capture=True).numbers == (1, 2, 3)


def test_one_token_for_two_cameras_is_refused_without_echoing_it():
    message = refused({"PRUSA_CONNECT_TOKEN": "shared-token-5678", "CAMERA2_SOURCE": "synthetic",
                       "CAMERA2_PRUSA_CONNECT_TOKEN": "shared-token-5678"}, upload=True)
    assert message == ("CAMERA2_PRUSA_CONNECT_TOKEN is invalid: it is the same token as PRUSA_CONNECT_TOKEN "
                       "(camera 1); each camera in Prusa Connect has its own token")


def test_one_fingerprint_for_two_cameras_is_refused():
    message = refused({"CAMERA2_SOURCE": "synthetic", "CAMERA2_PRUSA_CONNECT_FINGERPRINT": "p" * 16,
                       "CAMERA4_SOURCE": "synthetic", "CAMERA4_PRUSA_CONNECT_FINGERPRINT": "p" * 16}, upload=True)
    assert message.startswith("CAMERA4_PRUSA_CONNECT_FINGERPRINT is invalid: it is the same fingerprint as "
                              "CAMERA2_PRUSA_CONNECT_FINGERPRINT (camera 2)")
