"""The synthetic camera run for real: `python -m synthcam` on a loopback port."""

import io
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from jpegframes.markers import comments, is_synthetic
from jpegframes.splitter import FrameSplitter

ROOT = Path(__file__).resolve().parents[2]
WAIT = 15  # seconds: generous, for a loaded machine


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Camera:
    """`python -m synthcam` as a subprocess, its log lines collected as they come."""

    def __init__(self, **env):
        self.port = free_port()
        path = os.pathsep.join(str(ROOT / "services" / d) for d in ("feed", "common"))
        env = {"PYTHONPATH": path, "FEED_BIND": "127.0.0.1", "FEED_PORT": str(self.port), **env}
        self.proc = subprocess.Popen([sys.executable, "-m", "synthcam"], env={**os.environ, **env},
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self._queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text):
        """The next log line containing `text`."""
        while True:
            line = self._queue.get(timeout=WAIT)
            assert line is not None, f"exited before logging {text!r}: {self.lines}"
            self.lines.append(line)
            if text in line:
                return line

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)

    def exit_status(self):
        status = self.proc.wait(timeout=WAIT)
        while (line := self._queue.get(timeout=WAIT)) is not None:
            self.lines.append(line)
        return status

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def start():
    cameras = []

    def start_camera(**env):
        cameras.append(Camera(**env))
        return cameras[-1]

    yield start_camera
    for camera in cameras:
        camera.stop()


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
    camera.wait_for("listening on 127.0.0.1")
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
    camera.wait_for("listening on")
    with camera.connect() as first:
        camera.wait_for("connected")
        with pytest.raises(ConnectionRefusedError):
            camera.connect()
        assert len(read_frames(first, 3)) >= 3  # the first client is still served
    assert camera.exit_status() == 0


def test_keep_serving_takes_client_after_client_until_sigterm(start):
    camera = start(CAMERA_WIDTH="160", CAMERA_HEIGHT="120", CAMERA_FPS="20", SYNTHETIC_KEEP_SERVING="1")
    for _ in range(2):
        camera.wait_for("listening on")
        with camera.connect() as sock:
            frames = read_frames(sock, 3)
        assert [number(f) for f in frames[:3]] == [1, 2, 3]
        camera.wait_for("left after")
    camera.wait_for("listening on")
    camera.proc.send_signal(signal.SIGTERM)
    assert camera.exit_status() == 0
    assert camera.lines[-1].endswith("stopped")


def test_sigterm_stops_it_while_a_client_is_served(start):
    camera = start(CAMERA_WIDTH="160", CAMERA_HEIGHT="120", CAMERA_FPS="1")
    camera.wait_for("listening on")
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
