"""`python -m frameserver` run for real (gunicorn + gevent) against the scripted feed and the synthetic camera."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from frameserver import mjpegstream
from jpegframes.markers import comments, is_synthetic
from frameserver.mjpegstream import NO_SIGNAL_JPEG
from mjpeg_reader import boundary_of, read_parts
from service_process import ServiceProcess, free_port, service_env
from standins.scripted_feed import CLOSE, ScriptedFeed, frame_number, frames_at, make_frame

SETTINGS = ("FEED_HOST", "FEED_PORT", "FEED_TIMEOUT", "HTTP_PORT", "MAX_FRAME_BYTES", "SNAPSHOT_MAX_AGE",
            "STREAM_MAX_CLIENTS", "STREAM_IDLE_TIMEOUT", "STREAM_KEEPALIVE", "WORKER_CONNECTIONS")
NO_CACHE = "no-store, no-cache, must-revalidate, max-age=0"


def frameserver_env(**settings):
    environ = {key: value for key, value in os.environ.items()
               if key not in SETTINGS and not key.startswith(("CAMERA", "FEED_SOURCE"))}
    return service_env(("http", "common"), environ, **settings)


class Server(ServiceProcess):
    """The frame server as a subprocess, answering once this returns; its output collected line by line."""

    def __init__(self, feed_port, **settings):
        self.port = free_port()
        super().__init__("frameserver", frameserver_env(FEED_HOST="127.0.0.1", FEED_PORT=feed_port,
                                                        HTTP_PORT=self.port, **settings), wait=30.0)
        self.wait_answering(lambda: self.get("/healthz"))

    def request(self, method, path, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def get(self, path):
        return self.request("GET", path)

    def health(self):
        status, _, body = self.get("/healthz")
        return status, json.loads(body)

    def stream(self, path="/stream.mjpg"):
        return StreamClient(self.port, path)

    def stop(self, signum=signal.SIGTERM, timeout=20):
        return super().stop(signum, timeout)


class StreamClient:
    """An HTTP/1.1 client of /stream.mjpg (chunked, as a browser gets it), read part by part."""

    def __init__(self, port, path="/stream.mjpg"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        self.conn.request("GET", path)
        self.sock = self.conn.sock
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers
        if self.status == 200:
            self.parts = read_parts(self.response, boundary_of(self.headers["Content-Type"]))

    def next(self):
        return next(self.parts)

    def next_frame(self):
        """The next part that is not the no-signal picture: (number, headers, body)."""
        while True:
            headers, body = self.next()
            if body != NO_SIGNAL_JPEG:
                return frame_number(body), headers, body

    def shutdown(self):
        """End a read going on in another thread."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self):
        self.shutdown()
        self.conn.close()


@pytest.fixture
def feed():
    with ScriptedFeed() as scripted:
        yield scripted
    assert scripted.extra_connections == 0, "the frame server opened a second feed connection"


@pytest.fixture
def start(feed):
    servers = []

    def start(**settings):
        server = Server(feed.port, **settings)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(signal.SIGINT)  # gunicorn's quick shutdown; SIGTERM has its own test
        assert "Traceback" not in server.log() and " ERROR " not in server.log(), server.log()


def test_503_until_the_first_frame_then_the_frame_with_every_header(feed, start):
    server = start()
    conn = feed.accept()
    status, headers, body = server.get("/snapshot.jpg")
    assert status == 503
    assert headers["Retry-After"] == "1"
    assert body == b"no frame from the camera yet\n"
    status, health = server.health()
    assert status == 503
    camera = {"feed_connected": health["feed_connected"], "frame_age_s": None, "frames_total": 0,
              "frames_dropped": 0, "reconnects": 0, "reader_restarts": 0, "stream_clients": 0, "source": None}
    assert health == {**camera, "cameras": [{"camera": 1, "name": "Printer camera", "fresh": False, **camera}]}

    viewer = server.stream()
    assert viewer.next()[1] == NO_SIGNAL_JPEG  # at once, before any frame
    frame = make_frame(1)
    conn.send(frame)
    assert viewer.next_frame()[2] == frame

    for path in ("/snapshot.jpg", "/snapshot.jpg?cacheBust=1700000000000"):
        status, headers, body = server.get(path)
        assert status == 200
        assert body == frame
        assert headers["Content-Type"] == "image/jpeg"
        assert headers["Content-Length"] == str(len(frame))
        assert headers["Cache-Control"] == NO_CACHE
        assert headers["Pragma"] == "no-cache"
        assert re.fullmatch(r"\d{10}\.\d{6}", headers["X-Timestamp"])
        assert abs(float(headers["X-Timestamp"]) - time.time()) < 600
    status, health = server.health()
    assert status == 200
    assert health["feed_connected"] is True
    assert (health["frames_total"], health["source"], health["stream_clients"]) == (1, "camera", 1)
    assert server.request("POST", "/snapshot.jpg")[0] == 405
    assert server.get("/index.html")[0] == 404
    viewer.close()


