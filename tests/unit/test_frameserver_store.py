"""The frame store: newest frame, sequence numbers, and waiters woken by an event."""

import time

import gevent

from frameserver.framestore import FrameStore, PerFrame


def test_an_empty_store_has_no_frame():
    store = FrameStore()
    assert store.latest is None
    assert store.frames_total == 0


def test_publish_keeps_only_the_newest_frame_and_numbers_them():
    store = FrameStore()
    before = time.time()
    first = store.publish(b"one")
    second = store.publish(b"two")
    assert (first.seq, second.seq) == (1, 2)
    assert store.latest is second and store.latest.data == b"two"
    assert store.frames_total == 2
    assert before <= first.timestamp <= second.timestamp <= time.time()
    assert 0 <= store.age(second) < 60


def test_a_newer_frame_is_returned_at_once():
    store = FrameStore()
    store.publish(b"one")
    store.publish(b"two")
    assert store.wait_newer(0, timeout=0).data == b"two"
    assert store.wait_newer(1, timeout=0).data == b"two"


def test_waiting_times_out_with_none_when_nothing_newer_comes():
    store = FrameStore()
    assert store.wait_newer(0, timeout=0.01) is None
    store.publish(b"one")
    assert store.wait_newer(1, timeout=0.01) is None


def test_every_waiter_is_woken_by_one_new_frame():
    store = FrameStore()
    store.publish(b"one")
    waiters = [gevent.spawn(store.wait_newer, 1, 30) for _ in range(25)]
    gevent.sleep(0)  # let them all start waiting
    assert not any(w.ready() for w in waiters)
    store.publish(b"two")
    gevent.joinall(waiters, timeout=30)
    assert [w.value.data for w in waiters] == [b"two"] * 25


def test_a_waiter_woken_later_gets_the_newest_frame_not_the_one_that_woke_it():
    store = FrameStore()
    waiter = gevent.spawn(store.wait_newer, 0, 30)
    gevent.sleep(0)
    store.publish(b"one")
    store.publish(b"two")  # before the waiter got to run
    assert waiter.get(timeout=30).data == b"two"


def test_a_waiter_keeps_waiting_through_frames_that_are_not_newer_than_asked():
    store = FrameStore()
    store.publish(b"one")
    waiter = gevent.spawn(store.wait_newer, 3, 30)
    gevent.sleep(0)
    store.publish(b"two")
    store.publish(b"three")
    gevent.sleep(0)
    assert not waiter.ready()
    store.publish(b"four")
    assert waiter.get(timeout=30).data == b"four"


def test_per_frame_builds_once_per_frame():
    store = FrameStore()
    built = []

    def build(frame):
        built.append(frame.seq)
        return frame.data.upper()

    cached = PerFrame(build)
    one = store.publish(b"one")
    assert cached(one) == b"ONE"
    assert cached(one) == b"ONE"
    two = store.publish(b"two")
    assert cached(two) == b"TWO"
    assert built == [1, 2]
