"""MobileRaker's view of port 7126, and an attacker's: the rendered nginx.conf in a real nginx, the real
gate on its unix socket, and a stand-in Moonraker that records every connection it gets."""

import json
import socket
import threading
from contextlib import ExitStack, closing

import pytest
import requests
import websocket

from gate_client import GateProcess, raw_exchange, rpc
from service_process import free_port
from standins.moonraker import MoonrakerStandin

from .test_gate_http import BYPASSES
from .test_nginx_gate import Upstream, pytestmark, start_nginx  # noqa: F401 (pytestmark: needs nginx)

ALLOWED_GETS = [
    "/server/info", "/printer/info", "/printer/objects/list", "/printer/objects/query?extruder",
    "/server/webcams/list", "/server/webcams/get_item?uid=1", "/server/files/roots", "/server/files/list",
    "/server/files/directory?path=gcodes", "/server/files/metadata?filename=a.gcode", "/server/files/thumbnails",
    "/server/files/gcodes/sub/.thumbs/part-300x300.png", "/server/files/gcodes/My%20Benchy-300x300.png",
    "/server/history/list", "/server/history/job?uid=1",
    "/server/history/totals", "/server/temperature_store", "/server/gcode_store", "/machine/system_info",
    "/machine/proc_stats", "/access/info", "/access/oneshot_token",
]
EXPLICIT_DENIES = [
    "/access/api_key", "/server/files/config/printer.cfg", "/server/files/logs/klippy.log",
    "/server/files/klippy.log", "/server/files/moonraker.log", "/server/config", "/debug/database/list",
    "/api/version", "/klippysocket", "/server/jsonrpc",
]


@pytest.fixture(scope="module")
def moonraker_standin():
    with MoonrakerStandin() as standin:
        yield standin


@pytest.fixture(scope="module")
def frameserver_standin():
    with Upstream() as server:
        yield server


@pytest.fixture
def moonraker(moonraker_standin):
    moonraker_standin.reset()
    return moonraker_standin


@pytest.fixture
def frameserver(frameserver_standin):
    frameserver_standin.seen.clear()
    return frameserver_standin


@pytest.fixture(scope="module")
def gate(moonraker_standin):
    gate = GateProcess(moonraker_standin.url).started()
    yield gate
    gate.stop(timeout=5)


@pytest.fixture(scope="module")
def door(tmp_path_factory, frameserver_standin, gate):
    proc, url = start_nginx(tmp_path_factory.mktemp("nginx"), frameserver_standin.server_address[1], {},
                            gate_socket=gate.path)
    yield url
    proc.terminate()
    proc.wait(5)


def door_port(door):
    return int(door.rsplit(":", 1)[1])


def raw(door, target, **headers):
    """(status, head, body) of a GET of `target` sent byte for byte to the door."""
    lines = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    request = f"GET {target} HTTP/1.1\r\nHost: pi:7126\r\n{lines}Connection: close\r\n\r\n".encode()
    return raw_exchange(socket.create_connection(("127.0.0.1", door_port(door)), timeout=10), request)


def reached(moonraker):
    return [(r["method"], r["path"]) for r in moonraker.recorded()["requests"]]


def test_every_allowlisted_get_reaches_moonraker(door, moonraker):
    for path in ALLOWED_GETS:
        response = requests.get(door + path, timeout=5)
        assert response.status_code == 200, path
    assert [r["target"] for r in moonraker.recorded()["requests"]] == ALLOWED_GETS


@pytest.mark.parametrize("target", BYPASSES)
def test_a_raw_target_not_in_canonical_form_never_reaches_moonraker(door, moonraker, target):
    status, _, body = raw(door, target)
    assert status in (400, 403, 404), (status, body)
    assert b"leak" not in body and b"[printer]" not in body
    assert moonraker.recorded()["connections"] == 0


@pytest.mark.parametrize("path", EXPLICIT_DENIES)
def test_explicitly_denied_gets_are_refused_and_never_reach_moonraker(door, moonraker, path):
    response = requests.get(door + path, timeout=5)
    assert response.status_code == 403
    assert "read-only bridge" in response.text
    assert moonraker.recorded()["connections"] == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/printer/gcode/script?script=G28", "/printer/print/start", "/machine/reboot",
                                  "/server/files/list", "/printer/emergency_stop", "/websocket"])
