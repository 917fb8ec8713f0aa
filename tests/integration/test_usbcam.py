"""The usb source end to end: `python -m usbcam` as the feed runs it, with a stand-in v4l2-ctl
(tests/standins/bin, found on PATH) playing a webcam's capture: frames without Huffman tables,
one cut short, padding between frames."""

import io
import json
import os
import socket
import threading
import time

import pytest
from PIL import Image

from appliance.throttle import Throttle
from jpegframes.huffman import has_huffman_tables
from jpegframes.markers import comments
from jpegframes.splitter import FrameSplitter
from service_process import ROOT, ServiceProcess, connect_when_listening, free_port, service_env
from standins.uvc_capture import MARK, webcam_frames
from usbcam.__main__ import list_cameras
from usbcam.relay import CLIENT_LEFT, relay
from usbcam.v4l2 import capture_command

FAKE_BIN = ROOT / "tests" / "standins" / "bin"
LISTINGS = ROOT / "tests" / "standins" / "v4l2"


class UsbCam(ServiceProcess):
    def __init__(self, tmp_path, capture=b"", **env):
        self.port = free_port()
        self.calls = tmp_path / "v4l2-calls.jsonl"
        (tmp_path / "capture.mjpeg").write_bytes(capture)
        settings = {"PATH": f"{FAKE_BIN}{os.pathsep}{os.environ['PATH']}", "FEED_SOURCE": "usb",
                    "CAMERA_DEVICE": "/dev/null", "CAMERA_WIDTH": "1280", "CAMERA_HEIGHT": "720", "CAMERA_FPS": "30",
                    "FEED_BIND": "127.0.0.1", "FEED_PORT": self.port, "FAKE_V4L2_LOG": self.calls,
                    "FAKE_V4L2_CAPTURE": tmp_path / "capture.mjpeg", **env}
        super().__init__("usbcam", service_env(("feed", "common"), **settings), wait=20)

    def connect(self):
        return connect_when_listening(self.port, within=self.wait, exited=self.exited)

    def v4l2_calls(self):
        return [json.loads(line) for line in self.calls.read_text().splitlines()] if self.calls.exists() else []


@pytest.fixture
def start(tmp_path):
    started = []

    def start_usbcam(capture=b"", **env):
        started.append(UsbCam(tmp_path, capture, **env))
        return started[-1]

    yield start_usbcam
    for usbcam in started:
        usbcam.kill()


def read_until_closed(sock):
    splitter, frames = FrameSplitter(), []
    while chunk := sock.recv(65536):
        frames += splitter.feed(chunk)
    assert splitter.dropped == 0 and splitter.discarded_bytes == 0  # what the feed sends is whole
    return frames


def pixels(frame):
    with Image.open(io.BytesIO(frame)) as image:
        image.load()
        return image.tobytes()


def number(frame):
    return int(comments(frame)[0][len(MARK):])


