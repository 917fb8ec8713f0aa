"""The snapshot fetcher against a scripted frame server: only complete JPEGs come back as frames."""

import threading

import pytest

from standins.scripted_snapshots import ScriptedSnapshots, make_jpeg
from uploader.transfer import Cancelled
from uploader.snapshotfetch import Snapshot, Skip, SnapshotSource


@pytest.fixture
def source(snapshots):
    fetcher = SnapshotSource(snapshots.url, connect_timeout=2, total_timeout=5)
    yield fetcher
    fetcher.close()


def test_a_complete_jpeg_is_a_frame_with_its_timestamp_and_size(snapshots, source):
    jpeg = make_jpeg(320, 240)
    snapshots.serve(jpeg, "1700000123.456789")
    frame = source.fetch()
    assert frame == Snapshot(jpeg, 1700000123.456789, (320, 240))


def test_a_frame_without_timestamp_is_accepted(snapshots, source):
    snapshots.serve(timestamp=None)
    frame = source.fetch()
    assert isinstance(frame, Snapshot) and frame.timestamp is None


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
