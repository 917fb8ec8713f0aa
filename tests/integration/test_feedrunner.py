"""The feed container's main process, run for real with the synthetic camera."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from jpegframes.markers import is_synthetic
from jpegframes.splitter import FrameSplitter

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(**env):
    path = os.pathsep.join(str(ROOT / "services" / d) for d in ("feed", "common"))
    return subprocess.Popen([sys.executable, "-m", "feedrunner"], env={**os.environ, "PYTHONPATH": path, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def connect(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def read_frames(sock, count):
    splitter, frames = FrameSplitter(), []
    while len(frames) < count:
        chunk = sock.recv(65536)
        assert chunk, "the camera closed the connection"
        frames += splitter.feed(chunk)
    return frames


def test_insisting_on_rpicam_without_it_stops_with_one_line():
    proc = start(FEED_SOURCE="rpicam")
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 78
    assert out.strip().splitlines() == [
        "feed: FEED_SOURCE=rpicam but this image has no rpicam-vid (it is installed only on arm64/armhf): "
        "use FEED_SOURCE=auto or synthetic, or build on the Pi"]


def test_camera_is_restarted_after_each_client_and_stops_promptly_on_sigterm():
    port = free_port()
    proc = start(FEED_SOURCE="auto", FEED_PORT=str(port), CAMERA_WIDTH="320", CAMERA_HEIGHT="240", CAMERA_FPS="20")
    try:
        for _ in range(3):
            with connect(port) as sock:
                frames = read_frames(sock, 3)
            assert all(is_synthetic(f) for f in frames)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=5)
        assert time.monotonic() - started < 2.5
    finally:
        proc.kill()
    lines = out.splitlines()
    assert "FEED_SOURCE=auto: serving the synthetic test pattern, 320x240 at 20 fps" in lines[0]
    assert sum("camera process exited with status" in line for line in lines) >= 2
    assert lines[-1].endswith("stopped")
