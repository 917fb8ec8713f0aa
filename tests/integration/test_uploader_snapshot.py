"""The snapshot fetcher against a scripted frame server: only complete JPEGs come back as frames.

ScriptedSnapshots, the frame server stand-in, is shared by the uploader's other integration tests.
"""

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from uploader.bounded import Cancelled
from uploader.snapshot import Frame, Skip, SnapshotSource


def make_jpeg(width=64, height=48, shade=0):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade % 256, 90, 160)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class ScriptedSnapshots:
    """A real HTTP server answering every GET with the scripted status, body and X-Timestamp."""

    def __init__(self):
        self._release = threading.Event()
        self.reset()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.requests += 1
                owner.requested.set()
                if owner.stall:
                    owner._release.wait(owner.stall)
                self.send_response(owner.status)
                self.send_header("Content-Type", "image/jpeg" if owner.status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(owner.body)))
                if owner.timestamp is not None:
                    self.send_header("X-Timestamp", owner.timestamp)
                self.end_headers()
                self.wfile.write(owner.body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.handle_error = lambda request, address: None
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/snapshot.jpg"

    def reset(self):
        """Back to a fresh JPEG with a timestamp, no stall, no requests seen."""
        self._release.set()
        self._release = threading.Event()
        self.status = 200
        self.body = make_jpeg()
        self.timestamp = "1700000000.000001"
        self.stall = 0.0
        self.requests = 0
        self.requested = threading.Event()

    def serve(self, body=None, timestamp=None, status=200):
        self.status = status
        self.body = make_jpeg() if body is None else body
        self.timestamp = timestamp

    def close(self):
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def snapshot_server():
    server = ScriptedSnapshots()
    yield server
    server.close()


@pytest.fixture
def snapshots(snapshot_server):
    snapshot_server.reset()
    yield snapshot_server
    snapshot_server.reset()


@pytest.fixture
def source(snapshots):
    fetcher = SnapshotSource(snapshots.url, connect_timeout=2, total_timeout=5)
    yield fetcher
    fetcher.close()


def test_a_complete_jpeg_is_a_frame_with_its_timestamp_and_size(snapshots, source):
    jpeg = make_jpeg(320, 240)
    snapshots.serve(jpeg, "1700000123.456789")
    frame = source.fetch()
    assert frame == Frame(jpeg, 1700000123.456789, (320, 240))


def test_a_frame_without_timestamp_is_accepted(snapshots, source):
    snapshots.serve(timestamp=None)
    frame = source.fetch()
    assert isinstance(frame, Frame) and frame.timestamp is None


@pytest.mark.parametrize("status, body, timestamp, kind", [
    (503, b"no frame yet\n", None, "not-ready"),
    (404, b"not found\n", None, "http-404"),
    (200, make_jpeg()[:-200], "1.0", "broken"),
    (200, make_jpeg()[:-2], "1.0", "broken"),
    (200, b"<html>not a jpeg</html>", "1.0", "broken"),
    (200, b"", "1.0", "broken"),
    (200, make_jpeg(), "yesterday", "bad-timestamp"),
    (200, make_jpeg(), "nan", "bad-timestamp"),
])
def test_what_is_not_fit_to_upload_is_skipped_with_a_reason(snapshots, source, status, body, timestamp, kind):
    snapshots.serve(body, timestamp, status)
    skip = source.fetch()
    assert isinstance(skip, Skip) and skip.kind == kind and skip.text


def test_a_body_over_the_limit_is_skipped(snapshots):
    snapshots.serve(make_jpeg(256, 256))
    fetcher = SnapshotSource(snapshots.url, max_bytes=1000)
    try:
        assert fetcher.fetch().kind == "too-large"
    finally:
        fetcher.close()


def test_an_unreachable_frame_server_is_skipped():
    gone = ScriptedSnapshots()
    url = gone.url
    gone.close()
    fetcher = SnapshotSource(url)
    try:
        skip = fetcher.fetch()
    finally:
        fetcher.close()
    assert skip.kind == "unreachable" and "connection refused" in skip.text


def test_a_stalled_frame_server_costs_at_most_the_deadline(snapshots):
    snapshots.stall = 30
    fetcher = SnapshotSource(snapshots.url, connect_timeout=0.5, total_timeout=0.5)
    try:
        skip = fetcher.fetch()
    finally:
        fetcher.close()
    assert skip.kind == "unreachable" and "within 0.5 s" in skip.text


def test_close_ends_a_fetch_in_progress(snapshots, source):
    snapshots.stall = 30
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_fetch_or_cancelled(source)))
    thread.start()
    assert snapshots.requested.wait(10)
    source.close()
    thread.join(10)
    assert outcome == ["cancelled"]


def _fetch_or_cancelled(source):
    try:
        return source.fetch()
    except Cancelled:
        return "cancelled"
