"""The pieces a stream is made of: multipart and chunk framing, the no-signal picture, ?fps=N, and the schedule
(which part goes out when) against a real frame store."""

import io
import math
import time

import gevent
import pytest
from PIL import Image

from frameserver import mjpegstream
from frameserver.mjpegstream import NO_SIGNAL_JPEG
from frameserver.framestore import FrameStore
from frameserver.mjpegstream import Schedule, chunk, min_interval, parts
from jpegframes.markers import dimensions, is_complete_jpeg
from standins.scripted_feed import make_frame


def test_no_signal_picture_is_a_valid_jpeg():
    assert is_complete_jpeg(NO_SIGNAL_JPEG)
    assert dimensions(NO_SIGNAL_JPEG) == (640, 360)
    image = Image.open(io.BytesIO(NO_SIGNAL_JPEG))
    image.load()  # decodes the whole picture, so a damaged file fails here
    assert (image.format, image.size) == ("JPEG", (640, 360))
    assert len(NO_SIGNAL_JPEG) < 64 * 1024


def test_a_part_is_headers_the_jpeg_untouched_and_the_next_boundary_line():
    jpeg = b"\xff\xd8 any bytes at all, even --frameserver \xff\xd9"
    part = mjpegstream.part(jpeg, 1700000000.25)
    assert part == (b"Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Timestamp: 1700000000.250000\r\n\r\n"
                    % len(jpeg) + jpeg + b"\r\n--" + mjpegstream.BOUNDARY.encode() + b"\r\n")


def test_the_stream_opens_with_the_boundary_named_in_its_content_type():
    assert mjpegstream.CONTENT_TYPE == "multipart/x-mixed-replace; boundary=" + mjpegstream.BOUNDARY
    assert mjpegstream.OPENING == b"--" + mjpegstream.BOUNDARY.encode() + b"\r\n"


@pytest.mark.parametrize("query, interval", [
    ("", 0.0),
    ("cacheBust=123", 0.0),
    ("fps=5", 0.2),
    ("fps=0.5", 2.0),
    ("fps=1000", 0.001),
    ("x=1&fps=10&y=2", 0.1),
    ("fps=abc&fps=4", 0.25),  # the last one counts
])
def test_fps_sets_the_least_time_between_parts(query, interval):
    assert math.isclose(min_interval(query), interval)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "", "nan", "inf", "1001", "1e9", "5fps"])
def test_a_bad_fps_is_one_line_naming_it(value):
    with pytest.raises(ValueError) as caught:
        min_interval("fps=" + value)
    message = str(caught.value)
    assert message.startswith(f"fps={value!r} is invalid: expected a number of frames per second")
    assert "\n" not in message


def test_a_long_bad_fps_is_cut_short_in_the_message():
    with pytest.raises(ValueError) as caught:
        min_interval("fps=" + "9" * 5000)
    assert len(str(caught.value)) < 200


def test_a_chunk_is_its_length_in_hex_the_data_and_a_line_end():
    assert chunk(b"x" * 26) == b"1A\r\n" + b"x" * 26 + b"\r\n"


def schedule(store, max_age=10.0, keepalive=1.0):
    """The parts a client that waits on the store would get, as ("frame", seq) or ("no signal",)."""
    place = Schedule(keepalive)
    return parts(store, place, max_age, lambda frame: ("frame", frame.seq), lambda timestamp: ("no signal",),
                 lambda seconds: store.wait_newer(place.sent, seconds))


def age(store, seconds):
    store.latest = store.latest._replace(arrived=store.latest.arrived - seconds)


def test_a_new_client_gets_the_current_frame_at_once_then_each_new_one():
    store = FrameStore()
    store.publish(make_frame(1))
    upcoming = schedule(store, keepalive=60)
    with gevent.Timeout(20):  # far below the keepalive
        assert next(upcoming) == ("frame", 1)
        gevent.spawn_later(0.01, store.publish, make_frame(2))
        assert next(upcoming) == ("frame", 2)


def test_a_stalled_feed_gets_keepalives_then_no_signal_then_live_again():
    store = FrameStore()
    store.publish(make_frame(1))
    upcoming = schedule(store, max_age=0.3, keepalive=0.05)
    seen = [next(upcoming)]
    while seen[-1] != ("no signal",):
        assert len(seen) < 1000
        seen.append(next(upcoming))
    assert len(seen) >= 3 and set(seen[:-1]) == {("frame", 1)}
    assert next(upcoming) == ("no signal",)  # and again, while the feed stays away
    gevent.spawn_later(0.01, store.publish, make_frame(2))
    while (got := next(upcoming)) == ("no signal",):
        pass
    assert got == ("frame", 2)


def test_before_any_frame_the_stream_shows_no_signal_at_once():
    with gevent.Timeout(20):  # far less than the keepalive: the first part must not wait for it
        assert next(schedule(FrameStore(), keepalive=60)) == ("no signal",)


def test_a_client_joining_after_the_feed_went_stale_gets_no_signal_not_a_flood():
    store = FrameStore()
    store.publish(make_frame(1))
    age(store, 2)
    upcoming = schedule(store, max_age=1, keepalive=60)
    with gevent.Timeout(20):
        assert next(upcoming) == ("no signal",)
        assert next(upcoming) == ("no signal",)  # once more, soon, for Chromium
    waiting = gevent.spawn(next, upcoming)
    waiting.join(timeout=0.5)
    assert not waiting.ready()  # then nothing until a new frame or the keepalive
    store.publish(make_frame(2))
    assert waiting.get(timeout=20) == ("frame", 2)


def test_a_new_picture_is_sent_once_more_soon_so_chromium_shows_it_then_only_keepalives():
    store = FrameStore()
    store.publish(make_frame(1))
    upcoming = schedule(store, keepalive=60)
    with gevent.Timeout(20):  # far below the keepalive: only the repaint can send the second part
        assert next(upcoming) == next(upcoming) == ("frame", 1)
    waiting = gevent.spawn(next, upcoming)
    waiting.join(timeout=0.5)
    assert not waiting.ready()
    store.publish(make_frame(2))
    assert waiting.get(timeout=20) == ("frame", 2)
    with gevent.Timeout(20):
        assert next(upcoming) == ("frame", 2)


def test_a_client_that_was_busy_gets_the_newest_frame_not_the_ones_in_between():
    store = FrameStore()
    store.publish(make_frame(1))
    upcoming = schedule(store)
    assert next(upcoming) == ("frame", 1)
    for number in range(2, 6):
        store.publish(make_frame(number))
    assert next(upcoming) == ("frame", 5)


def test_a_part_begun_elsewhere_is_finished_first_and_counts_as_shown():
    store = FrameStore()
    frame = store.publish(make_frame(1))
    place = Schedule(keepalive=60)
    upcoming = parts(store, place, 10.0, lambda frame: ("frame", frame.seq), lambda timestamp: ("no signal",),
                     lambda seconds: store.wait_newer(place.sent, seconds))
    place.record(frame.seq, frame.seq, time.monotonic())  # written by the frame server, up to...
    place.pending = memoryview(b"the rest")
    with gevent.Timeout(20):
        assert bytes(next(upcoming)) == b"the rest"
        assert next(upcoming) == ("frame", 1)  # the repaint, REPAINT later: the frame counted as shown
    waiting = gevent.spawn(next, upcoming)
    waiting.join(timeout=0.5)
    assert not waiting.ready()  # then only the keepalive, a minute away
    waiting.kill()
