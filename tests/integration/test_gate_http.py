"""The real gate on its unix socket: allowlisted GETs relayed, raw-target bypasses, origins, caps, its
status and its self-check, against a stand-in Moonraker that records every connection it gets."""

import json
import os
from contextlib import closing, ExitStack

import pytest
import websocket

from gate_client import GateProcess, eventually, rpc
from moonraker_gate.allowlist import ALLOWED_PATHS
from moonraker_gate.selfcheck import host_addresses
from standins.moonraker import MoonrakerStandin, THUMBNAIL

# Sent raw, byte for byte: each would reach a file Moonraker must never hand out, if it got there.
BYPASSES = [
    "/server/files/config/../gcodes/a#/../../config/moonraker.conf",
    "/server/files/gcodes/a#/../../config/printer.cfg",
    "/server/files/logs/../gcodes/a#/../../logs/klippy.log",
    "/server/info#/../../access/api_key",
    "/server/info%23/../../access/api_key",
    "/server/files/gcodes/a%23/../../config/printer.cfg",
    "/server/files/gcodes/%2e%2e/config/printer.cfg",
    "/server/files/gcodes/..%2fconfig/printer.cfg",
    "/server/files/gcodes/..%2Fconfig%2Fprinter.cfg",
    "/server/files/gcodes/..%5cconfig%5cprinter.cfg",
    "/server/files/gcodes/..\\config\\printer.cfg",
    "/server/files/gcodes/../config/printer.cfg",
    "/server/files/gcodes//../config/printer.cfg",
    "/server/files/gcodes/./../config/printer.cfg",
    "/server/files/gcodes/%252e%252e/config/printer.cfg",
    "//server/files/config/printer.cfg",
    "/server//files/config/printer.cfg",
    "/server/./info",
    "/server/inf%6f",
    "/server%2finfo",
    "/access%2fapi_key",
    "/websocket#x",
    "/websocket/../access/api_key",
]


@pytest.fixture(scope="module")
def moonraker():
    with MoonrakerStandin() as standin:
        yield standin


@pytest.fixture(scope="module")
def gate(moonraker):
    gate = GateProcess(moonraker.url, ALLOWED_ORIGINS="http://fluidd.lan, https://mainsail.example:8443").started()
    yield gate
    gate.stop()


@pytest.fixture
def record(moonraker):
    moonraker.reset()
    return moonraker.recorded


@pytest.mark.parametrize("target", BYPASSES)
def test_a_target_not_in_canonical_form_is_400_and_nothing_reaches_moonraker(gate, record, target):
    status, _, body = gate.raw(f"GET {target} HTTP/1.1\r\nHost: door\r\nConnection: close\r\n\r\n".encode())
    assert status in (400, 403, 404), (status, body)
    assert b"leak" not in body and b"[printer]" not in body
    assert record()["connections"] == 0


@pytest.mark.parametrize("path", sorted(ALLOWED_PATHS))
def test_every_allowed_path_reaches_moonraker_as_sent(gate, record, path):
    status, head, body = gate.get(path + "?a=1&b=x%20y")
    assert status == 200 and json.loads(body)["result"] is not None
    assert "application/json" in head
    assert [r["target"] for r in record()["requests"]] == [path + "?a=1&b=x%20y"]


def test_a_thumbnail_reaches_moonraker_in_the_canonical_encoding(gate, record):
    status, head, body = gate.get("/server/files/gcodes/sub%20dir/.thumbs/Benchy%20%C3%A9%2b-300x300.png")
    assert (status, body) == (200, THUMBNAIL) and "image/png" in head
    assert [r["target"] for r in record()["requests"]] == ["/server/files/gcodes/sub%20dir/.thumbs/Benchy%20%C3%A9%2B-300x300.png"]


@pytest.mark.parametrize("path, status", [("/access/api_key", 403), ("/server/config", 403),
                                          ("/server/files/config/printer.cfg", 403), ("/debug/database", 403),
                                          ("/printer/gcode/script?script=G28", 404), ("/server/files/gcodes/", 404),
                                          ("/gate/other", 404)])
def test_other_paths_are_refused_by_the_gate(gate, record, path, status):
    assert gate.get(path)[0] == status
    assert record()["connections"] == 0


def test_head_is_relayed_and_other_methods_are_405(gate, record):
    status, head, body = gate.raw(b"HEAD /server/info HTTP/1.1\r\nHost: door\r\nConnection: close\r\n\r\n")
    assert status == 200 and body == b""
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        assert gate.raw(f"{method} /server/info HTTP/1.1\r\nHost: door\r\nContent-Length: 0\r\n"
                        "Connection: close\r\n\r\n".encode())[0] == 405
    assert [r["method"] for r in record()["requests"]] == ["HEAD"]


@pytest.mark.parametrize("origin", ["http://evil.example", "http://door:7126.evil.example", "null",
                                    "http://door:7127", "https://door:7126", "http://fluidd.lan:8080", "file://"])
def test_a_foreign_origin_is_403_naming_allowed_origins_and_nothing_reaches_moonraker(gate, record, origin):
    status, _, body = gate.get("/server/info", Origin=origin)
    assert status == 403 and b"ALLOWED_ORIGINS" in body and body.count(b"\n") == 1
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        gate.websocket(origin=origin)
    assert refused.value.status_code == 403 and b"ALLOWED_ORIGINS" in refused.value.resp_body
    assert record()["connections"] == 0


