"""The real gate (`python -m moonraker_gate`) on its unix socket between websocket clients and a
stand-in Moonraker that records everything it receives."""

import json
import signal
import socket
import threading
import time
from contextlib import closing

import pytest
import websocket

from gate_client import WAIT, GateProcess, close_frame, eventually, reply_to, rpc
from service_process import free_port
from standins.moonraker import MoonrakerStandin

CONTROLS = ["printer.gcode.script", "printer.print.start", "printer.emergency_stop", "machine.reboot",
            "server.files.delete_file"]


@pytest.fixture(scope="module")
def moonraker():
    with MoonrakerStandin(notify_interval=0.05) as standin:
        yield standin


@pytest.fixture(scope="module")
def gate(moonraker):
    gate = GateProcess(moonraker.url).started()
    yield gate
    gate.stop()


def methods_received(moonraker):
    """Every method that reached Moonraker's websocket, batches flattened."""
    methods = []
    for message in moonraker.recorded()["messages"]:
        parsed = json.loads(message["text"])
        methods += [call["method"] for call in (parsed if isinstance(parsed, list) else [parsed])]
    return methods


def handshakes(moonraker):
    return [request for request in moonraker.recorded()["requests"] if request["path"] == "/websocket"]


def header(request, name):
    return [value for key, value in request["headers"] if key.lower() == name.lower()]


def test_a_mobileraker_session_reads_everything(gate, moonraker):
    moonraker.reset()
    with closing(gate.websocket()) as ws:
        identify = rpc(ws, "server.connection.identify", 1, client_name="Mobileraker", version="2.8.0",
                       type="mobile", url="https://github.com/Clon1998/mobileraker")
        assert isinstance(identify["result"]["connection_id"], int)
        assert rpc(ws, "server.info", 2)["result"]["klippy_state"] == "ready"
        assert "print_stats" in rpc(ws, "printer.objects.list", 3)["result"]["objects"]
        subscribed = rpc(ws, "printer.objects.subscribe", 4, objects={"print_stats": None, "extruder": None})
        assert set(subscribed["result"]["status"]) == {"print_stats", "extruder"}
        updates = [json.loads(ws.recv()) for _ in range(3)]
        assert all(update["method"] == "notify_status_update" for update in updates)
        assert rpc(ws, "server.webcams.list", 5)["result"]["webcams"][0]["service"] == "mjpegstreamer-adaptive"
    assert methods_received(moonraker) == ["server.connection.identify", "server.info", "printer.objects.list",
                                           "printer.objects.subscribe", "server.webcams.list"]


def test_controls_are_answered_by_the_gate_and_never_reach_moonraker(gate, moonraker):
    moonraker.reset()
    with closing(gate.websocket()) as ws:
        for call_id, method in enumerate(CONTROLS + ["server.future_feature.run"], start=10):
            assert rpc(ws, method, call_id, script="G28") == {
                "jsonrpc": "2.0", "id": call_id,
                "error": {"code": -32601, "message": f"read-only bridge: {method} is not allowed"}}
        ws.send(json.dumps({"jsonrpc": "2.0", "method": "machine.reboot"}))  # a notification: no reply
        assert rpc(ws, "printer.info", 99)["result"]["state"] == "ready"  # the next reply is this one
    # Moonraker answered the last call, so it had everything the gate forwarded before it.
    assert methods_received(moonraker) == ["printer.info"]
    assert gate.status()["denied_calls"]["printer.gcode.script"] >= 1


def test_a_mixed_batch_is_split_between_moonraker_and_the_gate(gate, moonraker):
    moonraker.reset()
    batch = [{"jsonrpc": "2.0", "method": "server.info", "id": 1},
             {"jsonrpc": "2.0", "method": "printer.gcode.script", "params": {"script": "M112"}, "id": 2},
             {"jsonrpc": "2.0", "method": "printer.info", "id": 3},
             {"jsonrpc": "2.0", "method": "machine.reboot"},
             {"jsonrpc": "2.0", "method": "server.files.delete_file", "params": {"path": "gcodes/a.gcode"}, "id": 4}]
    with closing(gate.websocket()) as ws:
        ws.send(json.dumps(batch))
        replies = [json.loads(ws.recv()), json.loads(ws.recv())]
    by_id = {reply["id"]: reply for array in replies for reply in array}
    assert sorted(by_id) == [1, 2, 3, 4]
    assert by_id[1]["result"]["klippy_state"] == "ready" and by_id[3]["result"]["state"] == "ready"
    assert by_id[2]["error"]["message"] == "read-only bridge: printer.gcode.script is not allowed"
    assert by_id[4]["error"]["message"] == "read-only bridge: server.files.delete_file is not allowed"
    assert [json.loads(m["text"]) for m in moonraker.recorded()["messages"]] == [[batch[0], batch[2]]]


