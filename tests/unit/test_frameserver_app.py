"""The WSGI app in-process (Flask's test client): snapshot, stream, healthz and their error answers."""

import json
import re
import time
from types import SimpleNamespace

import gevent
import pytest

from frameserver import multipart
from frameserver.app import create_app
from frameserver.config import load
from frameserver.nosignal import NO_SIGNAL_JPEG
from frameserver.store import FrameStore
from jpegframes.markers import SYNTHETIC_MARK, with_comment
from standins.scripted_feed import frame_number, make_frame

NO_CACHE = "no-store, no-cache, must-revalidate, max-age=0"


def make(**settings):
    config = load({key.upper(): str(value) for key, value in settings.items()})
    store = FrameStore()
    feed = SimpleNamespace(connected=True, reconnects=2, frames_dropped=3)
    return create_app(config, store, feed).test_client(), store, feed


def age(store, seconds):
    """Make the newest frame look `seconds` old."""
    store.latest = store.latest._replace(arrived=store.latest.arrived - seconds)


class Parts:
    """Reads a streaming response from the test client part by part."""

    def __init__(self, response):
        self.response = response
        self._items = response.response
        first = next(self._items)
        assert first.startswith(multipart.OPENING)
        self._pending = first[len(multipart.OPENING):]

    def next(self):
        item, self._pending = (self._pending or next(self._items)), b""
        head, _, rest = item.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        body = rest[:int(headers["Content-Length"])]
        assert rest[len(body):] == b"\r\n" + multipart.OPENING
        return headers, body

    def close(self):
        self.response.close()


def test_snapshot_is_503_with_retry_after_before_the_first_frame():
    client, _, _ = make()
    response = client.get("/snapshot.jpg")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Cache-Control"] == NO_CACHE
    assert response.text == "no frame from the camera yet\n"


def test_snapshot_is_the_newest_frame_byte_for_byte_with_its_headers():
    client, store, _ = make()
    store.publish(make_frame(1))
    frame = store.publish(make_frame(2))
    response = client.get("/snapshot.jpg?cacheBust=1700000000000")
    assert response.status_code == 200
    assert response.data == frame.data
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Length"] == str(len(frame.data))
    assert response.headers["Cache-Control"] == NO_CACHE
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["X-Timestamp"] == "%.6f" % frame.timestamp
    assert re.fullmatch(r"\d{10}\.\d{6}", response.headers["X-Timestamp"])


def test_snapshot_head_has_the_headers_and_no_body():
    client, store, _ = make()
    frame = store.publish(make_frame(1))
    response = client.head("/snapshot.jpg")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(frame.data))
    assert response.data == b""
    assert client.head("/snapshot.jpg?x=1").status_code == 200


def test_a_stale_snapshot_is_503_never_an_old_picture():
    client, store, _ = make(snapshot_max_age=10)
    store.publish(make_frame(1))
    age(store, 10.5)
    response = client.get("/snapshot.jpg")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.text == "the newest frame is 10.5 s old (stale after 10 s)\n"
    assert client.head("/snapshot.jpg").data == b""
    store.publish(make_frame(2))
    assert client.get("/snapshot.jpg").status_code == 200


def test_healthz_reports_the_feed_and_is_503_until_a_fresh_frame():
    client, store, _ = make(snapshot_max_age=5)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"feed_connected": True, "frame_age_s": None, "frames_total": 0, "frames_dropped": 3,
                             "reconnects": 2, "stream_clients": 0, "source": None}
    store.publish(make_frame(1))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["source"] == "camera"
    assert response.json["frames_total"] == 1
    assert 0 <= response.json["frame_age_s"] < 5
    assert response.headers["Cache-Control"] == "no-store"
    age(store, 6)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["frame_age_s"] >= 6


def test_healthz_tells_a_synthetic_frame_from_a_camera_frame():
    client, store, feed = make()
    store.publish(with_comment(make_frame(1), SYNTHETIC_MARK + b" frame 1"))
    feed.connected = False
    body = json.loads(client.get("/healthz").data)
    assert body["source"] == "synthetic"
    assert body["feed_connected"] is False


@pytest.mark.parametrize("method, path, status", [
    ("POST", "/snapshot.jpg", 405),
    ("PUT", "/stream.mjpg", 405),
    ("DELETE", "/healthz", 405),
    ("GET", "/", 404),
    ("GET", "/snapshot.jpg/x", 404),
    ("GET", "/SNAPSHOT.JPG", 404),
])
def test_other_methods_and_paths_are_refused(method, path, status):
    client, store, _ = make()
    store.publish(make_frame(1))
    assert client.open(path, method=method).status_code == status