def test_no_other_method_reaches_moonraker(door, moonraker, method, path):
    assert requests.request(method, door + path, timeout=5).status_code == 405
    assert moonraker.recorded()["connections"] == 0


@pytest.mark.parametrize("path", ["/printer/gcode/script?script=G28", "/machine/reboot", "/server/database/item",
                                  "/server/files/gcodes", "/gate/status"])
def test_unlisted_gets_are_404(door, moonraker, path):
    assert requests.get(door + path, timeout=5).status_code == 404
    assert moonraker.recorded()["connections"] == 0


def test_the_client_cannot_choose_its_address_and_its_host_reaches_moonraker(door, moonraker):
    requests.get(door + "/server/info", headers={"X-Forwarded-For": "10.1.1.1", "X-Real-IP": "10.1.1.1"}, timeout=5)
    headers = moonraker.recorded()["requests"][0]["headers"]
    assert [v for k, v in headers if k.lower() == "x-forwarded-for"] == ["127.0.0.1"]
    assert [v for k, v in headers if k.lower() == "x-real-ip"] == ["127.0.0.1"]
    assert [v for k, v in headers if k.lower() == "host"] == [f"127.0.0.1:{door_port(door)}"]


@pytest.mark.parametrize("path, upstream_path", [
    ("/webcam/?action=stream", "/webcam/stream?action=stream"),
    ("/webcam/?action=snapshot&cacheBust=1700000000000", "/webcam/snapshot?action=snapshot&cacheBust=1700000000000"),
    ("/webcam?action=snapshot", "/webcam/snapshot?action=snapshot"),
    ("/webcam/stream", "/webcam/stream"),
    ("/webcam/snapshot?cacheBust=5", "/webcam/snapshot?cacheBust=5"),
    ("/webcam2/?action=stream", "/webcam2/stream?action=stream"),
    ("/webcam3?action=snapshot", "/webcam3/snapshot?action=snapshot")])
def test_mobileraker_webcam_paths_are_served_in_place(door, frameserver, path, upstream_path):
    with requests.get(door + path, stream=True, timeout=5, allow_redirects=False) as response:
        assert response.status_code == 200
    assert frameserver.seen[0][1] == upstream_path


def test_webcam_without_a_known_action_is_404(door, frameserver):
    assert requests.get(door + "/webcam/?action=reboot", timeout=5).status_code == 404
    assert frameserver.seen == []


def test_a_foreign_origin_gets_403_naming_allowed_origins(door, moonraker):
    status, _, body = raw(door, "/server/info", Origin="http://evil.example")
    assert status == 403 and b"ALLOWED_ORIGINS" in body
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(door.replace("http", "ws") + "/websocket", timeout=10,
                                    origin="http://evil.example")
    assert refused.value.status_code == 403 and b"ALLOWED_ORIGINS" in refused.value.resp_body
    assert moonraker.recorded()["connections"] == 0
    own = f"http://127.0.0.1:{door_port(door)}"
    with closing(websocket.create_connection(door.replace("http", "ws") + "/websocket", timeout=10, origin=own)) as ws:
        assert "result" in rpc(ws, "server.info", 1)


