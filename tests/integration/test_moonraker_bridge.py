"""MobileRaker's view of port 7126: the rendered nginx.conf in a real nginx, the real gate,
and a stand-in Moonraker that records everything that reaches it."""

import json
import socket

import pytest
import requests
import websocket

from standins.moonraker import MoonrakerStandin

from service_process import ServiceProcess, free_port, service_env

from .test_nginx_gate import Upstream, pytestmark, start_nginx  # noqa: F401 (pytestmark: needs nginx)

ALLOWED_GETS = [
    "/server/info", "/printer/info", "/printer/objects/list", "/printer/objects/query?extruder",
    "/server/webcams/list", "/server/webcams/get_item?uid=1", "/server/files/roots", "/server/files/list",
    "/server/files/directory?path=gcodes", "/server/files/metadata?filename=a.gcode", "/server/files/thumbnails",
    "/server/files/gcodes/sub/.thumbs/part-300x300.png", "/server/history/list", "/server/history/job?uid=1",
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
    port = free_port()
    process = ServiceProcess("moonraker_gate", service_env(("http", "common"), GATE_PORT=port,
                                                           MOONRAKER_URL=moonraker_standin.url), wait=15)
    process.wait_answering(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close())
    yield port
    process.stop(timeout=5)


@pytest.fixture(scope="module")
def door(tmp_path_factory, moonraker_standin, frameserver_standin, gate):
    proc, url = start_nginx(tmp_path_factory.mktemp("nginx"), frameserver_standin.server_address[1],
                            {"MOONRAKER_URL": moonraker_standin.url}, gate_port=gate)
    yield url
    proc.terminate()
    proc.wait(5)


def reached(moonraker):
    return [(r["method"], r["path"]) for r in moonraker.recorded()["requests"]]


def test_every_allowlisted_get_reaches_moonraker(door, moonraker):
    for path in ALLOWED_GETS:
        response = requests.get(door + path, timeout=5)
        assert response.status_code == 200, path
    assert [p for _, p in reached(moonraker)] == [p.split("?")[0] for p in ALLOWED_GETS]


@pytest.mark.parametrize("path", EXPLICIT_DENIES)
def test_explicitly_denied_gets_are_refused_and_never_reach_moonraker(door, moonraker, path):
    response = requests.get(door + path, timeout=5)
    assert response.status_code == 403
    assert "read-only bridge" in response.text
    assert reached(moonraker) == []


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", ["/printer/gcode/script?script=G28", "/printer/print/start", "/machine/reboot",
                                  "/server/files/list", "/printer/emergency_stop", "/websocket"])
def test_no_other_method_reaches_moonraker(door, moonraker, method, path):
    assert requests.request(method, door + path, timeout=5).status_code == 405
    assert reached(moonraker) == []


@pytest.mark.parametrize("path", ["/printer/gcode/script?script=G28", "/machine/reboot", "/server/database/item",
                                  "/server/files/gcodes"])
def test_unlisted_gets_are_404(door, moonraker, path):
    assert requests.get(door + path, timeout=5).status_code == 404
    assert reached(moonraker) == []


@pytest.mark.parametrize("path", ["/server/files/gcodes/..%2fconfig/printer.cfg", "/server/files/gcodes/%2e%2e/x",
                                  "/server/files/gcodes/..%5Cconfig%5Cprinter.cfg"])
def test_encoded_climbs_out_of_gcodes_are_refused(door, moonraker, path):
    assert requests.get(door + path, timeout=5).status_code in (400, 403, 404)
    assert reached(moonraker) == []


def test_plain_climb_out_of_gcodes_lands_on_a_denied_path(door, moonraker):
    response = requests.get(door + "/server/files/gcodes/../config/printer.cfg", timeout=5)
    assert response.status_code == 403
    assert reached(moonraker) == []


def test_spoofed_forwarding_headers_are_replaced_with_the_real_client(door, moonraker):
    requests.get(door + "/server/info", headers={"X-Forwarded-For": "10.1.1.1", "X-Real-IP": "10.1.1.1"}, timeout=5)
    headers = moonraker.recorded()["requests"][0]["headers"]
    assert [v for k, v in headers if k.lower() == "x-forwarded-for"] == ["127.0.0.1"]
    assert [v for k, v in headers if k.lower() == "x-real-ip"] == ["127.0.0.1"]


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


def test_moonraker_down_is_502_and_the_camera_keeps_working(tmp_path, frameserver):
    dead = free_port()
    proc, url = start_nginx(tmp_path, frameserver.server_address[1], {"MOONRAKER_URL": f"http://127.0.0.1:{dead}"})
    try:
        response = requests.get(url + "/server/info", timeout=5)
        assert response.status_code == 502
        assert response.text == f"moonraker unreachable at http://127.0.0.1:{dead}\n"
        assert requests.get(url + "/snapshot.jpg", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(5)


def rpc(ws, method, call_id, **params):
    ws.send(json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": call_id}))
    while True:
        reply = json.loads(ws.recv())
        if isinstance(reply, dict) and reply.get("id") == call_id:
            return reply


def test_a_mobileraker_session_reads_everything_and_changes_nothing(door, moonraker):
    ws = websocket.create_connection(door.replace("http", "ws") + "/websocket", timeout=10,
                                     header=["X-Forwarded-For: 10.6.6.6"])
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