def test_malformed_and_invalid_messages_are_answered_without_closing(gate, moonraker):
    with closing(gate.websocket()) as ws:
        ws.send("{not json")
        assert json.loads(ws.recv()) == {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"},
                                         "id": None}
        ws.send("[1, 2]")
        assert [reply["error"]["code"] for reply in json.loads(ws.recv())] == [-32600, -32600]
        ws.send('{"jsonrpc": "2.0", "id": 5}')
        assert json.loads(ws.recv())["error"] == {"code": -32600, "message": "Invalid Request"}
        assert rpc(ws, "server.info", 6)["result"]["klippy_state"] == "ready"


@pytest.mark.parametrize("oversized", ["x" * (262144 + 1),  # refused while it arrives
                                       json.dumps({"method": "server.info", "pad": "\u20ac" * 90000},
                                                  ensure_ascii=False)],  # fewer characters than bytes
                         ids=["ascii", "multibyte"])
def test_an_oversized_message_closes_the_connection_with_1009(gate, moonraker, oversized):
    with closing(gate.websocket()) as ws:
        rpc(ws, "server.info", 1)
        ws.send(oversized)
        assert close_frame(ws)[0] == 1009
    assert moonraker.wait_for(lambda record: record["websockets_open"] == 0, WAIT)
    gate.wait_log(lambda log: "sent a message over 262144 bytes (closed with 1009)" in log)


def test_a_message_of_exactly_the_limit_passes(gate, moonraker):
    call = {"jsonrpc": "2.0", "method": "server.info", "params": {"pad": ""}, "id": 1}
    call["params"]["pad"] = "x" * (262144 - len(json.dumps(call, separators=(",", ":"))))
    message = json.dumps(call, separators=(",", ":"))
    assert len(message) == 262144
    with closing(gate.websocket()) as ws:
        ws.send(message)
        assert reply_to(ws, 1)["result"]["klippy_state"] == "ready"


def test_moonraker_gets_the_address_nginx_gave_the_token_and_credentials_and_nothing_else(gate, moonraker):
    moonraker.reset()
    with closing(gate.websocket("?token=oneshot123", **{"X-Real-IP": "192.168.1.20", "X-Forwarded-For": "192.168.1.20",
                                                        "X-Api-Key": "key", "Cookie": "session=1",
                                                        "X-Forwarded-Proto": "http"})) as ws:
        rpc(ws, "server.info", 1)
    with closing(gate.websocket()) as ws:
        rpc(ws, "server.info", 1)
    nginx, direct = handshakes(moonraker)
    assert nginx["query"] == "token=oneshot123"
    assert (header(nginx, "X-Real-IP"), header(nginx, "X-Forwarded-For"), header(nginx, "X-Api-Key")) == (
        ["192.168.1.20"], ["192.168.1.20"], ["key"])
    assert header(nginx, "Host") == ["door:7126"]
    assert header(nginx, "Cookie") == [] and header(nginx, "X-Forwarded-Proto") == []
    assert header(nginx, "Origin") == []  # none came, none is made up
    # A client of the socket itself (the uploader): Moonraker sees the gate, on loopback.
    assert (header(direct, "X-Real-IP"), header(direct, "X-Forwarded-For")) == ([], [])


def test_when_moonraker_closes_the_client_is_closed(gate, moonraker):
    with closing(gate.websocket()) as ws:
        rpc(ws, "server.info", 1)
        moonraker.close_websockets()
        assert close_frame(ws) == (1001, "Moonraker closed the connection")
    eventually(lambda: gate.status()["sessions_open"], 0)
    gate.wait_log(lambda log: "Moonraker closed the connection (1001)" in log)


def test_denials_are_logged_once_per_method_and_minute(gate):
    with closing(gate.websocket(**{"X-Real-IP": "192.0.2.7"})) as ws:
        for call_id in range(3):
            rpc(ws, "test.logged.first", call_id)
        rpc(ws, "test.logged.second", 9)
    second = gate.wait_line("denied test.logged.second")
    assert second.endswith("from 192.0.2.7")
    assert [line for line in gate.lines if "test.logged.first" in line] == [
        "moonraker_gate INFO denied test.logged.first from 192.0.2.7"]


def test_sessions_end_without_leaving_upstreams_and_each_end_is_logged_with_its_reason(moonraker):
    gate = GateProcess(moonraker.url, GATE_MAX_SESSIONS="20", GATE_MAX_SESSIONS_PER_CLIENT="20").started()
    try:
        for _ in range(2):
            clients = [gate.websocket() for _ in range(8)]
            for n, ws in enumerate(clients):
                rpc(ws, "printer.objects.subscribe", n, objects={"extruder": None})
            for ws in clients:  # every session is served at once
                assert json.loads(ws.recv())["method"] == "notify_status_update"
            assert gate.status()["sessions_open"] == 8
            for n, ws in enumerate(clients):
                if n % 2:
                    ws.close()  # a close handshake
                else:
                    ws.sock.close()  # the phone went away: no close frame
            assert moonraker.wait_for(lambda record: record["websockets_open"] == 0, WAIT)
            eventually(lambda: gate.status()["sessions_open"], 0)
        # The gate logged each end before its session left the count; this process may read it later.
        log = gate.wait_log(lambda text: text.count(" ended after ") >= 16)
        assert log.count("the client closed the connection (1000)") == 8
        assert log.count("the client went away") == 8
        assert "Traceback" not in log
    finally:
        gate.stop()


