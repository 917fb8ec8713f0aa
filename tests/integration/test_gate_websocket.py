"""The real gate (`python -m moonraker_gate`) between a websocket client and a stand-in Moonraker."""

import http.client
import json
import signal
import struct
import time
from contextlib import closing

import pytest
import websocket

from service_process import ServiceProcess, free_port, service_env
from standins.moonraker import MoonrakerStandin

CONTROLS = ["printer.gcode.script", "printer.print.start", "printer.emergency_stop", "machine.reboot",
            "server.files.delete_file"]
WAIT = 20  # seconds: generous, the machine is shared


class Gate(ServiceProcess):
    """`python -m moonraker_gate` in a subprocess; its output collected line by line."""

    def __init__(self, moonraker_url, **environ):
        self.port = free_port()
        env = service_env(("http", "common"), MOONRAKER_URL=moonraker_url, GATE_PORT=self.port, **environ)
        super().__init__("moonraker_gate", env, WAIT)

    def url(self, path="/websocket"):
        return f"ws://127.0.0.1:{self.port}{path}"

    def get(self, path):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def healthz(self):
        status, body = self.get("/healthz")
        assert status == 200
        return json.loads(body)


@pytest.fixture(scope="module")
def moonraker():
    with MoonrakerStandin(notify_interval=0.05) as standin:
        yield standin


@pytest.fixture(scope="module")
def gate(moonraker):
    gate = Gate(moonraker.url)
    gate.wait_line("listening on port")
    yield gate
    gate.stop()


def connect(gate, query="", **headers):
    return websocket.create_connection(gate.url() + query, timeout=WAIT, header=headers, http_no_proxy=["*"])