@pytest.mark.parametrize("origin, host", [("http://door:7126", "door:7126"), ("http://DOOR:7126", "door:7126"),
                                          ("http://192.168.1.5", "192.168.1.5:80"), ("http://fluidd.lan", "door:7126"),
                                          ("http://fluidd.lan:80", "door:7126"),
                                          ("https://mainsail.example:8443", "door:7126")])
def test_the_doors_own_origin_and_the_listed_ones_pass(gate, record, origin, host):
    status, _, _ = gate.raw(f"GET /server/info HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n"
                            "Connection: close\r\n\r\n".encode())
    assert status == 200
    assert [v for k, v in record()["requests"][0]["headers"] if k == "Origin"] == [origin]


def test_an_accepted_websocket_origin_also_passes_moonrakers_own_check():
    """Moonraker sees the client's Origin and Host: its own rule (Origin names the Host) passes the door's
    own origin; a listed one passes once it is in Moonraker's cors_domains too, as the README says."""
    with MoonrakerStandin(cors_domains=("http://fluidd.lan",)) as moonraker:
        gate = GateProcess(moonraker.url, ALLOWED_ORIGINS="http://fluidd.lan").started()
        try:
            for origin in ("http://door:7126", "http://fluidd.lan", None):
                with closing(gate.websocket(origin=origin, host="door:7126")) as ws:
                    assert rpc(ws, "server.info", 1)["result"]["klippy_state"] == "ready"
            origins = [[v for k, v in r["headers"] if k == "Origin"] for r in moonraker.recorded()["requests"]]
            assert origins == [["http://door:7126"], ["http://fluidd.lan"], []]
        finally:
            gate.stop()


def test_caps_refuse_one_more_session_with_a_line_naming_the_setting(moonraker):
    gate = GateProcess(moonraker.url, GATE_MAX_SESSIONS="3", GATE_MAX_SESSIONS_PER_CLIENT="2").started()
    try:
        with ExitStack() as open_sessions:
            for address in ("192.168.1.10", "192.168.1.10"):
                open_sessions.enter_context(closing(gate.websocket(**{"X-Real-IP": address})))
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                gate.websocket(**{"X-Real-IP": "192.168.1.10"})
            assert refused.value.status_code == 503
            assert b"GATE_MAX_SESSIONS_PER_CLIENT=2" in refused.value.resp_body
            assert refused.value.resp_body.count(b"\n") == 1
            third = open_sessions.enter_context(closing(gate.websocket(**{"X-Real-IP": "192.168.1.11"})))
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                gate.websocket(**{"X-Real-IP": "192.168.1.12"})
            assert refused.value.status_code == 503
            assert b"raise GATE_MAX_SESSIONS" in refused.value.resp_body
            assert moonraker.wait_for(lambda record: record["websockets_open"] == 3)
            assert gate.status()["sessions_open"] == 3
            assert rpc(third, "server.info", 1)["result"]["klippy_state"] == "ready"
            third.close()
            eventually(lambda: gate.status()["sessions_open"], 2)
            with closing(gate.websocket(**{"X-Real-IP": "192.168.1.12"})) as again:
                assert rpc(again, "server.info", 1)["result"]["klippy_state"] == "ready"
        assert gate.log().count("refused a websocket from 192.168.1.1") == 2
    finally:
        gate.stop()


def test_status_reports_moonraker_sessions_denials_and_the_self_check(gate, moonraker):
    with closing(gate.websocket()) as ws:
        rpc(ws, "printer.gcode.script", 1, script="G28")
        status = gate.status()
    assert status["moonraker_reachable"] is True and status["moonraker"] == "accepts connections"
    assert status["moonraker_url"] == moonraker.url
    assert (status["sessions_open"], status["sessions_max"], status["sessions_max_per_client"]) == (1, 10, 3)
    assert status["denied_calls"]["printer.gcode.script"] >= 1
    assert status["open_beside_the_door"] is None
    assert status["self_check"]["checked"] is True and status["self_check"]["open_on"] == []


@pytest.mark.skipif(not host_addresses(), reason="this machine has no address but loopback")
def test_a_moonraker_that_answers_beyond_loopback_is_reported_once_with_the_fix():
    with MoonrakerStandin(host="0.0.0.0") as moonraker:
        gate = GateProcess(moonraker.url).started()
        try:
            line = gate.wait_line("the door is not the only door")
            assert "set host: 127.0.0.1 in the [server] section of moonraker.conf, then restart Moonraker" in line
            status = gate.status()
            assert status["open_beside_the_door"] == line.split("WARNING ", 1)[1]
            # The stand-in listens on every IPv4 address (0.0.0.0), not on IPv6 ones.
            assert status["self_check"]["open_on"] == [a for a in host_addresses() if ":" not in a]
        finally:
            gate.stop()


def test_an_address_is_looked_up_without_a_thread(gate, record):
    """gevent's default resolver starts a pool of threads for lookups (1.4 MiB); Moonraker's address needs none."""
    status, _, _ = gate.get("/server/info")
    assert status == 200 and record()["connections"] == 1
    assert os.listdir(f"/proc/{gate.proc.pid}/task") == [str(gate.proc.pid)]
