"""The synthetic camera run for real: `python -m synthcam` on a loopback port."""

import io
import signal
import socket
import time

import pytest
from PIL import Image

from jpegframes.markers import comments, is_synthetic
from jpegframes.splitter import FrameSplitter
from service_process import ServiceProcess, free_port, service_env

WAIT = 15  # seconds: generous, for a loaded machine


class Camera(ServiceProcess):
    """`python -m synthcam` as a subprocess, its log lines collected as they come."""

    def __init__(self, **env):
        self.port = free_port()
        settings = {"FEED_BIND": "127.0.0.1", "FEED_PORT": self.port, **env}
        super().__init__("synthcam", service_env(("feed", "common"), **settings), WAIT)

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)


@pytest.fixture
def start():
    cameras = []

    def start_camera(**env):
        cameras.append(Camera(**env))
        return cameras[-1]

    yield start_camera
    for camera in cameras:
        camera.kill()


def read_for(sock, seconds):
    """The frames that arrive in `seconds`."""
    splitter, frames = FrameSplitter(), []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        assert chunk, "the camera hung up"
        frames += splitter.feed(chunk)
    assert splitter.dropped == 0 and splitter.discarded_bytes == 0
    return frames


def read_frames(sock, count):
    splitter, frames = FrameSplitter(), []
    while len(frames) < count:
        chunk = sock.recv(65536)
        assert chunk, "the camera hung up"
        frames += splitter.feed(chunk)
    return frames


def number(frame):
    text = comments(frame)[0].decode()
    return int(text.split("frame=")[1].split()[0])


def test_streams_live_frames_at_the_configured_rate_and_exits_when_the_client_leaves(start):
    camera = start(CAMERA_WIDTH="320", CAMERA_HEIGHT="240", CAMERA_FPS="10", CAMERA_QUALITY="70")
    camera.next_line("listening on 127.0.0.1")
    with camera.connect() as sock:
        frames = read_for(sock, 1.0)
    assert 5 <= len(frames) <= 16  # about 11: the first at once, then one every 100 ms
    for frame in frames:
        assert Image.open(io.BytesIO(frame)).size == (320, 240)
        Image.open(io.BytesIO(frame)).load()
        assert is_synthetic(frame)
    assert [number(f) for f in frames] == list(range(1, len(frames) + 1))
    assert camera.exit_status() == 0
    assert "a 320x240 test pattern at 10 fps, quality 70, on 127.0.0.1:" in camera.lines[0]
    connected, left = camera.lines[2:4]
    assert connected.startswith("synthcam INFO client 127.0.0.1:") and connected.endswith(" connected")
    assert left.startswith(connected[:-len("connected")] + "left after ")
    assert int(left.split()[-2]) >= len(frames)  # it may have sent more before it saw the hang-up


def test_a_second_client_is_refused_while_the_first_is_served(start):
    camera = start(CAMERA_WIDTH="160", CAMERA_HEIGHT="120", CAMERA_FPS="20")
    camera.next_line("listening on")
    with camera.connect() as first:
        camera.next_line("connected")
        with pytest.raises(ConnectionRefusedError):
            camera.connect()
        assert len(read_frames(first, 3)) >= 3  # the first client is still served
    assert camera.exit_status() == 0


def test_keep_serving_takes_client_after_client_until_sigterm(start):
    camera = start(CAMERA_WIDTH="160", CAMERA_HEIGHT="120", CAMERA_FPS="20", SYNTHETIC_KEEP_SERVING="1")
    for _ in range(2):
        camera.next_line("listening on")
        with camera.connect() as sock:
            frames = read_frames(sock, 3)
        assert [number(f) for f in frames[:3]] == [1, 2, 3]
        camera.next_line("left after")
    camera.next_line("listening on")
    camera.proc.send_signal(signal.SIGTERM)
    assert camera.exit_status() == 0
    assert camera.lines[-1].endswith("stopped")


def test_sigterm_stops_it_while_a_client_is_served(start):
    camera = start(CAMERA_WIDTH="160", CAMERA_HEIGHT="120", CAMERA_FPS="1")
    camera.next_line("listening on")
    with camera.connect() as sock:
        read_frames(sock, 1)
        camera.proc.send_signal(signal.SIGTERM)  # it is waiting a whole second for the next frame
        assert camera.exit_status() == 0
    assert camera.lines[-1].endswith("stopped")


@pytest.mark.parametrize("name, value", [("CAMERA_WIDTH", "8"), ("CAMERA_FPS", "fast"), ("FEED_PORT", "70000"),
                                         ("CAMERA_QUALITY", "0"), ("SYNTHETIC_KEEP_SERVING", "yes")])
def test_a_bad_setting_stops_it_with_one_line_naming_the_variable(start, name, value):
    camera = start(**{name: value})
    assert camera.exit_status() == 78
    assert len(camera.lines) == 1
    assert camera.lines[0].startswith(f"synthcam: {name}=")


def test_a_port_in_use_is_one_error_line(start):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        camera = start(FEED_PORT=str(taken.getsockname()[1]))
        assert camera.exit_status() == 1
    assert "cannot listen on 127.0.0.1:" in camera.lines[-1]
