"""The feed container's main process, run for real: the synthetic camera, and a USB camera
through the stand-in v4l2-ctl (tests/standins/bin)."""

import os
import signal
import socket

from jpegframes.markers import comments, is_synthetic
from jpegframes.splitter import FrameSplitter
from service_process import ROOT, ServiceProcess, connect_when_listening, free_port, service_env
from standins.uvc_capture import MARK, webcam_frames

FAKE_BIN = ROOT / "tests" / "standins" / "bin"


def start(**env):
    return ServiceProcess("feedrunner", service_env(("feed", "common"), **env), wait=20)


def read_frames(sock, count):
    splitter, frames = FrameSplitter(), []
    while len(frames) < count:
        chunk = sock.recv(65536)
        assert chunk, "the camera closed the connection"
        frames += splitter.feed(chunk)
    return frames


def read_until_closed(sock):
    splitter, frames = FrameSplitter(), []
    while chunk := sock.recv(65536):
        frames += splitter.feed(chunk)
    return frames


def number(frame):
    return int(comments(frame)[0][len(MARK):])


def two_free_ports():
    """A port P with P + 1 free too, for cameras 1 and 2."""
    while True:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def test_insisting_on_rpicam_without_it_stops_with_one_line():
    feed = start(FEED_SOURCE="rpicam")
    assert feed.exit_status() == 78
    assert feed.lines == [
        "feed: FEED_SOURCE=rpicam but this image has no rpicam-vid (it is installed only on arm64/armhf): "
        "use FEED_SOURCE=auto or synthetic, or build on the Pi"]


def test_camera_is_restarted_after_each_client_and_stops_promptly_on_sigterm():
    port = free_port()
    feed = start(FEED_SOURCE="auto", FEED_PORT=str(port), CAMERA_WIDTH="320", CAMERA_HEIGHT="240", CAMERA_FPS="20")
    try:
        for _ in range(3):
            with connect_when_listening(port, within=10, exited=feed.exited) as sock:
                frames = read_frames(sock, 3)
            assert all(is_synthetic(f) for f in frames)
        seconds = feed.stop(timeout=5)[1]
        assert seconds < 2.5
    finally:
        feed.kill()
    lines = feed.lines
    assert "FEED_SOURCE=auto: serving the synthetic test pattern, 320x240 at 20 fps" in lines[0]
    assert sum("camera process exited with status" in line for line in lines) >= 2
    assert lines[-1].endswith("stopped")


def camera_process(parent, number):
    """The pid of the feed's process serving camera `number` (its FEED_CAMERA), or None."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
            environ = open(f"/proc/{entry}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and f"FEED_CAMERA={number}".encode() in environ:
            return int(entry)
    return None


def test_each_camera_is_served_on_its_own_port_and_supervised_on_its_own(tmp_path):
    plugged = tmp_path / "plugged"
    webcam = [frame for _, frame in webcam_frames(3)]
    (tmp_path / "capture.mjpeg").write_bytes(b"".join(webcam))
    port = two_free_ports()
    feed = start(PATH=f"{FAKE_BIN}{os.pathsep}{os.environ['PATH']}", FEED_PORT=str(port), FEED_SOURCE="synthetic",
                 CAMERA_WIDTH="160", CAMERA_HEIGHT="120", CAMERA_FPS="20", CAMERA2_SOURCE="usb",
                 CAMERA2_DEVICE="/dev/null", CAMERA2_WIDTH="640", CAMERA2_HEIGHT="480", CAMERA2_FPS="30",
                 FAKE_V4L2_CAPTURE=tmp_path / "capture.mjpeg", FAKE_V4L2_THEN="hold", FAKE_V4L2_PLUGGED=plugged)
    try:
        feed.wait_line("camera 2: ", timeout=20)
        with connect_when_listening(port, within=10, exited=feed.exited) as first:
            assert all(is_synthetic(frame) for frame in read_frames(first, 3))
            # Camera 2 is unplugged: it keeps being retried, camera 1 streams on.
            feed.wait_line("camera 2: usbcam ERROR cannot read the modes of /dev/null: Cannot open device")
            feed.wait_line("camera 2: camera process exited with status 1")
            plugged.touch()
            with connect_when_listening(port + 1, within=15, exited=feed.exited) as second:
                assert [number(frame) for frame in read_frames(second, 3)] == [1, 2, 3]
                # Camera 2's process dies: its stream ends, camera 1's does not notice.
                os.kill(camera_process(feed.proc.pid, 2), signal.SIGKILL)
                second.settimeout(5)
                assert read_until_closed(second) == []
            assert len(read_frames(first, 10)) >= 10  # the same connection: camera 1 never noticed
            feed.wait_line("camera 2: camera process exited with status -9")
            with connect_when_listening(port + 1, within=15, exited=feed.exited) as again:
                assert [number(frame) for frame in read_frames(again, 1)] == [1]
            assert camera_process(feed.proc.pid, 1) is not None
        assert feed.stop(timeout=5)[0] == 0
    finally:
        feed.kill()
