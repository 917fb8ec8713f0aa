"""usbcam.v4l2: the v4l2-ctl command lines, the parse of --list-formats-ext, the mode check."""

from pathlib import Path

import pytest

from usbcam.v4l2 import (Format, Mode, ModeError, Sizes, capture_command, check_mode, list_formats_command,
                         mjpeg_modes, parse_formats)

LISTINGS = Path(__file__).resolve().parents[1] / "standins" / "v4l2"
DEVICE = "/dev/v4l/by-id/usb-046d_HD_Pro_Webcam_C920_AB12-video-index0"


def listing(name):
    return parse_formats((LISTINGS / name).read_text())


def test_the_capture_command_sets_the_mjpeg_mode_and_streams_buffers_to_stdout():
    assert capture_command("/usr/bin/v4l2-ctl", DEVICE, 1280, 720, 15, ("--set-ctrl=focus_automatic_continuous=0",)) \
        == ["/usr/bin/v4l2-ctl", "--device", DEVICE, "--set-fmt-video=width=1280,height=720,pixelformat=MJPG",
            "--set-parm=15", "--set-ctrl=focus_automatic_continuous=0", "--stream-mmap=4", "--stream-to=-"]
    assert list_formats_command("v4l2-ctl", DEVICE) == ["v4l2-ctl", "--device", DEVICE, "--list-formats-ext"]


def test_a_webcams_listing_parses_into_formats_sizes_and_rates():
    formats = listing("webcam.txt")
    assert [(fmt.fourcc, fmt.description) for fmt in formats] == [("MJPG", "Motion-JPEG, compressed"),
                                                                   ("YUYV", "YUYV 4:2:2")]
    assert formats[0].modes == (Mode(Sizes(1920, 1080, 1920, 1080), ((30.0, 30.0), (15.0, 15.0))),
                                Mode(Sizes(1280, 720, 1280, 720), ((30.0, 30.0), (25.0, 25.0), (15.0, 15.0))),
                                Mode(Sizes(640, 480, 640, 480), ((30.0, 30.0),)))
    assert [str(mode) for mode in mjpeg_modes(formats)] == ["1920x1080 at 30, 15 fps", "1280x720 at 30, 25, 15 fps",
                                                           "640x480 at 30 fps"]


def test_stepwise_and_continuous_modes_and_the_jpeg_fourcc():
    formats = listing("stepwise.txt")
    assert formats == [Format("MJPG", "Motion-JPEG, compressed", (Mode(Sizes(16, 16, 2592, 1944, 16, 8),
                                                                        ((1.0, 30.0),)),)),
                       Format("JPEG", "JFIF JPEG, compressed", (Mode(Sizes(32, 32, 800, 600), ((2.0, 10.0),)),))]
    check_mode(formats, DEVICE, 1920, 1080, 30, "CAMERA_WIDTH/HEIGHT/FPS", "FEED_SOURCE")  # on the 16/8 grid
    check_mode(formats, DEVICE, 800, 600, 5, "CAMERA_WIDTH/HEIGHT/FPS", "FEED_SOURCE")
    with pytest.raises(ModeError):
        check_mode(formats, DEVICE, 1921, 1080, 30, "CAMERA_WIDTH/HEIGHT/FPS", "FEED_SOURCE")  # off the grid
    assert [str(mode) for mode in mjpeg_modes(formats)] == ["16x16 to 2592x1944 at 1-30 fps",
                                                           "32x32 to 800x600 at 2-10 fps"]


@pytest.mark.parametrize("width, height, fps", [(1920, 1080, 30), (1920, 1080, 15), (1280, 720, 25), (640, 480, 30)])
def test_an_offered_mode_passes(width, height, fps):
    check_mode(listing("webcam.txt"), DEVICE, width, height, fps, "CAMERA2_WIDTH/HEIGHT/FPS", "CAMERA2_SOURCE")


@pytest.mark.parametrize("width, height, fps", [(1280, 720, 20), (1024, 768, 15), (640, 480, 15), (1920, 1080, 5)])
def test_a_mode_the_camera_does_not_offer_is_one_line_listing_what_it_offers(width, height, fps):
    with pytest.raises(ModeError) as error:
        check_mode(listing("webcam.txt"), DEVICE, width, height, fps, "CAMERA2_WIDTH/HEIGHT/FPS", "CAMERA2_SOURCE")
    assert str(error.value) == (
        f"CAMERA2_WIDTH/HEIGHT/FPS={width}x{height} at {fps} fps is not an MJPEG mode of {DEVICE}; it offers "
        "1920x1080 at 30, 15 fps; 1280x720 at 30, 25, 15 fps; 640x480 at 30 fps")


def test_a_camera_without_mjpeg_is_refused_with_the_fix():
    with pytest.raises(ModeError) as error:
        check_mode(listing("yuyv-only.txt"), DEVICE, 640, 480, 30, "CAMERA_WIDTH/HEIGHT/FPS", "FEED_SOURCE")
    assert str(error.value) == (
        f"{DEVICE} offers no MJPEG, only YUYV (YUYV 4:2:2): the appliance passes a camera's own JPEGs through and "
        "never encodes; use a webcam that offers MJPEG (most UVC webcams do), or set FEED_SOURCE=rpicam for a Pi "
        "camera")


def test_a_node_that_lists_nothing_is_not_the_capture_node():
    with pytest.raises(ModeError, match="lists no video formats: it is not a capture device"):
        check_mode(parse_formats("ioctl: VIDIOC_ENUM_FMT\n\tType: Video Capture\n\n"), "/dev/video1", 640, 480, 30,
                   "CAMERA_WIDTH/HEIGHT/FPS", "FEED_SOURCE")