def rpc(ws, method, call_id, **params):
    """Sends one call and returns its reply, skipping notifications."""
    ws.send(json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": call_id}))
    return reply_to(ws, call_id)


def reply_to(ws, call_id):
    while True:
        reply = json.loads(ws.recv())
        if isinstance(reply, dict) and "method" not in reply and reply.get("id") == call_id:
            return reply


def close_frame(ws):
    """(code, reason) of the close frame that ends the connection, skipping messages before it."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            ws.shutdown()  # websocket-client answered it; close() would now leave the socket open
            return struct.unpack("!H", data[:2])[0], data[2:].decode()


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


def eventually(probe, expected):
    """For state inside the gate's process, which tells no one when it changes: checks every 20 ms."""
    deadline = time.monotonic() + WAIT
    while (value := probe()) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert value == expected


def test_a_mobileraker_session_reads_everything(gate, moonraker):
    moonraker.reset()
    with closing(connect(gate)) as ws:
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
    with closing(connect(gate)) as ws:
        for call_id, method in enumerate(CONTROLS + ["server.future_feature.run"], start=10):
            assert rpc(ws, method, call_id, script="G28") == {
                "jsonrpc": "2.0", "id": call_id,
                "error": {"code": -32601, "message": f"read-only bridge: {method} is not allowed"}}
        ws.send(json.dumps({"jsonrpc": "2.0", "method": "machine.reboot"}))  # a notification: no reply
        assert rpc(ws, "printer.info", 99)["result"]["state"] == "ready"  # the next reply is this one
    # Moonraker answered the last call, so it had everything the gate forwarded before it.
    assert methods_received(moonraker) == ["printer.info"]


def test_a_mixed_batch_is_split_between_moonraker_and_the_gate(gate, moonraker):
    moonraker.reset()
    batch = [{"jsonrpc": "2.0", "method": "server.info", "id": 1},
             {"jsonrpc": "2.0", "method": "printer.gcode.script", "params": {"script": "M112"}, "id": 2},
             {"jsonrpc": "2.0", "method": "printer.info", "id": 3},
             {"jsonrpc": "2.0", "method": "machine.reboot"},
             {"jsonrpc": "2.0", "method": "server.files.delete_file", "params": {"path": "gcodes/a.gcode"}, "id": 4}]
    with closing(connect(gate)) as ws:
        ws.send(json.dumps(batch))
        replies = [json.loads(ws.recv()), json.loads(ws.recv())]
    by_id = {reply["id"]: reply for array in replies for reply in array}
    assert sorted(by_id) == [1, 2, 3, 4]
    assert by_id[1]["result"]["klippy_state"] == "ready" and by_id[3]["result"]["state"] == "ready"
    assert by_id[2]["error"]["message"] == "read-only bridge: printer.gcode.script is not allowed"
    assert by_id[4]["error"]["message"] == "read-only bridge: server.files.delete_file is not allowed"
    assert [json.loads(m["text"]) for m in moonraker.recorded()["messages"]] == [[batch[0], batch[2]]]


def test_malformed_and_invalid_messages_are_answered_without_closing(gate, moonraker):
    with closing(connect(gate)) as ws:
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
    with closing(connect(gate)) as ws:
        rpc(ws, "server.info", 1)
        ws.send(oversized)
        assert close_frame(ws)[0] == 1009
    assert moonraker.wait_for(lambda record: record["websockets_open"] == 0, WAIT)


def test_a_message_of_exactly_the_limit_passes(gate, moonraker):
    call = {"jsonrpc": "2.0", "method": "server.info", "params": {"pad": ""}, "id": 1}
    call["params"]["pad"] = "x" * (262144 - len(json.dumps(call, separators=(",", ":"))))
    message = json.dumps(call, separators=(",", ":"))
    assert len(message) == 262144
    with closing(connect(gate)) as ws:
        ws.send(message)
        assert reply_to(ws, 1)["result"]["klippy_state"] == "ready"


def test_moonraker_sees_the_client_address_nginx_gave_and_the_token(gate, moonraker):
    moonraker.reset()
    with closing(connect(gate, "?token=oneshot123", **{"X-Real-IP": "192.168.1.20",
                                                      "X-Forwarded-For": "192.168.1.20", "X-Api-Key": "key"})) as ws:
        rpc(ws, "server.info", 1)
    with closing(connect(gate)) as ws:
        rpc(ws, "server.info", 1)
    nginx, direct = handshakes(moonraker)
    assert nginx["query"] == "token=oneshot123"
    assert (header(nginx, "X-Real-IP"), header(nginx, "X-Forwarded-For"), header(nginx, "X-Api-Key")) == (
        ["192.168.1.20"], ["192.168.1.20"], ["key"])
    assert (header(direct, "X-Real-IP"), header(direct, "X-Forwarded-For")) == (["127.0.0.1"], ["127.0.0.1"])


def test_when_moonraker_closes_the_client_is_closed(gate, moonraker):
    with closing(connect(gate)) as ws:
        rpc(ws, "server.info", 1)
        moonraker.close_websockets()
        assert close_frame(ws) == (1001, "Moonraker closed the connection")
    eventually(lambda: gate.healthz()["sessions"], 0)


def test_denials_are_logged_once_per_method_and_minute(gate):
    with closing(connect(gate, **{"X-Real-IP": "192.0.2.7"})) as ws:
        for call_id in range(3):
            rpc(ws, "test.logged.first", call_id)
        rpc(ws, "test.logged.second", 9)
    second = gate.wait_line("denied test.logged.second")
    assert second.endswith("from 192.0.2.7")
    assert [line for line in gate.lines if "test.logged.first" in line] == [
        "moonraker_gate INFO denied test.logged.first from 192.0.2.7"]


def test_sessions_end_without_leaving_greenlets_or_upstreams(gate, moonraker):
    eventually(lambda: gate.healthz()["sessions"], 0)
    baseline = gate.healthz()["greenlets"]
    for _ in range(2):
        clients = [connect(gate) for _ in range(8)]
        for n, ws in enumerate(clients):
            rpc(ws, "printer.objects.subscribe", n, objects={"extruder": None})
        for ws in clients:  # every session is served at once
            assert json.loads(ws.recv())["method"] == "notify_status_update"
        assert gate.healthz()["sessions"] == 8
        for n, ws in enumerate(clients):
            if n % 2:
                ws.close()  # a close handshake
            else:
                ws.sock.close()  # the phone went away: no close frame
        assert moonraker.wait_for(lambda record: record["websockets_open"] == 0, WAIT)
        eventually(gate.healthz, {"status": "ok", "sessions": 0, "greenlets": baseline})


def test_http_paths(gate):
    assert gate.get("/") == (404, "not found\n")
    assert gate.get("/websocket")[0] == 400
    connection = http.client.HTTPConnection("127.0.0.1", gate.port, timeout=WAIT)
    connection.request("POST", "/websocket", body="{}")
    assert connection.getresponse().status == 405
    connection.close()


def test_moonraker_down_is_502_until_it_is_back():
    port = free_port()
    gate = Gate(f"http://127.0.0.1:{port}", GATE_CONNECT_TIMEOUT="2")
    try:
        gate.wait_line("listening on port")
        for _ in range(2):
            with pytest.raises(websocket.WebSocketBadStatusException) as refused:
                connect(gate)
            assert refused.value.status_code == 502
            assert refused.value.resp_body.decode().startswith("no websocket to Moonraker: ")
            assert refused.value.resp_body.decode().count("\n") == 1
        assert gate.healthz()["sessions"] == 0
        with MoonrakerStandin(port=port) as moonraker:
            with closing(connect(gate)) as ws:
                assert rpc(ws, "server.info", 1)["result"]["klippy_state"] == "ready"
            assert methods_received(moonraker) == ["server.info"]
        gate.wait_line("works again")
        assert len([line for line in gate.lines if "no websocket to Moonraker" in line]) == 1
    finally:
        gate.stop()


def test_stopping_the_gate_closes_both_sides():
    with MoonrakerStandin() as moonraker:
        gate = Gate(moonraker.url)
        try:
            gate.wait_line("listening on port")
            with closing(connect(gate)) as ws:
                rpc(ws, "server.info", 1)
                gate.proc.send_signal(signal.SIGTERM)
                assert close_frame(ws) == (1001, "the gate is stopping")
            assert moonraker.wait_for(lambda record: record["websockets_open"] == 0, WAIT)
            assert gate.stop()[0] == 0
            assert not [line for line in gate.lines if "Traceback" in line or "Error" in line]
        finally:
            gate.stop()


def test_a_bad_setting_exits_78_with_one_line():
    gate = Gate("ftp://printer")
    assert gate.exit_status() == 78
    assert gate.lines == ["moonraker_gate: MOONRAKER_URL='ftp://printer' is invalid: "
                             "expected http://host[:port] or https://host[:port]"]


def test_a_broken_handshake_is_400_and_leaves_nothing_open(gate, moonraker):
    connection = http.client.HTTPConnection("127.0.0.1", gate.port, timeout=WAIT)
    connection.request("GET", "/websocket", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                                     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                                     "Sec-WebSocket-Version": "8"})
    response = connection.getresponse()
    assert (response.status, response.read()) == (400, b"websocket handshake failed\n")
    connection.close()
    assert moonraker.wait_for(lambda record: record["websockets_open"] == 0, WAIT)
    eventually(lambda: gate.healthz()["sessions"], 0)