def test_the_gate_down_is_502_naming_it_and_the_camera_keeps_working(tmp_path, frameserver):
    proc, url = start_nginx(tmp_path, frameserver.server_address[1], {})
    try:
        for path in ("/server/info", "/websocket"):
            response = requests.get(url + path, timeout=5)
            assert response.status_code == 502
            assert response.text == "moonraker-gate unreachable: see docker compose logs moonraker-gate\n"
        assert requests.get(url + "/snapshot.jpg", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(5)


def test_moonraker_down_is_502_from_the_gate_and_the_camera_keeps_working(tmp_path, frameserver):
    dead = free_port()
    gate = GateProcess(f"http://127.0.0.1:{dead}").started()
    proc, url = start_nginx(tmp_path, frameserver.server_address[1], {}, gate_socket=gate.path)
    try:
        response = requests.get(url + "/server/info", timeout=5)
        assert response.status_code == 502
        assert response.text.startswith(f"moonraker unreachable at http://127.0.0.1:{dead}: ")
        assert requests.get(url + "/snapshot.jpg", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(5)
        gate.stop()


def test_a_mobileraker_session_reads_everything_and_changes_nothing(door, moonraker):
    ws = websocket.create_connection(door.replace("http", "ws") + "/websocket", timeout=10,
                                     header=["X-Forwarded-For: 10.6.6.6"], suppress_origin=True)
    try:
        assert "result" in rpc(ws, "server.connection.identify", 1, client_name="Mobileraker", version="2.8",
                               type="mobile", url="https://github.com/Clon1998/mobileraker")
        assert "result" in rpc(ws, "server.info", 2)
        assert "result" in rpc(ws, "printer.objects.list", 3)
        assert "result" in rpc(ws, "printer.objects.subscribe", 4, objects={"print_stats": None})
        notification = json.loads(ws.recv())
        assert notification["method"] == "notify_status_update"
        assert "result" in rpc(ws, "server.webcams.list", 5)
        for n, method in enumerate(["printer.gcode.script", "printer.print.start", "printer.emergency_stop",
                                    "machine.reboot", "server.files.delete_file"], start=10):
            reply = rpc(ws, method, n)
            assert reply["error"] == {"code": -32601, "message": f"read-only bridge: {method} is not allowed"}
    finally:
        ws.close()
    texts = [m["text"] for m in moonraker.recorded()["messages"]]
    assert not any(bad in text for text in texts for bad in ("gcode.script", "print.start", "emergency_stop",
                                                            "machine.reboot", "delete_file"))
    handshake = [r for r in moonraker.recorded()["requests"] if r["path"] == "/websocket"][0]
    assert [v for k, v in handshake["headers"] if k.lower() == "x-forwarded-for"] == ["127.0.0.1"]


def test_one_websocket_over_gate_max_sessions_is_refused_while_snapshots_stay_200(tmp_path, moonraker_standin,
                                                                                frameserver):
    gate = GateProcess(moonraker_standin.url, GATE_MAX_SESSIONS="4", GATE_MAX_SESSIONS_PER_CLIENT="4").started()
    proc, url = start_nginx(tmp_path, frameserver.server_address[1], {}, gate_socket=gate.path)
    try:
        with ExitStack() as sessions:
            for n in range(4):
                ws = sessions.enter_context(closing(websocket.create_connection(
                    url.replace("http", "ws") + "/websocket", timeout=10, suppress_origin=True)))
                assert "result" in rpc(ws, "server.info", n)
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                websocket.create_connection(url.replace("http", "ws") + "/websocket", timeout=10, suppress_origin=True)
            assert refused.value.status_code == 503 and b"GATE_MAX_SESSIONS" in refused.value.resp_body
            assert requests.get(url + "/snapshot.jpg", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(5)
        gate.stop()


class HoldingGate:
    """A gate that accepts connections on its unix socket and never answers: every one stays open."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(512)
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_moonrakers_side_can_never_take_the_connections_snapshots_need(tmp_path, frameserver):
    """Whatever the gate does, nginx holds at most 128 connections for Moonraker's side: the 129th is
    refused at once, and snapshots and streams still get through."""
    holding = HoldingGate(tmp_path / "gate.sock")
    proc, url = start_nginx(tmp_path, frameserver.server_address[1], {}, gate_socket=tmp_path / "gate.sock")
    clients = []
    try:
        for n in range(128):
            sock = socket.create_connection(("127.0.0.1", door_port(url)), timeout=10)
            sock.sendall(f"GET /server/info?n={n} HTTP/1.1\r\nHost: pi\r\n\r\n".encode())
            clients.append(sock)
        for _ in range(100):  # until nginx has passed every one of them on
            if len(holding.held) == 128:
                break
            threading.Event().wait(0.05)
        assert len(holding.held) == 128
        status, _, body = raw(url, "/websocket", Upgrade="websocket", Connection="Upgrade")
        assert status == 503 and b"too many connections to Moonraker's side of the door" in body
        assert requests.get(url + "/snapshot.jpg", timeout=5).status_code == 200
        with requests.get(url + "/stream.mjpg", stream=True, timeout=5) as stream:
            assert stream.status_code == 200
    finally:
        for sock in clients:
            sock.close()
        proc.terminate()
        proc.wait(5)
        holding.close()