def test_http_paths_of_the_gate_itself(gate):
    assert gate.get("/")[0] == 404
    status, _, body = gate.get("/websocket")
    assert (status, body) == (400, b"websocket handshake failed\n")
    status, head, _ = gate.raw(b"POST /websocket HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    assert status == 405 and "Allow: GET, HEAD" in head


def test_moonraker_down_is_502_until_it_is_back():
    port = free_port()
    gate = GateProcess(f"http://127.0.0.1:{port}", GATE_CONNECT_TIMEOUT="2").started()
    try:
        for _ in range(2):
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                gate.websocket()
            assert refused.value.status_code == 502
            assert refused.value.resp_body.decode().startswith("no websocket to Moonraker: ")
            assert refused.value.resp_body.decode().count("\n") == 1
        status = gate.status()
        assert (status["sessions_open"], status["moonraker_reachable"]) == (0, False)
        with MoonrakerStandin(port=port) as moonraker:
            with closing(gate.websocket()) as ws:
                assert rpc(ws, "server.info", 1)["result"]["klippy_state"] == "ready"
            assert methods_received(moonraker) == ["server.info"]
            assert gate.status()["moonraker_reachable"] is True
        gate.wait_line("answers again")
        assert len([line for line in gate.lines if "Connection refused" in line]) == 1
    finally:
        gate.stop()


def test_stopping_the_gate_closes_both_sides():
    with MoonrakerStandin() as moonraker:
        gate = GateProcess(moonraker.url).started()
        try:
            with closing(gate.websocket()) as ws:
                rpc(ws, "server.info", 1)
                gate.proc.send_signal(signal.SIGTERM)
                assert close_frame(ws) == (1001, "the gate is stopping")
            assert moonraker.wait_for(lambda record: record["websockets_open"] == 0, WAIT)
            status, seconds = gate.stop()
            assert status == 0 and seconds < 10
            assert not [line for line in gate.lines if "Traceback" in line or "Error" in line]
        finally:
            gate.stop()


@pytest.mark.parametrize("name, value, line", [
    ("MOONRAKER_URL", "ftp://printer", "MOONRAKER_URL='ftp://printer' is invalid: expected http://host[:port] or "
                                       "https://host[:port]"),
    ("ALLOWED_ORIGINS", "http://fluidd.lan *", "ALLOWED_ORIGINS entry '*' is invalid: expected http://host[:port] or "
                                               "https://host[:port], as a browser's address bar shows it"),
    ("GATE_MAX_SESSIONS", "0", "GATE_MAX_SESSIONS='0' is out of range: expected a whole number from 1 to 100"),
])
def test_a_bad_setting_exits_78_with_one_line(name, value, line):
    gate = GateProcess("http://127.0.0.1:7125", **{name: value})
    assert gate.exit_status() == 78
    assert gate.lines == [f"moonraker_gate: {line}"]


def test_a_broken_handshake_is_400_and_nothing_reaches_moonraker(gate, moonraker):
    moonraker.reset()
    status, _, body = gate.raw(b"GET /websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
    assert (status, body) == (400, b"websocket handshake failed\n")
    assert moonraker.recorded()["connections"] == 0
    eventually(lambda: gate.status()["sessions_open"], 0)


def test_a_client_that_never_reads_cannot_pile_calls_up_in_moonraker(moonraker):
    """It sends 5000 allowed calls and reads nothing: once its socket is full, Moonraker has seen
    at most the answers that fit in it plus 64 calls; then it reads, and every call it sent has
    been answered by Moonraker or refused by the gate with -32000, and the session still works."""
    gate = GateProcess(moonraker.url).started()
    try:
        moonraker.reset()
        ws = gate.websocket()
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sent = []

        def send_all():
            try:
                for n in range(5000):
                    ws.send(json.dumps({"jsonrpc": "2.0", "method": "server.info", "id": n}))
                    sent.append(n)
            except (OSError, websocket.WebSocketException):
                pass

        sender = threading.Thread(target=send_all, daemon=True)
        sender.start()
        stalled = 0
        while sender.is_alive() and stalled < 2.0:  # until the gate stops taking calls
            before = len(sent)
            time.sleep(0.5)
            stalled = stalled + 0.5 if len(sent) == before else 0
        reached = len(moonraker.recorded()["messages"])
        assert reached < 2000, f"{reached} of {len(sent)} calls reached Moonraker"
        answers = {"result": 0, "busy": 0}
        ws.settimeout(WAIT)
        while answers["result"] + answers["busy"] < len(sent) or sender.is_alive():
            reply = json.loads(ws.recv())
            answers["result" if "result" in reply else "busy"] += 1
            if "error" in reply:
                assert reply["error"]["code"] == -32000
                assert "64 calls already await Moonraker's answer" in reply["error"]["message"]
        sender.join(WAIT)
        assert answers["busy"] > 0
        assert answers["result"] == len(moonraker.recorded()["messages"])
        assert rpc(ws, "printer.info", "last")["result"]["state"] == "ready"
        ws.close()
    finally:
        gate.stop()
