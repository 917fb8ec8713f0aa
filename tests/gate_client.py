"""The real gate (`python -m moonraker_gate`) on a unix socket of its own, and clients of that socket:
websockets (websocket-client over the unix socket) and raw HTTP requests, target byte for byte."""

import json
import re
import socket
import struct
import tempfile
import time
from pathlib import Path

import websocket

from service_process import ServiceProcess, service_env

WAIT = 20  # seconds: generous, the machine is shared


class GateProcess(ServiceProcess):
    def __init__(self, moonraker_url, **environ):
        self.path = str(Path(tempfile.mkdtemp(prefix="gate-", dir="/tmp")) / "gate.sock")
        self.health_file = str(Path(self.path).with_name("health"))
        env = service_env(("http", "common"), **{"MOONRAKER_URL": moonraker_url, "GATE_SOCKET": self.path,
                                                 "HEALTH_FILE": self.health_file, **environ})
        super().__init__("moonraker_gate", env, WAIT)

    def started(self):
        self.wait_line("listening on")
        return self

    def connect_socket(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(WAIT)
        sock.connect(self.path)
        return sock

    def websocket(self, query="", origin=None, host="door:7126", **headers):
        """A websocket through the gate; without `origin`, none is sent (as MobileRaker)."""
        options = {"origin": origin} if origin else {"suppress_origin": True}
        return websocket.create_connection(f"ws://{host}/websocket{query}", timeout=WAIT, header=headers,
                                           socket=self.connect_socket(), **options)

    def raw(self, request: bytes):
        """(status, headers text, body) of one raw request; the connection is closed after it."""
        return raw_exchange(self.connect_socket(), request)

    def get(self, target, **headers):
        lines = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
        return self.raw(f"GET {target} HTTP/1.1\r\nHost: door:7126\r\n{lines}Connection: close\r\n\r\n".encode())

    def status(self):
        status, _, body = self.get("/gate/status")
        assert status == 200
        return json.loads(body)


def raw_exchange(sock, request: bytes):
    """Sends `request` as is and reads one answer (its Content-Length, else until the server closes):
    (status, head, body)."""
    with sock:
        sock.sendall(request)
        data = b""
        while True:
            head, found, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head) if found else None
            if length and len(body) >= int(length.group(1)):
                break
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, head.decode("latin-1"), body


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


def eventually(probe, expected, within=WAIT):
    """For state inside the gate's process, which tells no one when it changes: checks every 20 ms."""
    deadline = time.monotonic() + within
    while (value := probe()) != expected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert value == expected
