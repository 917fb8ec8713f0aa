"""The feed container's main process, run for real with the synthetic camera."""

from jpegframes.markers import is_synthetic
from jpegframes.splitter import FrameSplitter
from service_process import ServiceProcess, connect_when_listening, free_port, service_env


def start(**env):
    return ServiceProcess("feedrunner", service_env(("feed", "common"), **env), wait=20)


def read_frames(sock, count):
    splitter, frames = FrameSplitter(), []
    while len(frames) < count:
        chunk = sock.recv(65536)
        assert chunk, "the camera closed the connection"
        frames += splitter.feed(chunk)
    return frames


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
