"""The WSGI app in-process (Flask's test client): the route table, snapshot, healthz and their error answers.

The stream itself writes to gunicorn's socket: its schedule is tested in test_frameserver_parts.py,
the whole of it under gunicorn in tests/integration/test_frameserver_server.py.
"""

import json
import logging
import re
from types import SimpleNamespace

import pytest

from frameserver import mjpegstream
from frameserver.config import load
from frameserver.framestore import FrameStore
from frameserver.routes import ROUTES, Camera, create_app
from jpegframes.markers import SYNTHETIC_MARK, with_comment
from standins.scripted_feed import make_frame

NO_CACHE = "no-store, no-cache, must-revalidate, max-age=0"


def make(**settings):
    """The app for camera 1 (and the others the settings enable); (test client, camera 1's store, its feed)."""
    client, cameras = make_cameras(**settings)
    return client, cameras[1].store, cameras[1].feed


def make_cameras(**settings):
    config = load({key.upper(): str(value) for key, value in settings.items()})
    cameras = {}
    for setting in config.cameras:
        feed = SimpleNamespace(connected=True, reconnects=2, restarts=0, frames_dropped=3)
        cameras[setting.number] = Camera(setting, FrameStore(), feed, config, logging.getLogger("test-frameserver"))
    return create_app(config, cameras).test_client(), cameras


def age(store, seconds):
    """Make the newest frame look `seconds` old."""
    store.latest = store.latest._replace(arrived=store.latest.arrived - seconds)


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
    camera = {"feed_connected": True, "frame_age_s": None, "frames_total": 0, "frames_dropped": 3,
              "reconnects": 2, "reader_restarts": 0, "stream_clients": 0, "source": None}
    assert response.json == {**camera, "cameras": [{"camera": 1, "name": "Printer camera", "fresh": False, **camera}]}
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
    assert response.headers["Content-Type"] == mjpegstream.CONTENT_TYPE
    assert response.data == b""
    response = client.get("/stream.mjpg?fps=0")
    assert response.status_code == 400
    assert response.text.count("\n") == 1 and response.text.startswith("fps='0' is invalid")




ALL_ON = {f"camera{number}_source": "synthetic" for number in (2, 3, 4)}


def query(route):
    return {"action": route.action} if route.action else None


@pytest.mark.parametrize("route", [route for route in ROUTES if route.kind == "snapshot"], ids=str)
def test_every_snapshot_route_serves_its_cameras_newest_frame(route):
    client, cameras = make_cameras(**ALL_ON)
    frames = {number: camera.store.publish(make_frame(number)) for number, camera in cameras.items()}
    response = client.get(route.path, query_string=query(route))
    assert response.status_code == 200
    assert response.data == frames[route.camera].data


@pytest.mark.parametrize("route", [route for route in ROUTES if route.kind == "stream"], ids=str)
def test_every_stream_route_is_its_cameras_stream(route):
    client, cameras = make_cameras(**ALL_ON)
    response = client.head(route.path, query_string=query(route))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == mjpegstream.CONTENT_TYPE
    # Only the route's camera is full: a 503 shows whose stream answered.
    cameras[route.camera].stream.clients = 20
    response = client.get(route.path, query_string=query(route))
    assert response.status_code == 503
    assert response.text == "too many stream clients (at most 20)\n"


@pytest.mark.parametrize("query", ["", "action=", "action=zoom", "x=stream"])
def test_an_action_path_without_a_known_action_is_404_with_one_line(query):
    client, store, _ = make()
    store.publish(make_frame(1))
    response = client.get("/webcam/?" + query)
    assert response.status_code == 404
    assert response.text == "not found: use ?action=stream or ?action=snapshot\n"


def test_the_table_has_each_route_once():
    assert len({(route.path, route.action) for route in ROUTES}) == len(ROUTES)


def test_each_camera_is_served_at_its_own_paths_and_a_camera_that_is_off_is_404_with_one_line():
    client, cameras = make_cameras(camera2_source="synthetic", camera4_source="usb", camera4_device="/dev/video4")
    frames = {number: cameras[number].store.publish(make_frame(number)) for number in (1, 2, 4)}
    for route in ROUTES:
        if route.kind != "snapshot":
            continue
        response = client.get(route.path, query_string={"action": route.action} if route.action else None)
        if route.camera == 3:
            assert response.status_code == 404
            assert response.text == ("camera 3 is off: set CAMERA3_SOURCE to rpicam, usb, synthetic in .env, "
                                     "then run: docker compose up -d\n")
        else:
            assert response.status_code == 200, route
            assert response.data == frames[route.camera].data, route
    assert client.head("/webcam3/stream").status_code == 404


def test_healthz_reports_every_camera_and_is_503_while_any_has_no_fresh_frame():
    client, cameras = make_cameras(camera3_source="synthetic", camera3_name="Nozzle", snapshot_max_age=5)
    cameras[1].store.publish(make_frame(1))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json
    assert [(c["camera"], c["name"], c["fresh"]) for c in body["cameras"]] == [(1, "Printer camera", True),
                                                                                  (3, "Nozzle", False)]
    assert body["frames_total"] == 1 and body["source"] == "camera"  # camera 1's, at the top
    cameras[3].store.publish(with_comment(make_frame(3), SYNTHETIC_MARK + b" frame 3"))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["cameras"][1]["source"] == "synthetic"
    assert response.json["source"] == "camera"