def test_head_sends_headers_only(feed, start):
    feed.serve([make_frame(1)])
    server = start()
    server.stream().next_frame()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        # Two requests on one connection: if HEAD sent a body, the second response would not follow at once.
        sock.sendall(b"HEAD /snapshot.jpg HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: %d\r\n" % len(make_frame(1)) in head
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")


def test_stale_when_the_feed_goes_away_then_live_when_it_returns(feed, start):
    server = start(SNAPSHOT_MAX_AGE=0.5, STREAM_KEEPALIVE=0.1)
    conn = feed.accept()
    viewer = server.stream()
    conn.send(make_frame(1) + make_frame(2))
    assert viewer.next_frame()[0] in (1, 2)
    feed.stop_listening()
    conn.close()
    parts = []
    while not parts or parts[-1][1] != NO_SIGNAL_JPEG:
        parts.append(viewer.next())
        assert len(parts) < 200
    resent = [frame_number(body) for _, body in parts[:-1]]
    assert resent.count(2) >= 2, "the last frame is re-sent while the feed is away"
    status, _, body = server.get("/snapshot.jpg")
    assert status == 503 and body.startswith(b"the newest frame is ")
    status, health = server.health()
    assert status == 503
    assert health["feed_connected"] is False and health["frame_age_s"] > 0.5

    feed.serve(lambda: [make_frame(3)])
    feed.listen()
    assert viewer.next_frame()[0] == 3
    status, _, body = server.get("/snapshot.jpg")
    assert status == 200 and frame_number(body) == 3
    status, health = server.health()
    assert status == 200 and health["reconnects"] == 1
    viewer.close()


def test_the_reader_reconnects_after_each_feed_exit(feed, start):
    numbers = iter(range(1, 1000))
    feed.serve(lambda: [make_frame(next(numbers)), CLOSE])  # like rpicam-vid: a frame, then it exits
    server = start()
    assert feed.wait_connections(5, timeout=30)
    log = server.wait_log(lambda text: text.count("feed disconnected from") >= 4)
    assert log.count("feed unavailable") == 0  # each feed delivered: no failure, no retry storm
    status, health = server.health()
    assert health["reconnects"] >= 4
    assert health["frames_total"] >= 4


def test_bad_feed_input_is_dropped_and_counted_and_good_frames_get_through(feed, start):
    server = start(MAX_FRAME_BYTES=8192)
    conn = feed.accept()
    viewer = server.stream()
    conn.send(b"garbage \xff\x00\xff" + make_frame(1))
    assert viewer.next_frame()[0] == 1
    conn.send(make_frame(2)[:-200] + make_frame(3))  # 2 is cut short where 3 begins
    assert viewer.next_frame()[0] == 3
    conn.send(make_frame(4, pad=20000) + b"\xff\xd9more garbage" + make_frame(5))
    assert viewer.next_frame()[0] == 5
    status, health = server.health()
    assert (health["frames_total"], health["frames_dropped"]) == (3, 2)
    viewer.close()


def test_each_new_picture_is_completed_at_once_and_repeated_soon_for_chromium(feed, start):
    server = start(STREAM_KEEPALIVE=60, SNAPSHOT_MAX_AGE=600)
    conn = feed.accept()
    viewer = server.stream()
    assert viewer.next()[1] == NO_SIGNAL_JPEG
    assert viewer.next()[1] == NO_SIGNAL_JPEG  # the keepalive is a minute away: this is the repaint
    conn.send(make_frame(7))
    assert frame_number(viewer.next()[1]) == 7
    # The boundary after the part came with it (Firefox shows the part then); the part again comes
    # soon after (Chromium shows a part only once the next one begins).
    assert viewer.response.readline() == b"\r\n"
    assert viewer.response.readline() == b"--" + mjpegstream.BOUNDARY.encode() + b"\r\n"
    headers = dict(viewer.response.readline().decode().rstrip("\r\n").split(": ", 1) for _ in range(3))
    assert viewer.response.readline() == b"\r\n"
    assert viewer.response.read(int(headers["Content-Length"])) == make_frame(7)
    viewer.close()


class Viewer(threading.Thread):
    """A stream client that keeps reading in the background, noting each frame's number."""

    def __init__(self, server, last, number=frame_number):
        super().__init__(daemon=True)
        self.client = server.stream()
        self.last = last
        self.number = number
        self.numbers = []
        self.got_last = threading.Event()

    def run(self):
        try:
            while True:
                self.numbers.append(self.number(self.client.next_frame()[2]))
                if self.numbers[-1] >= self.last:
                    self.got_last.set()
        except (OSError, ValueError, StopIteration):
            pass  # closed by the test

    def close(self):
        self.client.shutdown()
        self.join(timeout=20)
        self.client.close()


def test_twenty_clients_get_every_frame_while_a_stalled_one_is_dropped(feed, start):
    server = start(STREAM_MAX_CLIENTS=21, STREAM_IDLE_TIMEOUT=1, STREAM_KEEPALIVE=0.05, SNAPSHOT_MAX_AGE=60,
                   FEED_TIMEOUT=60)
    conn = feed.accept()
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server soon blocks on it
    stalled.settimeout(30)
    stalled.connect(("127.0.0.1", server.port))
    stalled.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")
    assert stalled.recv(12) == b"HTTP/1.1 200"  # and then it reads no more
    last = 40
    viewers = [Viewer(server, last) for _ in range(20)]
    for viewer in viewers:
        assert viewer.client.next()[1] == NO_SIGNAL_JPEG
        viewer.start()
    assert server.health()[1]["stream_clients"] == 21

    for number in range(1, last + 1):
        conn.send(make_frame(number, pad=60000))
        time.sleep(1 / 30)
    for viewer in viewers:
        assert viewer.got_last.wait(60)
    assert all(viewer.numbers == list(range(1, last + 1)) for viewer in viewers), [v.numbers for v in viewers]

    # Keepalives go on filling the stalled client's buffers until the server gives up on it.
    server.wait_log(lambda text: "stream client 127.0.0.1 dropped: it accepted no data for 1 s" in text)
    assert server.health()[1]["stream_clients"] == 20
    stalled.close()
    for viewer in viewers:
        viewer.close()


def test_more_stream_clients_than_allowed_get_503(feed, start):
    feed.serve([make_frame(1)])
    server = start(STREAM_MAX_CLIENTS=2)
    viewers = [server.stream() for _ in range(2)]
    for viewer in viewers:
        viewer.next()
    refused = server.stream()
    assert refused.status == 503
    assert refused.headers["Retry-After"] == "5"
    assert refused.response.read() == b"too many stream clients (at most 2)\n"
    assert server.health()[1]["stream_clients"] == 2
    for viewer in viewers:
        viewer.close()


def test_a_stream_slot_is_freed_as_soon_as_its_client_hangs_up(feed, start):
    feed.serve([make_frame(1)])
    server = start(STREAM_MAX_CLIENTS=1, STREAM_KEEPALIVE=60, FEED_TIMEOUT=600)
    viewer = server.stream()
    viewer.next_frame()
    assert server.stream().status == 503
    viewer.sock.shutdown(socket.SHUT_WR)  # hang up; no write to it is due for a minute
    viewer.sock.settimeout(20)
    received = 0
    while chunk := viewer.sock.recv(65536):
        received += len(chunk)  # at most the repaint of frame 1
        assert received < 100000
    # The server closed the stream at once, not at its next write.
    assert server.health()[1]["stream_clients"] == 0
    assert server.stream().status == 200


@pytest.mark.parametrize("query", ["fps=0", "fps=abc", "fps=-3", "fps="])
def test_a_bad_fps_is_400_with_one_line(feed, start, query):
    server = start()
    status, _, body = server.get("/stream.mjpg?" + query)
    assert status == 400
    assert body.count(b"\n") == 1 and body.startswith(b"fps=")


def test_fps_caps_a_client(feed, start):
    feed.serve(lambda: frames_at(100))
    server = start()
    started = time.monotonic()
    capped = server.stream("/stream.mjpg?fps=5")
    numbers = [frame_number(capped.next()[1]) for _ in range(6)]
    # Six parts at 5 fps take at least a second from the request on, however late the reads are.
    assert time.monotonic() - started >= 1.0 * 0.95
    frames = [n for n in numbers if n is not None]  # not the no-signal picture
    assert frames == sorted(frames) and frames[-1] - frames[0] > 4  # the feed runs at ~100 fps: it skips
    capped.close()


@pytest.mark.parametrize("name, value", [("SNAPSHOT_MAX_AGE", "abc"), ("HTTP_PORT", "70000"),
                                         ("STREAM_MAX_CLIENTS", "-1"), ("FEED_HOST", "no such host!")])
def test_a_bad_setting_stops_it_with_exit_78_and_one_line(name, value):
    proc = subprocess.run([sys.executable, "-m", "frameserver"], env=frameserver_env(**{name: value}),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert proc.returncode == 78
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"frameserver: {name}={value!r} is ")


def test_sigterm_stops_it_promptly_with_streams_open(feed, start):
    feed.serve([make_frame(1)])
    server = start()
    viewer = server.stream()
    viewer.next_frame()
    status, seconds = server.stop()
    assert seconds < 10
    assert status == 0
    viewer.close()


def synthcam_env(port, **settings):
    """Like rpicam-vid, the synthetic camera on `port` serves one client (unless told to keep serving)."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("CAMERA_", "FEED_"))}
    defaults = {"FEED_BIND": "127.0.0.1", "FEED_PORT": port, "CAMERA_WIDTH": 320, "CAMERA_HEIGHT": 240,
                "CAMERA_FPS": 30, "CAMERA_QUALITY": 70}
    return service_env(("feed", "common"), environ, **{**defaults, **settings})


def synthetic_number(jpeg):
    for text in comments(jpeg):
        match = re.match(rb"synthetic-camera frame=(\d+) ", text)
        if match:
            return int(match[1])
    return None


@pytest.fixture
def synthcam():
    cameras = []

    def start(port, **settings):
        camera = ServiceProcess("synthcam", synthcam_env(port, **settings), wait=20)
        cameras.append(camera)
        return camera

    yield start
    for camera in cameras:
        camera.stop()


def test_with_the_synthetic_camera_503_then_live_stale_when_it_exits_and_live_after_each_restart(synthcam):
    port = free_port()
    server = Server(port, SNAPSHOT_MAX_AGE=1, STREAM_KEEPALIVE=0.2)
    try:
        status, health = server.health()
        assert status == 503 and health["feed_connected"] is False and health["source"] is None
        assert server.get("/snapshot.jpg")[0] == 503
        viewer = server.stream()
        for restart in range(3):
            camera = synthcam(port)
            _, headers, body = viewer.next_frame()
            assert is_synthetic(body) and synthetic_number(body) is not None
            status, _, snapshot = server.get("/snapshot.jpg")
            assert status == 200 and is_synthetic(snapshot)
            status, health = server.health()
            assert status == 200
            assert (health["source"], health["feed_connected"], health["reconnects"]) == ("synthetic", True, restart)
            camera.stop()  # it exits, as rpicam-vid does when its container stops
            while viewer.next()[1] != NO_SIGNAL_JPEG:
                pass
            status, _, body = server.get("/snapshot.jpg")
            assert status == 503 and body.startswith(b"the newest frame is ")
            assert server.health()[0] == 503
        viewer.close()
    finally:
        server.stop(signal.SIGINT)
    assert server.log().count("feed connected to") == 3


def test_twenty_clients_each_get_every_frame_of_the_synthetic_camera(synthcam):
    port = free_port()
    synthcam(port, CAMERA_FPS=30, SYNTHETIC_KEEP_SERVING=1)
    server = Server(port, STREAM_MAX_CLIENTS=20)
    try:
        viewers = [Viewer(server, 0, synthetic_number) for _ in range(20)]
        for viewer in viewers:
            viewer.client.next_frame()
        # From here on every viewer has the stream open; what the server sends waits in its socket.
        start = synthetic_number(server.get("/snapshot.jpg")[2]) + 1
        last = start + 60  # two seconds of frames
        for viewer in viewers:
            viewer.last = last
            viewer.start()
        for viewer in viewers:
            assert viewer.got_last.wait(60)
        for viewer in viewers:
            numbers = [n for n in viewer.numbers if start <= n <= last]
            assert numbers == list(range(start, last + 1))
        assert server.health()[1]["stream_clients"] == 20
        for viewer in viewers:
            viewer.close()
    finally:
        server.stop(signal.SIGINT)


def feeds_on_consecutive_ports(count):
    """`count` scripted feeds on ports P, P + 1, ...: the frame server reads camera N at FEED_PORT + N - 1."""
    for _ in range(50):
        first = ScriptedFeed()
        feeds = [first]
        try:
            for offset in range(1, count):
                feeds.append(ScriptedFeed(first.port + offset))
            return feeds
        except OSError:
            for feed in feeds:
                feed.close()
    raise AssertionError("no run of free ports")


@pytest.fixture
def two_feeds():
    feeds = feeds_on_consecutive_ports(2)
    yield feeds
    for feed in feeds:
        feed.close()
        assert feed.extra_connections == 0, "the frame server opened a second connection to a camera's feed"


def test_two_cameras_each_at_its_own_paths_and_one_failing_leaves_the_other_untouched(two_feeds):
    one, two = two_feeds
    server = Server(one.port, CAMERA2_SOURCE="synthetic", CAMERA2_NAME="Nozzle", SNAPSHOT_MAX_AGE=0.5,
                    STREAM_KEEPALIVE=0.1, FEED_TIMEOUT=60)
    try:
        conn_one, conn_two = one.accept(), two.accept()
        conn_one.send(make_frame(101))
        conn_two.send(make_frame(201))
        first, second = server.stream("/webcam/?action=stream"), server.stream("/webcam2/stream")
        assert first.next_frame()[0] == 101
        assert second.next_frame()[0] == 201
        for path, number in (("/snapshot.jpg", 101), ("/webcam1/snapshot.jpg", 101), ("/webcam2/?action=snapshot", 201),
                             ("/webcam2/snapshot", 201)):
            status, _, body = server.get(path)
            assert (status, frame_number(body)) == (200, number), path
        status, _, body = server.get("/webcam3/snapshot.jpg")
        assert status == 404 and body.startswith(b"camera 3 is off: set CAMERA3_SOURCE to ")
        status, health = server.health()
        assert [(c["camera"], c["name"]) for c in health["cameras"]] == [(1, "Printer camera"), (2, "Nozzle")]

        # Camera 2's feed goes away: its stream shows no signal, camera 1's gets every frame as before.
        two.stop_listening()
        conn_two.close()
        for number in range(102, 122):
            conn_one.send(make_frame(number))
            time.sleep(1 / 30)
            assert first.next_frame()[0] == number
        while second.next()[1] != NO_SIGNAL_JPEG:
            pass
        assert server.get("/webcam2/snapshot.jpg")[0] == 503
        assert frame_number(server.get("/snapshot.jpg")[2]) == 121
        status, health = server.health()
        assert status == 503
        assert [(c["camera"], c["fresh"], c["feed_connected"]) for c in health["cameras"]] == [(1, True, True),
                                                                                            (2, False, False)]
        assert health["frames_total"] == 21 and health["feed_connected"] is True  # camera 1's, at the top

        two.serve(lambda: [make_frame(202)])
        two.listen()
        assert second.next_frame()[0] == 202
        first.close()
        second.close()
    finally:
        server.stop(signal.SIGINT)
    log = server.log()
    assert "camera 1: feed connected to" in log and "camera 2: feed connected to" in log
    assert "Traceback" not in log