def test_a_webcams_frames_arrive_whole_with_tables_and_the_cut_one_is_dropped(start):
    pairs = webcam_frames(5)
    sent = [webcam for _, webcam in pairs]
    capture = b"".join((sent[0], sent[1], sent[2][:len(sent[2]) // 2], b"\0" * 300, sent[3], b"\0" * 64, sent[4]))
    usbcam = start(capture)
    with usbcam.connect() as sock:
        frames = read_until_closed(sock)
    assert [number(frame) for frame in frames] == [1, 2, 4, 5]
    for frame in frames:
        assert has_huffman_tables(frame)
        assert pixels(frame) == pixels(pairs[number(frame) - 1][0])  # the camera's own pixels, not re-encoded
    assert usbcam.exit_status() == 1
    usbcam.wait_line("the capture ended after 4 frames; 1 truncated or broken frames dropped")
    usbcam.wait_line("v4l2-ctl exited with status 1: was the camera unplugged?")
    calls = usbcam.v4l2_calls()
    assert calls[0] == ["--device", "/dev/null", "--list-formats-ext"]
    assert calls[1] == capture_command("v4l2-ctl", "/dev/null", 1280, 720, 30)[1:]


def test_the_client_leaving_stops_the_capture(start):
    usbcam = start(b"".join(webcam for _, webcam in webcam_frames(3)), FAKE_V4L2_THEN="hold",
                   CAMERA_EXTRA_ARGS="--set-ctrl=power_line_frequency=1")
    with usbcam.connect() as sock:
        splitter, frames = FrameSplitter(), []
        while len(frames) < 3:
            frames += splitter.feed(sock.recv(65536))
    assert usbcam.exit_status() == 0
    usbcam.wait_line("the client left after 3 frames")
    assert usbcam.v4l2_calls()[1][-3:] == ["--set-ctrl=power_line_frequency=1", "--stream-mmap=4", "--stream-to=-"]
    assert usbcam.v4l2_calls()[-1] == "terminated"


def test_a_second_client_is_refused_while_the_first_is_served(start):
    usbcam = start(b"".join(webcam for _, webcam in webcam_frames(2)), FAKE_V4L2_THEN="hold")
    with usbcam.connect() as first:
        usbcam.wait_line("connected")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", usbcam.port), timeout=5)
        assert first.recv(1)


def test_a_mode_the_camera_does_not_offer_says_what_it_offers(start):
    usbcam = start(CAMERA_WIDTH="1024", CAMERA_HEIGHT="768")
    assert usbcam.exit_status() == 78
    assert usbcam.lines == ["usbcam ERROR CAMERA_WIDTH/HEIGHT/FPS=1024x768 at 30 fps is not an MJPEG mode of "
                            "/dev/null; it offers 1920x1080 at 30, 15 fps; 1280x720 at 30, 25, 15 fps; "
                            "640x480 at 30 fps"]


def test_a_camera_without_mjpeg_names_the_fix(start):
    usbcam = start(FAKE_V4L2_LISTING=LISTINGS / "yuyv-only.txt", CAMERA_WIDTH="640", CAMERA_HEIGHT="480")
    assert usbcam.exit_status() == 78
    assert len(usbcam.lines) == 1 and "offers no MJPEG, only YUYV (YUYV 4:2:2)" in usbcam.lines[0]
    assert "use a webcam that offers MJPEG" in usbcam.lines[0]


def test_an_unplugged_camera_is_one_line_and_a_quick_exit(start):
    usbcam = start(CAMERA_DEVICE="/dev/v4l/by-id/usb-unplugged-video-index0")
    assert usbcam.exit_status() == 1
    assert usbcam.lines == ["usbcam ERROR /dev/v4l/by-id/usb-unplugged-video-index0 is not there: is the camera "
                            "plugged in? (ls -l /dev/v4l/by-id)"]


def test_v4l2_ctl_failing_to_list_is_its_own_words(start, tmp_path):
    usbcam = start(FAKE_V4L2_LISTING=tmp_path / "no-such-listing")
    assert usbcam.exit_status() == 1
    assert usbcam.lines[-1].startswith("usbcam ERROR cannot read the modes of /dev/null: ")



def test_the_listing_shows_each_cameras_stable_path_and_mjpeg_modes(tmp_path, monkeypatch, capsys):
    by_id, listings = tmp_path / "by-id", tmp_path / "listings"
    by_id.mkdir()
    listings.mkdir()
    cameras = {"usb-Acme_Cam_1-video-index0": "webcam.txt", "usb-Acme_Cam_1-video-index1": None,
               "usb-Cheap_Cam-video-index0": "yuyv-only.txt", "usb-Gone_Cam-video-index0": "webcam.txt"}
    for name, listing in cameras.items():
        (by_id / name).symlink_to("/dev/null" if "Gone" not in name else tmp_path / "unplugged")
        text = (LISTINGS / listing).read_text() if listing else "ioctl: VIDIOC_ENUM_FMT\n\tType: Metadata Capture\n\n" \
            "\t[0]: 'UVCH' (UVC Payload Header Metadata)\n"
        (listings / name).write_text(text)
    monkeypatch.setenv("FAKE_V4L2_LISTING", str(listings))
    assert list_cameras(str(FAKE_BIN / "v4l2-ctl"), str(by_id)) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{by_id}/usb-Acme_Cam_1-video-index0 (/dev/null): MJPEG 1920x1080 at 30, 15 fps; 1280x720 at 30, 25, "
        "15 fps; 640x480 at 30 fps",
        f"{by_id}/usb-Acme_Cam_1-video-index1 (/dev/null): no video modes: not a capture node (a webcam's second "
        "node carries metadata)",
        f"{by_id}/usb-Cheap_Cam-video-index0 (/dev/null): no MJPEG, only YUYV: not usable (README, USB cameras)",
        f"{by_id}/usb-Gone_Cam-video-index0: cannot read the modes of {by_id}/usb-Gone_Cam-video-index0: "
        f"Cannot open device {by_id}/usb-Gone_Cam-video-index0, exiting."]


def test_the_listing_says_when_there_is_no_camera(tmp_path, capsys):
    assert list_cameras(str(FAKE_BIN / "v4l2-ctl"), str(tmp_path / "by-id")) == 1
    assert capsys.readouterr().out == f"no USB cameras under {tmp_path / 'by-id'}: is one plugged in? (ls -l /dev/v4l /dev/video*)\n"


def test_a_client_that_stops_reading_is_let_go_so_the_capture_never_waits_on_it():
    frames = [webcam for _, webcam in webcam_frames(2, 640, 480)]
    capture_read, capture_write = os.pipe()
    server, client = socket.socketpair()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)

    def capture():  # a camera streaming on, until its reader is gone
        try:
            for n in range(400):
                os.write(capture_write, frames[n % 2])
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=capture, daemon=True)
    writer.start()
    try:
        started = time.monotonic()
        why, sent = relay(capture_read, server, FrameSplitter(), Throttle(), send_timeout=0.3)
        assert why == CLIENT_LEFT and sent < 400
        assert time.monotonic() - started < 10
    finally:
        for end in (server, client):
            end.close()
        os.close(capture_read)
        writer.join(10)
        os.close(capture_write)
