"""The read-only door in Docker, as an attacker on the LAN would try it: a Moonraker stand-in on the
host's 127.0.0.1 only, reached through 127.0.0.1:<port> of the stack and nothing else."""

import json
import os
import signal
import socket
from contextlib import ExitStack, closing

import pytest
import requests
import websocket

from gate_client import raw_exchange
from moonraker_gate.selfcheck import host_addresses

from integration.test_gate_http import BYPASSES
from .stack import BASE_URL, MOONRAKER_PORT, MOONRAKER_URL, PORT, Stack, get, wait_for
from .test_appliance import ENV, pytestmark  # noqa: F401 (pytestmark: needs Docker)

MAX_SESSIONS = 4
WS_URL = BASE_URL.replace("http:", "ws:") + "/websocket"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack({**ENV, "GATE_MAX_SESSIONS": str(MAX_SESSIONS), "GATE_MAX_SESSIONS_PER_CLIENT": str(MAX_SESSIONS)},
              tmp_path_factory.mktemp("e2e-door"))
    s.run("down", "-v", "--remove-orphans", check=False)
    s.require_free_port()
    s.run("build")
    s.run("up", "-d")
    wait_for(lambda: get("/snapshot.jpg").status_code == 200, 90, "a first frame through nginx")
    wait_for(lambda: get("/server/info").status_code == 200, 60, "Moonraker through the door")
    yield s
    s.run("down", "-v", "--remove-orphans", check=False)


@pytest.fixture
def moonraker(stack):
    requests.post(MOONRAKER_URL + "/_reset", timeout=5)
    return lambda: requests.get(MOONRAKER_URL + "/_recorded", timeout=5).json()


def rpc(ws, method, call_id):
    ws.send(json.dumps({"jsonrpc": "2.0", "method": method, "id": call_id}))
    while True:
        reply = json.loads(ws.recv())
        if reply.get("id") == call_id:
            return reply


def test_moonraker_on_the_hosts_loopback_answers_through_the_door(moonraker):
    assert get("/server/info").json()["result"]["klippy_state"] == "ready"
    with closing(websocket.create_connection(WS_URL, timeout=10, suppress_origin=True)) as ws:
        assert rpc(ws, "server.info", 1)["result"]["klippy_state"] == "ready"
    record = moonraker()
    assert [r["path"] for r in record["requests"]] == ["/server/info", "/websocket"]
    assert [json.loads(m["text"])["method"] for m in record["messages"]] == ["server.info"]


def test_a_foreign_origin_gets_403(moonraker):
    response = get("/server/info", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "ALLOWED_ORIGINS" in response.text
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(WS_URL, timeout=10, origin="http://evil.example")
    assert refused.value.status_code == 403
    assert moonraker()["requests"] == []  # (connections: the gate's health check opens one every 30 s)


@pytest.mark.parametrize("target", BYPASSES)
def test_a_raw_target_not_in_canonical_form_never_reaches_moonraker(moonraker, target):
    request = f"GET {target} HTTP/1.1\r\nHost: pi:7126\r\nConnection: close\r\n\r\n".encode()
    status, _, body = raw_exchange(socket.create_connection(("127.0.0.1", PORT), timeout=10), request)
    assert status in (400, 403, 404), (status, body)
    assert moonraker()["requests"] == []  # (connections: the gate's health check opens one every 30 s)


def test_one_websocket_over_gate_max_sessions_is_refused_while_snapshots_stay_200(stack):
    with ExitStack() as sessions:
        for n in range(MAX_SESSIONS):
            ws = sessions.enter_context(closing(websocket.create_connection(WS_URL, timeout=10, suppress_origin=True)))
            assert "result" in rpc(ws, "server.info", n)
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(WS_URL, timeout=10, suppress_origin=True)
        assert refused.value.status_code == 503 and b"GATE_MAX_SESSIONS" in refused.value.resp_body
        assert get("/snapshot.jpg").status_code == 200
    assert "refused a websocket" in stack.logs("moonraker-gate")


REACH_MOONRAKER = """
import json, socket, sys
reached = []
for address in json.loads(sys.argv[1]):
    try:
        socket.create_connection((address, {port}), timeout=2).close()
        reached.append(address)
    except OSError:
        pass
print(json.dumps(reached))
"""


@pytest.mark.parametrize("service", ["http", "uploader", "feed"])
def test_from_inside_another_container_moonraker_cannot_be_reached(stack, service):
    info = stack.inspect(stack.container_id(service))
    gateways = [n["Gateway"] for n in info["NetworkSettings"]["Networks"].values() if n.get("Gateway")]
    addresses = ["127.0.0.1", *gateways, *host_addresses()]
    result = stack.run("exec", "-T", service, "python3", "-c", REACH_MOONRAKER.format(port=MOONRAKER_PORT),
                       json.dumps(addresses), check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [], f"{service} reached the Moonraker stand-in"


GATE_STATUS_AND_PORTS = """
import json, os, socket
sock = socket.socket(socket.AF_UNIX)
sock.connect("/run/gate/gate.sock")
sock.sendall(b"GET /gate/status HTTP/1.0\\r\\n\\r\\n")
answer = b""
while chunk := sock.recv(65536):
    answer += chunk
inodes = set()
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        inodes |= {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        pass
listening = []
for table in ("/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"):
    for line in open(table).read().splitlines()[1:]:
        fields = line.split()
        if f"socket:[{fields[9]}]" in inodes and (fields[3] == "0A" or "udp" in table):  # listening
            listening.append(table + " " + fields[1])
print(json.dumps({"status": json.loads(answer.split(b"\\r\\n\\r\\n", 1)[1]), "sockets": listening}))
"""


def test_the_gate_has_no_network_port_and_reports_moonraker_and_no_other_door(stack):
    result = stack.exec_python("moonraker-gate", GATE_STATUS_AND_PORTS)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["sockets"] == [], "the gate has a TCP or UDP socket"
    status = found["status"]
    assert status["moonraker_reachable"] is True and status["moonraker_url"] == MOONRAKER_URL
    assert status["open_beside_the_door"] is None and status["self_check"]["checked"] is True
    assert status["sessions_max"] == MAX_SESSIONS


@pytest.mark.parametrize("service, path", [("http", "/snapshot.jpg"), ("moonraker-gate", "/server/info")])
def test_after_a_crash_the_door_serves_again_as_soon_as_the_service_is_back(stack, service, path):
    container = stack.container_id(service)
    restarts = stack.inspect(container)["RestartCount"]
    os.kill(stack.inspect(container)["State"]["Pid"], signal.SIGKILL)
    wait_for(lambda: stack.inspect(container)["RestartCount"] > restarts and stack.inspect(container)["State"]["Running"],
             30, f"docker to restart {service}")
    wait_for(lambda: get(path).status_code == 200, 30, f"{path} through the door after {service} restarted")
    # How soon is bench/'s to measure (bench/restartbench.py); here, that nginx needed no restart of its own.
    assert stack.inspect(stack.container_id("nginx"))["RestartCount"] == 0
