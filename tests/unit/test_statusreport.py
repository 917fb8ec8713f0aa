"""/status.json's composition from readings: fields, types, colours, unknown parts and what must never pass."""

import json
import logging
from pathlib import Path
from types import SimpleNamespace

from frameserver.config import CameraConfig, load
from frameserver.framestore import FrameStore
from frameserver.routes import Camera, camera_paths
from frameserver.statusreport import Fetched, RateMeter, allowed_networks, compose, read_version
from standins.scripted_feed import make_frame

TOKEN = "tok3nThatMustNeverLeak9876"
FINGERPRINT = "fingerprintThatMustNotLeakWXYZ"
UPLOADER_STATE = {
    "cameras": [{"camera": 1, "name": "Bed", "enabled": True, "token": TOKEN, "fingerprint": FINGERPRINT,
                 "password": "hunter2hunter2", "interval": 10, "last_accepted_at": 1000.5, "cause": None,
                 "next_try_at": 1010.5, "why": "uploading every 10 s"}],
    "printer": {"upload_when": "printing", "source": "moonraker", "state": "printing",
                "detail": "Moonraker print_stats.state 'printing'", "cause": None, "since": 900.0,
                "password": "hunter2hunter2"},
}
GATE_STATUS = {"moonraker_url": "http://127.0.0.1:7125", "moonraker_reachable": True, "moonraker": "answers HTTP 200",
               "sessions_open": 2, "sessions_max": 10, "denied_calls": {"printer.gcode.script": 3, "machine.reboot": 1},
               "open_beside_the_door": None, "api_key": "secretApiKey1234", "self_check": {"checked": True}}
NETWORKS = (["192.168.0.0/16"], None)


CONFIG = load({})


def camera(number=1, frames=0, connected=True):
    store = FrameStore()
    for n in range(frames):
        store.publish(make_frame(n))
    feed = SimpleNamespace(connected=connected, reconnects=1, restarts=0, frames_dropped=2)
    return Camera(CameraConfig(number, f"Camera {number}", 9000 + number - 1), store, feed, CONFIG,
                  logging.getLogger("test-statusreport"))


def document(cameras=None, uploader=Fetched(UPLOADER_STATE), gate=Fetched(GATE_STATUS), networks=NETWORKS,
             now=None):
    cameras = {c.number: c for c in (cameras if cameras is not None else [camera(frames=2)])}
    paths = {number: (f"/webcam{number}/stream.mjpg", f"/webcam{number}/snapshot.jpg") for number in cameras}
    latest = cameras[min(cameras)].store.latest
    return compose(cameras=cameras, meters={number: RateMeter() for number in cameras}, paths=paths,
                   uploader=uploader, gate=gate, networks=networks, version="1.2.3", max_age=10.0, wall_now=1020.0,
                   now=now if now is not None else latest.arrived)


def test_every_field_has_its_type():
    doc = document()
    assert doc["version"] == "1.2.3" and doc["generated_at"] == 1020.0 and doc["status"] == "ok"
    assert doc["unknown"] == {}
    (cam,) = doc["cameras"]
    assert cam == {
        "camera": 1, "name": "Camera 1", "status": "ok", "stream": "/webcam1/stream.mjpg",
        "snapshot": "/webcam1/snapshot.jpg", "feed_connected": True, "source": "camera", "width": 64, "height": 48,
        "fps": None, "frame_age_s": cam["frame_age_s"], "frames_total": 2, "frames_dropped": 2, "reconnects": 1,
        "reader_restarts": 0, "stream_clients": 0,
        "connect": {"status": "ok", "enabled": True, "token": "9876", "fingerprint": "WXYZ", "interval": 10,
                    "last_accepted_at": 1000.5, "cause": None, "next_try_at": 1010.5, "why": "uploading every 10 s"},
    }
    assert isinstance(cam["frame_age_s"], float)
    assert doc["printer"] == {"upload_when": "printing", "source": "moonraker", "state": "printing",
                              "detail": "Moonraker print_stats.state 'printing'", "cause": None, "since": 900.0}
    assert doc["door"] == {"status": "ok", "allowed_networks": ["192.168.0.0/16"], "gate": {
        "moonraker_url": "http://127.0.0.1:7125", "moonraker_reachable": True, "moonraker": "answers HTTP 200",
        "sessions_open": 2, "sessions_max": 10, "denied_calls": {"machine.reboot": 1, "printer.gcode.script": 3},
        "open_beside_the_door": None}}


def test_no_secret_and_no_whole_fingerprint_passes_through():
    text = json.dumps(document())
    for secret in (TOKEN, TOKEN[:-1], FINGERPRINT, FINGERPRINT[:-1], "hunter2", "secretApiKey"):
        assert secret not in text
    hinted = json.dumps(document(uploader=Fetched({"cameras": [dict(UPLOADER_STATE["cameras"][0], token="…9876")]})))
    assert '"token": "9876"' in hinted


def test_a_source_that_cannot_be_read_is_null_with_its_reason_and_the_rest_still_there():
    doc = document(uploader=Fetched(None, "the uploader unreachable at uploader:8083: connection refused"),
                   gate=Fetched(None, "the gate unreachable at /run/gate/gate.sock: no socket there"),
                   networks=allowed_networks(None))
    assert doc["cameras"][0]["connect"] is None and doc["cameras"][0]["frames_total"] == 2
    assert doc["printer"] is None
    assert doc["door"] == {"status": "unknown", "allowed_networks": None, "gate": None}
    assert doc["unknown"] == {
        "uploader": "the uploader unreachable at uploader:8083: connection refused",
        "gate": "the gate unreachable at /run/gate/gate.sock: no socket there",
        "allowed_networks": "known only through the door on port 7126 (nginx sends it)"}
    assert doc["status"] == "warning"


