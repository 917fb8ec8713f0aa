"""Only a frame newer than the last one uploaded goes up."""

from uploader.snapshotfetch import Snapshot, staleness


def frame(timestamp, data=b"\xff\xd8 image \xff\xd9"):
    return Snapshot(data, timestamp, (640, 480))


def test_the_first_frame_is_fresh():
    assert staleness(frame(5.0), None) is None


def test_a_frame_must_have_a_newer_timestamp():
    assert staleness(frame(5.000001), frame(5.0)) is None
    assert staleness(frame(5.0), frame(5.0)).kind == "stale"
    assert staleness(frame(4.0), frame(5.0)).kind == "stale"
    assert "X-Timestamp" in staleness(frame(4.0), frame(5.0)).text


def test_without_timestamps_the_same_image_is_stale_and_a_different_one_fresh():
    assert staleness(frame(None), frame(None)).kind == "stale"
    assert staleness(frame(None, b"\xff\xd8 other \xff\xd9"), frame(None)) is None
    assert staleness(frame(None), frame(3.0)).kind == "stale"
