"""The feed reader in-process against the scripted feed: bad input, drops, silence and reconnects."""

import logging

import gevent
import pytest

from appliance.backoff import Backoff
from frameserver.feedreader import FeedReader
from frameserver.framestore import FrameStore
from jpegframes.splitter import FrameSplitter
from standins.scripted_feed import CLOSE, ScriptedFeed, frame_number, make_frame


class RecordingStore(FrameStore):
    """Remembers every frame published, so a test sees the ones a waiter would skip."""

    def __init__(self):
        super().__init__()
        self.published = []

    def publish(self, data):
        self.published.append(data)
        return super().publish(data)


@pytest.fixture
def feed():
    with ScriptedFeed() as scripted:
        yield scripted
    assert scripted.extra_connections == 0, "the reader opened a second connection"


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="test-frameserver")
    return logging.getLogger("test-frameserver")


def start_reader(feed, log, timeout=5.0, max_frame_bytes=8 * 1024 * 1024, backoff=None):
    store = RecordingStore()
    reader = FeedReader("127.0.0.1", feed.port, timeout, store, FrameSplitter(max_frame_bytes), log, backoff)
    reader.start()
    return reader, store


def wait_connections(feed, count):
    """Block this greenlet (not the hub) until the feed has served `count` clients."""
    assert gevent.get_hub().threadpool.apply(feed.wait_connections, (count, 20))


def wait_frames(store, count):
    while len(store.published) < count:
        assert store.wait_newer(store.frames_total, 20) is not None, "no frame came"


def messages(caplog):
    return [record.getMessage() for record in caplog.records]


def test_only_whole_frames_get_through_garbage_truncation_oversize_and_a_drop(feed, log, caplog):
    good = [make_frame(n) for n in range(1, 7)]
    oversize = make_frame(99, pad=10000)
    truncated = make_frame(50)[:-300]
    scripts = iter([
        [b"\x00garbage\xff\xd9 before any frame", good[0], truncated, good[1], oversize, b"junk", good[2],
         good[3][:len(good[3]) // 2], CLOSE],
        [good[4], good[5]],
    ])
    feed.serve(lambda: next(scripts))
    reader, store = start_reader(feed, log, max_frame_bytes=8192)
    try:
        wait_frames(store, 5)
        assert store.published == [good[0], good[1], good[2], good[4], good[5]]
        assert reader.frames_dropped == 3  # the truncated one, the oversize one, the one cut off by the drop
        assert reader.connected
        assert reader.reconnects == 1
    finally:
        reader.stop()
    lines = messages(caplog)
    assert any(line.startswith(f"feed connected to 127.0.0.1:{feed.port}: first frame 64x48") for line in lines)
    assert any(line.startswith(f"feed disconnected from 127.0.0.1:{feed.port} after 3 frames in ")
               and line.endswith(": the feed closed the connection") for line in lines)


def test_frames_split_across_tiny_reads_come_out_whole(feed, log):
    frames = [make_frame(n) for n in range(1, 4)]
    stream = b"".join(frames)
    feed.serve(lambda: [step for i in range(0, len(stream), 7) for step in (stream[i:i + 7], 0.0005)])
    reader, store = start_reader(feed, log)
    try:
        wait_frames(store, 3)
        assert store.published == frames
    finally:
        reader.stop()


def test_a_refused_feed_is_retried_quietly_and_joined_when_it_comes_back(feed, log, caplog):
    feed.stop_listening()
    reader, store = start_reader(feed, log)
    try:
        gevent.sleep(1.6)  # long enough for the backoff to try 0.1, 0.2, 0.4 and 0.8 s apart
        assert not reader.connected
        refused = [line for line in messages(caplog) if "Connection refused" in line]
        assert refused == [f"feed unavailable at 127.0.0.1:{feed.port}: Connection refused; retrying"]
        feed.serve([make_frame(1)])
        feed.listen()
        wait_frames(store, 1)
        assert reader.connected
        assert reader.reconnects == 0  # the first connection that ever succeeded
    finally:
        reader.stop()
    connected = [line for line in messages(caplog) if line.startswith("feed connected")]
    assert len(connected) == 1
    assert connected[0].endswith("failed attempts") and "after 1 failed" not in connected[0]


def test_a_silent_feed_is_dropped_and_reconnected(feed, log, caplog):
    feed.serve(lambda: [make_frame(1)])  # one frame, then silence with the connection held open
    reader, store = start_reader(feed, log, timeout=0.3)
    try:
        wait_connections(feed, 3)
        assert reader.reconnects >= 1
    finally:
        reader.stop()
    assert any(line.endswith(": nothing received for 0.3 s") for line in messages(caplog))


def test_a_feed_of_garbage_is_dropped_and_reconnected(feed, log, caplog):
    feed.serve(lambda: [step for _ in range(200) for step in (b"\x00\x01 not a jpeg " * 100, 0.01)])
    reader, store = start_reader(feed, log, timeout=0.3)
    try:
        wait_connections(feed, 2)
        assert store.published == []
    finally:
        reader.stop()
    assert f"feed unavailable at 127.0.0.1:{feed.port}: connected, but no complete frame came: " \
           "no complete frame for 0.3 s; retrying" in messages(caplog)


def test_backoff_starts_over_after_a_connection_that_delivered(feed, log):
    feed.serve(lambda: [make_frame(1), CLOSE])
    backoff = Backoff(first=0.1, cap=2.0)
    reader, store = start_reader(feed, log, backoff=backoff)
    try:
        wait_connections(feed, 4)
        assert reader.reconnects >= 3
        # Each connection delivered a frame, so the delay never grew past its first step.
        assert backoff.next() <= 0.2
    finally:
        reader.stop()


def test_stopping_the_reader_closes_its_connection(feed, log):
    feed.serve(lambda: [make_frame(1)])
    reader, store = start_reader(feed, log)
    wait_frames(store, 1)
    reader.stop()
    assert not reader.connected
    client_gone = gevent.get_hub().threadpool.apply(feed.wait_idle, (20,))
    assert client_gone


class BuggySplitter(FrameSplitter):
    """A splitter with a bug, injected through the reader's `splitter` parameter: any read that contains
    BUG makes it raise, as an unexpected bug in the real one would."""

    def feed(self, data):
        if b"BUG" in data:
            raise RuntimeError("a bug in the splitter")
        return super().feed(data)


def test_an_unexpected_error_is_logged_once_with_its_traceback_and_the_reader_starts_over(feed, log, caplog):
    scripts = iter([[make_frame(1), 0.05, b"BUG"], [make_frame(2), 0.05, b"BUG"], [make_frame(3), 0.05, make_frame(4)]])
    feed.serve(lambda: next(scripts))
    store = RecordingStore()
    reader = FeedReader("127.0.0.1", feed.port, 5.0, store, BuggySplitter(8 * 1024 * 1024), log,
                        crash_backoff=Backoff(first=0.2, cap=0.2))
    reader.start()
    try:
        wait_frames(store, 4)
        assert [frame_number(data) for data in store.published] == [1, 2, 3, 4]
        assert reader.connected
        assert (reader.restarts, reader.reconnects) == (2, 2)
    finally:
        reader.stop()
    failed = [record for record in caplog.records if "failed" in record.getMessage()]
    assert len(failed) == 1, "the second failure of the same kind, within a minute, gets no line"
    assert failed[0].getMessage() == f"feed reader for 127.0.0.1:{feed.port} failed unexpectedly; starting it over"
    assert failed[0].exc_info[0] is RuntimeError