def test_a_document_of_the_wrong_shape_is_read_as_far_as_it_goes():
    doc = document(uploader=Fetched(["not", "a", "mapping"]), gate=Fetched({"sessions_open": "many", "denied_calls": [1]}))
    assert doc["unknown"]["uploader"] == "the uploader sent no state"
    assert doc["door"]["gate"] == {"moonraker_url": None, "moonraker_reachable": None, "moonraker": None,
                                   "sessions_open": None, "sessions_max": None, "denied_calls": {},
                                   "open_beside_the_door": None}
    odd = document(uploader=Fetched({"cameras": [{"camera": "1", "enabled": True}, 7]}))
    assert odd["cameras"][0]["connect"]["status"] == "off"
    assert odd["unknown"] == {"printer": "the uploader does not report the printer's state"}


def test_colours_follow_the_camera_its_uploads_and_the_door():
    stalled = camera(frames=1)
    stalled.store.latest = stalled.store.latest._replace(arrived=stalled.store.latest.arrived - 60)
    assert document([stalled])["cameras"][0]["status"] == "warning"
    assert document([camera(frames=0, connected=False)], now=0.0)["cameras"][0]["status"] == "failing"
    failing = dict(UPLOADER_STATE["cameras"][0], cause="Prusa Connect is unavailable or overloaded (HTTP 503)")
    doc = document(uploader=Fetched({"cameras": [failing]}))
    assert doc["cameras"][0]["connect"]["status"] == "failing" and doc["status"] == "failing"
    assert doc["cameras"][0]["connect"]["cause"] == "Prusa Connect is unavailable or overloaded (HTTP 503)"
    waiting = dict(UPLOADER_STATE["cameras"][0], last_accepted_at=None)
    assert document(uploader=Fetched({"cameras": [waiting]}))["cameras"][0]["connect"]["status"] == "warning"
    off = document(uploader=Fetched({"cameras": [dict(UPLOADER_STATE["cameras"][0], enabled=False,
                                                      why="uploads off: PRUSA_CONNECT_TOKEN is empty")]}))
    assert off["cameras"][0]["connect"] == {"status": "off", "enabled": False, "token": None, "fingerprint": None,
                                            "interval": None, "last_accepted_at": None, "cause": None,
                                            "next_try_at": None, "why": "uploads off: PRUSA_CONNECT_TOKEN is empty"}
    exposed = document(gate=Fetched(dict(GATE_STATUS, open_beside_the_door="Moonraker also answers on 10.0.0.5:7125")))
    assert exposed["door"]["status"] == "failing"
    assert document(gate=Fetched(dict(GATE_STATUS, moonraker_reachable=False)))["door"]["status"] == "warning"


def test_a_camera_the_uploader_does_not_list_is_off_and_every_camera_is_listed():
    doc = document([camera(2, frames=1), camera(1, frames=1)])
    assert [c["camera"] for c in doc["cameras"]] == [1, 2]
    assert doc["cameras"][1]["connect"]["status"] == "off" and doc["cameras"][1]["name"] == "Camera 2"


def test_long_or_multiline_text_is_one_bounded_line():
    cause = "line one\nline two " + "x" * 5000
    doc = document(uploader=Fetched({"cameras": [dict(UPLOADER_STATE["cameras"][0], cause=cause)]}))
    shown = doc["cameras"][0]["connect"]["cause"]
    assert shown.startswith("line one line two x") and len(shown) == 600


def test_the_rate_is_measured_between_readings_and_falls_when_frames_stop():
    meter = RateMeter(window=1.0)
    store = FrameStore()
    store.publish(make_frame(0))
    start = store.latest.arrived
    assert meter.rate(store.latest, start) is None
    for n in range(1, 11):
        store.latest = store.latest._replace(seq=n + 1, arrived=start + n * 0.2)
    assert meter.rate(store.latest, start + 0.5) is None  # under the window: not measured yet
    assert meter.rate(store.latest, start + 2.0) == 5.0
    assert meter.rate(store.latest, start + 2.5) == 5.0  # within the window: the last measurement
    assert meter.rate(store.latest, start + 4.0) == 0.0  # no frame since


def test_allowed_networks_come_from_the_door_and_are_checked():
    assert allowed_networks("127.0.0.0/8 192.168.1.0/24 ::1/128") == (["127.0.0.0/8", "192.168.1.0/24", "::1/128"], None)
    assert allowed_networks("192.168.1.0/24 <script>") == (
        None, "the door sent an allowlist that is not a list of networks")


def test_the_version_is_the_repositorys_version_file():
    root = Path(__file__).resolve().parents[2]
    assert read_version(root / "services" / "http" / "frameserver" / "app.py") == \
        (root / "VERSION").read_text().strip()
    assert read_version(Path("/")) is None


def test_each_camera_is_shown_at_its_file_named_paths_from_the_route_table():
    assert camera_paths({1: camera(1)}) == {1: ("/stream.mjpg", "/snapshot.jpg")}