def test_stream_head_and_bad_fps():
    client, _, _ = make()
    response = client.head("/stream.mjpg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == multipart.CONTENT_TYPE
    assert response.data == b""
    response = client.get("/stream.mjpg?fps=0")
    assert response.status_code == 400
    assert response.text.count("\n") == 1 and response.text.startswith("fps='0' is invalid")


def test_a_new_stream_client_gets_the_current_frame_at_once_then_each_new_one():
    client, store, _ = make()
    first = store.publish(make_frame(1))
    response = client.get("/stream.mjpg", buffered=False)
    assert response.headers["Content-Type"] == multipart.CONTENT_TYPE
    assert response.headers["Cache-Control"] == NO_CACHE
    assert response.headers["Pragma"] == "no-cache"
    parts = Parts(response)
    headers, body = parts.next()
    assert body == first.data
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["X-Timestamp"] == "%.6f" % first.timestamp
    gevent.spawn_later(0.01, store.publish, make_frame(2))
    assert frame_number(parts.next()[1]) == 2
    parts.close()


def test_a_stalled_feed_gets_keepalives_then_no_signal_then_live_again():
    client, store, _ = make(snapshot_max_age=0.3, stream_keepalive=0.05)
    frame = store.publish(make_frame(1))
    parts = Parts(client.get("/stream.mjpg", buffered=False))
    seen = [parts.next()]
    while seen[-1][1] != NO_SIGNAL_JPEG:
        assert len(seen) < 1000
        seen.append(parts.next())
    keepalives = seen[:-1]
    assert len(keepalives) >= 2
    assert all(body == frame.data and h["X-Timestamp"] == "%.6f" % frame.timestamp for h, body in keepalives)
    assert parts.next()[1] == NO_SIGNAL_JPEG  # and again, while the feed stays away
    gevent.spawn_later(0.01, store.publish, make_frame(2))
    while True:
        body = parts.next()[1]
        if body != NO_SIGNAL_JPEG:
            break
    assert frame_number(body) == 2
    parts.close()


def test_before_any_frame_the_stream_shows_no_signal_at_once():
    client, _, _ = make(stream_keepalive=60)
    with gevent.Timeout(20):  # far less than the keepalive: the first part must not wait for it
        parts = Parts(client.get("/stream.mjpg", buffered=False))
        headers, body = parts.next()
    assert body == NO_SIGNAL_JPEG
    assert re.fullmatch(r"\d{10}\.\d{6}", headers["X-Timestamp"])
    parts.close()


def test_a_client_joining_after_the_feed_went_stale_gets_no_signal_not_a_flood():
    client, store, _ = make(snapshot_max_age=1, stream_keepalive=60)
    store.publish(make_frame(1))
    age(store, 2)
    parts = Parts(client.get("/stream.mjpg", buffered=False))
    with gevent.Timeout(20):
        assert parts.next()[1] == NO_SIGNAL_JPEG
        assert parts.next()[1] == NO_SIGNAL_JPEG  # once more, soon, for Chromium
    waiting = gevent.spawn(parts.next)
    waiting.join(timeout=0.5)
    assert not waiting.ready()  # then nothing until a new frame or the keepalive
    store.publish(make_frame(2))
    assert frame_number(waiting.get(timeout=20)[1]) == 2
    parts.close()


def test_a_new_picture_is_sent_once_more_soon_so_chromium_shows_it_then_only_keepalives():
    client, store, _ = make(stream_keepalive=60)
    first = store.publish(make_frame(1))
    parts = Parts(client.get("/stream.mjpg", buffered=False))
    with gevent.Timeout(20):  # far below the keepalive: only the repaint can send the second part
        assert parts.next() == parts.next()
    waiting = gevent.spawn(parts.next)
    waiting.join(timeout=0.5)
    assert not waiting.ready()
    second = store.publish(make_frame(2))
    assert waiting.get(timeout=20)[1] == second.data
    with gevent.Timeout(20):
        assert parts.next()[1] == second.data
    assert first.data != second.data
    parts.close()


def test_more_stream_clients_than_allowed_get_503_until_one_leaves():
    client, store, _ = make(stream_max_clients=2)
    store.publish(make_frame(1))
    streams = [Parts(client.get("/stream.mjpg", buffered=False)) for _ in range(2)]
    assert json.loads(client.get("/healthz").data)["stream_clients"] == 2
    refused = client.get("/stream.mjpg")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert refused.text == "too many stream clients (at most 2)\n"
    streams.pop().close()
    assert json.loads(client.get("/healthz").data)["stream_clients"] == 1
    streams.append(Parts(client.get("/stream.mjpg", buffered=False)))
    for stream in streams:
        stream.close()
    assert json.loads(client.get("/healthz").data)["stream_clients"] == 0


def test_fps_caps_one_client_and_it_gets_the_newest_frame():
    client, store, _ = make()
    store.publish(make_frame(0))
    capped = Parts(client.get("/stream.mjpg?fps=20", buffered=False))
    assert frame_number(capped.next()[1]) == 0

    def feed():
        for number in range(1, 41):
            store.publish(make_frame(number))
            gevent.sleep(0.005)

    feeder = gevent.spawn(feed)
    numbers, times = [], []
    while not numbers or numbers[-1] != 40:
        numbers.append(frame_number(capped.next()[1]))
        times.append(time.monotonic())
    feeder.join()
    assert numbers == sorted(set(numbers)) and len(numbers) < 40  # skipped to the newest, never queued
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.05 * 0.9
    capped.close()
