"""A stand-in Moonraker: HTTP endpoints and a /websocket JSON-RPC server that record everything
they receive, so a test can prove what reached Moonraker and what never did.

In process:
    with MoonrakerStandin() as moonraker:      # 127.0.0.1, an ephemeral port
        moonraker.url, moonraker.recorded(), moonraker.reset(), moonraker.wait_for(predicate),
        moonraker.close_websockets()
Out of process (a container in the end-to-end tests), from the tests/ directory:
    python3 -m standins.moonraker --port 7125 [--host 0.0.0.0] [--notify-interval 0.1]
    GET /_recorded returns the record as JSON, POST /_reset clears it; neither is recorded.
    POST /_print_state {"state": "printing"} sets print_stats.state (in process: set_print_state()).

The record: {"connections": n, "requests": [{"method", "target", "path", "query", "headers": [[name,
value], ...], "body"}, ...], "messages": [{"connection": n, "text": ...}, ...], "websockets_open": n}.
`connections` counts every TCP connection accepted, even one that never sent a request; `target` is
the request target exactly as received (a "#" and percent-encodings included). A websocket
handshake is recorded as a GET /websocket request. Headers keep their order and repeats, so a test
can tell one X-Forwarded-For from two.

HTTP: GET/HEAD answer Moonraker-like JSON ({"result": ...}) for every path the appliance allows and
for the ones it must refuse (/access/api_key, /server/config, logs, ...), each distinct so a leak
shows; any other method on any path answers 200 {"result": "ok"}, as if the action had happened.
Websocket: refuses an Origin as Moonraker does (403 unless it names the request's Host or is one of
`cors_domains`); answers server.connection.identify, server.info, printer.info, printer.objects.list,
printer.objects.subscribe (then sends notify_status_update every `notify_interval` seconds, and
print_stats at once whenever its state is set),
server.webcams.list, and anything else with "ok"; batches answered as batches; notifications unanswered.

Only the standard library and simple_websocket (Debian's python3-simple-websocket).
"""

import argparse
import itertools
import json
import signal
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import urlsplit

import simple_websocket
from wsproto.utilities import RemoteProtocolError

WEBCAM = {
    "name": "appliance", "location": "printer", "service": "mjpegstreamer-adaptive", "enabled": True,
    "icon": "mdiWebcam", "target_fps": 15, "target_fps_idle": 5, "stream_url": "/webcam/?action=stream",
    "snapshot_url": "/webcam/?action=snapshot", "flip_horizontal": False, "flip_vertical": False, "rotation": 0,
    "aspect_ratio": "4:3", "extra_data": {}, "source": "config", "uid": "00000000-0000-4000-8000-000000000001",
}
SERVER_INFO = {
    "klippy_connected": True, "klippy_state": "ready",
    "components": ["database", "file_manager", "klippy_apis", "machine", "data_store", "proc_stats", "history",
                   "authorization", "webcam", "announcements"],
    "failed_components": [], "registered_directories": ["config", "logs", "gcodes"], "warnings": [],
    "websocket_count": 1, "moonraker_version": "v0.9.3-standin", "missing_klippy_requirements": [],
    "api_version": [1, 5, 0], "api_version_string": "1.5.0",
}
PRINTER_INFO = {
    "state": "ready", "state_message": "Printer is ready", "hostname": "standin", "software_version": "v0.12.0-standin",
    "cpu_info": "4 core ARMv8", "klipper_path": "/home/pi/klipper", "python_path": "/home/pi/klippy-env/bin/python",
    "log_file": "/home/pi/printer_data/logs/klippy.log", "config_file": "/home/pi/printer_data/config/printer.cfg",
}
OBJECTS = ["webhooks", "configfile", "print_stats", "virtual_sdcard", "display_status", "toolhead", "extruder",
           "heater_bed", "fan", "gcode_move", "idle_timeout"]
STATUS = {
    "webhooks": {"state": "ready", "state_message": "Printer is ready"},
    "print_stats": {"state": "standby", "filename": "", "print_duration": 0.0},
    "toolhead": {"position": [0.0, 0.0, 0.0, 0.0], "homed_axes": ""},
    "extruder": {"temperature": 21.5, "target": 0.0, "power": 0.0},
    "heater_bed": {"temperature": 20.9, "target": 0.0, "power": 0.0},
}
FILE = {"path": "benchy.gcode", "modified": 1700000000.0, "size": 1234567, "permissions": "rw"}
JOB = {"job_id": "000001", "filename": "benchy.gcode", "status": "completed", "start_time": 1700000000.0,
       "end_time": 1700003600.0, "print_duration": 3500.0, "total_duration": 3600.0, "filament_used": 1234.5,
       "metadata": {}, "exists": True}

GET_RESULTS: Dict[str, Any] = {
    "/server/info": SERVER_INFO,
    "/printer/info": PRINTER_INFO,
    "/printer/objects/list": {"objects": OBJECTS},
    "/printer/objects/query": {"eventtime": 12345.6, "status": STATUS},
    "/server/webcams/list": {"webcams": [WEBCAM]},
    "/server/webcams/get_item": {"webcam": WEBCAM},
    "/server/files/roots": [{"name": "gcodes", "path": "/home/pi/printer_data/gcodes", "permissions": "rw"}],
    "/server/files/list": [FILE],
    "/server/files/directory": {"dirs": [], "files": [FILE], "disk_usage": {"total": 1, "used": 0, "free": 1},
                                "root_info": {"name": "gcodes", "permissions": "rw"}},
    "/server/files/metadata": {"filename": "benchy.gcode", "size": 1234567, "estimated_time": 3500,
                               "thumbnails": [{"width": 32, "height": 32, "size": 68,
                                               "relative_path": ".thumbs/benchy-32x32.png"}]},
    "/server/files/thumbnails": [{"width": 32, "height": 32, "size": 68, "thumbnail_path": ".thumbs/benchy-32x32.png"}],
    "/server/history/list": {"count": 1, "jobs": [JOB]},
    "/server/history/job": {"job": JOB},
    "/server/history/totals": {"job_totals": {"total_jobs": 1, "total_time": 3600.0, "total_print_time": 3500.0,
                                              "total_filament_used": 1234.5, "longest_job": 3600.0,
                                              "longest_print": 3500.0}, "auxiliary_totals": []},
    "/server/temperature_store": {"extruder": {"temperatures": [21.5], "targets": [0.0], "powers": [0.0]}},
    "/server/gcode_store": {"gcode_store": [{"message": "ok", "time": 1700000000.0, "type": "response"}]},
    "/machine/system_info": {"system_info": {"cpu_info": {"cpu_count": 4, "model": "Raspberry Pi standin"},
                                             "distribution": {"name": "Debian GNU/Linux 13 (trixie)"}}},
    "/machine/proc_stats": {"moonraker_stats": [], "throttled_state": {"bits": 0, "flags": []}, "cpu_temp": 45.0,
                            "network": {}, "system_cpu_usage": {"cpu": 3.0}, "websocket_connections": 1},
    "/access/info": {"default_source": "moonraker", "available_sources": ["moonraker"], "login_required": False},
    "/access/oneshot_token": "standin-oneshot-token",
    # What the appliance must never let through, each distinct so that a leak is plain to see.
    "/access/api_key": "standin-api-key-must-never-leak",
    "/server/config": {"config": {"server": {"host": "0.0.0.0"}, "authorization": {"trusted_clients": []}},
                       "orig": {}, "files": []},
    "/server/jsonrpc": {"leaked": "/server/jsonrpc"},
    "/klippysocket": {"leaked": "/klippysocket"},
}
TEXT_FILES = {
    "/server/files/klippy.log": "klippy.log from the stand-in: must never leak\n",
    "/server/files/moonraker.log": "moonraker.log from the stand-in: must never leak\n",
}
PREFIX_RESULTS = (
    ("/server/files/config/", "text/plain", b"[printer]\nkinematics: cartesian\n# config from the stand-in\n"),
    ("/server/files/logs/", "text/plain", b"a log from the stand-in: must never leak\n"),
    ("/debug/", "application/json", b'{"result":{"leaked":"/debug/"}}'),
    ("/api/", "application/json", b'{"api":"0.1","server":"1.5.0","text":"OctoPrint (Moonraker stand-in)"}'),
)
JSON = "application/json"


def _png(width: int, height: int) -> bytes:
    """A real PNG of grey pixels: what a slicer writes as a G-code thumbnail."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


THUMBNAIL = _png(32, 32)


def status_with(print_state: str) -> dict:
    """The printer objects' status, print_stats.state set to `print_state`."""
    return {**STATUS, "print_stats": {**STATUS["print_stats"], "state": print_state}}


def http_get(path: str, print_state: str = "standby") -> Tuple[int, str, bytes]:
    """(status, content type, body) of a GET to `path`."""
    if path == "/printer/objects/query":
        return 200, JSON, _dump({"result": {"eventtime": 12345.6, "status": status_with(print_state)}})
    if path in GET_RESULTS:
        return 200, JSON, _dump({"result": GET_RESULTS[path]})
    if path in TEXT_FILES:
        return 200, "text/plain", TEXT_FILES[path].encode()
    if path.startswith("/server/files/gcodes/"):
        if path.endswith(".png"):
            return 200, "image/png", THUMBNAIL
        return 200, "text/plain", b"; G-code from the stand-in\nG28\n"
    for prefix, content_type, body in PREFIX_RESULTS:
        if path.startswith(prefix):
            return 200, content_type, body
    return 404, JSON, _dump({"error": {"code": 404, "message": "Not Found", "traceback": ""}})


def rpc_result(method: str, params: Any, connection: "_Connection") -> Any:
    """The result of one websocket call."""
    if method == "server.connection.identify":
        return {"connection_id": connection.id}
    if method == "server.info":
        return SERVER_INFO
    if method == "printer.info":
        return PRINTER_INFO
    if method == "printer.objects.list":
        return {"objects": OBJECTS}
    if method == "printer.objects.subscribe":
        connection.subscribe()
        objects = params.get("objects") if isinstance(params, dict) else None
        names = objects if isinstance(objects, dict) else STATUS
        status = status_with(connection.print_state)
        return {"eventtime": time.monotonic(), "status": {name: status.get(name, {}) for name in names}}
    if method == "server.webcams.list":
        return {"webcams": [WEBCAM]}
    return "ok"


def rpc_answer(text: str, connection: "_Connection") -> Optional[str]:
    """The reply to one websocket message, None for notifications."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return _dump(_rpc_error(-32700, "Parse error", None)).decode()
    if isinstance(parsed, list):
        replies = [reply for reply in (_rpc_reply(call, connection) for call in parsed) if reply is not None]
        return _dump(replies).decode() if replies else None
    reply = _rpc_reply(parsed, connection)
    return None if reply is None else _dump(reply).decode()


def _rpc_reply(call: Any, connection: "_Connection") -> Optional[dict]:
    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return _rpc_error(-32600, "Invalid Request", None)
    result = rpc_result(call["method"], call.get("params"), connection)
    return {"jsonrpc": "2.0", "result": result, "id": call["id"]} if "id" in call else None


def _rpc_error(code: int, message: str, call_id: Any) -> dict:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": call_id}


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode()


class _Connection:
    """One websocket client: sends one at a time, and status notifications once subscribed."""

    def __init__(self, ws: simple_websocket.Server, number: int, notify_interval: float, print_state: str):
        self.id = number
        self.print_state = print_state
        self._ws = ws
        self._notify_interval = notify_interval
        self._sending = threading.Lock()
        self._stopped = threading.Event()
        self._notifier: Optional[threading.Thread] = None

    def send(self, text: str) -> None:
        with self._sending:
            self._ws.send(text)

    def subscribe(self) -> None:
        if self._notifier is None:
            self._notifier = threading.Thread(target=self._notify, daemon=True)
            self._notifier.start()

    def _notify(self) -> None:
        step = 0
        while not self._stopped.wait(self._notify_interval):
            step += 1
            update = {"extruder": {"temperature": 21.5 + step % 10 / 10}}
            try:
                self.send(_dump({"jsonrpc": "2.0", "method": "notify_status_update",
                                 "params": [update, time.monotonic()]}).decode())
            except (simple_websocket.ConnectionClosed, OSError):
                return

    def print_state_changed(self, state: str) -> None:
        self.print_state = state
        if self._notifier is not None:
            try:
                self.send(_dump({"jsonrpc": "2.0", "method": "notify_status_update",
                                 "params": [{"print_stats": {"state": state}}, time.monotonic()]}).decode())
            except (simple_websocket.ConnectionClosed, OSError):
                pass

    def close(self) -> None:
        """Closes from Moonraker's side, as a restart of Moonraker would."""
        try:
            self._ws.close(1001, "Moonraker shutting down")
        except (simple_websocket.ConnectionClosed, OSError):
            pass

    def stop(self) -> None:
        self._stopped.set()


class MoonrakerStandin:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, notify_interval: float = 0.1,
                 cors_domains: Tuple[str, ...] = ()):
        self.notify_interval = notify_interval
        self.cors_domains = cors_domains
        self.print_state = "standby"
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.standin = self
        self._changed = threading.Condition()
        self._connections = 0
        self._requests = []
        self._messages = []
        self._open: Dict[int, _Connection] = {}
        self._numbers = itertools.count(1)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "MoonrakerStandin":
        """Serves from a background thread."""
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        """Stops listening and closes every websocket from Moonraker's side."""
        self._server.shutdown()
        self._server.server_close()
        self.close_websockets()

    def __enter__(self) -> "MoonrakerStandin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def set_print_state(self, state: str) -> None:
        """print_stats.state from now on, in HTTP queries and pushed to every subscribed websocket."""
        with self._changed:
            self.print_state = state
            connections = list(self._open.values())
        for connection in connections:
            connection.print_state_changed(state)

    def close_websockets(self) -> None:
        with self._changed:
            connections = list(self._open.values())
        for connection in connections:
            connection.close()

    def origin_allowed(self, origin: Optional[str], host: Optional[str]) -> bool:
        """Moonraker's own check of a websocket's Origin (Tornado's, then cors_domains): none, or one
        naming the Host the request came to, or one listed."""
        if origin is None:
            return True
        return urlsplit(origin).netloc.lower() == host or origin in self.cors_domains

    def recorded(self) -> dict:
        with self._changed:
            return self._snapshot()

    def reset(self) -> None:
        with self._changed:
            self._connections = 0
            self._requests.clear()
            self._messages.clear()
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 10.0) -> bool:
        """Blocks until predicate(record) holds, re-checking at each change; False after `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self._snapshot()), timeout)

    def _snapshot(self) -> dict:
        return {"connections": self._connections, "requests": [dict(request) for request in self._requests],
                "messages": [dict(message) for message in self._messages],
                "websockets_open": len(self._open)}

    def _connected(self, count: int) -> None:
        with self._changed:
            self._connections += count
            self._changed.notify_all()

    def _record(self, kind: str, entry: dict) -> None:
        with self._changed:
            (self._requests if kind == "request" else self._messages).append(entry)
            self._changed.notify_all()

    def _serve_websocket(self, ws: simple_websocket.Server) -> None:
        connection = _Connection(ws, next(self._numbers), self.notify_interval, self.print_state)
        with self._changed:
            self._open[connection.id] = connection
            self._changed.notify_all()
        try:
            while True:
                message = ws.receive()
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                self._record("message", {"connection": connection.id, "text": text})
                reply = rpc_answer(text, connection)
                if reply is not None:
                    connection.send(reply)
        except (simple_websocket.ConnectionClosed, OSError):
            pass
        finally:
            connection.stop()
            with self._changed:
                del self._open[connection.id]
                self._changed.notify_all()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Moonraker-standin"

    def log_message(self, format: str, *args) -> None:
        """Quiet: the record is the log."""

    def setup(self) -> None:
        super().setup()
        self.server.standin._connected(1)

    def _handle(self) -> None:
        target = urlsplit(self.path)
        standin: MoonrakerStandin = self.server.standin
        if target.path in ("/_recorded", "/_reset"):
            standin._connected(-1)  # the test asking, not a client of Moonraker
            self.close_connection = True
        if target.path == "/_recorded" and self.command == "GET":
            return self._send(200, JSON, _dump(standin.recorded()))
        if target.path == "/_reset" and self.command == "POST":
            standin.reset()
            return self._send(200, JSON, _dump({"result": "ok"}))
        body = self._read_body()
        standin._record("request", {"method": self.command, "target": self.path, "path": target.path,
                                    "query": target.query,
                                    "headers": [[name, value] for name, value in self.headers.items()],
                                    "body": body.decode("utf-8", "replace")})
        if target.path == "/websocket" and self.headers.get("Upgrade", "").lower() == "websocket":
            if not standin.origin_allowed(self.headers.get("Origin"), self.headers.get("Host")):
                return self._send(403, "text/plain", b"Cross origin websockets not allowed")
            return self._websocket(standin)
        if self.command in ("GET", "HEAD"):
            return self._send(*http_get(target.path, standin.print_state))
        if target.path == "/_print_state" and self.command == "POST":
            standin.set_print_state(json.loads(body)["state"])
        return self._send(200, JSON, _dump({"result": "ok"}))

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # not read, so the connection cannot carry another request
            return b""
        length = self.headers.get("Content-Length", "0")
        return self.rfile.read(min(int(length), 1 << 20)) if length.isdigit() else b""

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _websocket(self, standin: MoonrakerStandin) -> None:
        environ = {"werkzeug.socket": self.connection}
        for name, value in self.headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        self.close_connection = True
        try:
            ws = simple_websocket.Server(environ)
        except (RemoteProtocolError, simple_websocket.ConnectionError) as error:
            return self._send(400, "text/plain", f"bad websocket handshake: {error}\n".encode())
        standin._serve_websocket(ws)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 -m standins.moonraker", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=7125)
    parser.add_argument("--notify-interval", type=float, default=0.1)
    options = parser.parse_args()
    standin = MoonrakerStandin(options.host, options.port, options.notify_interval)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"standins.moonraker listening on {options.host}:{standin.port}", flush=True)
    standin.serve_forever()


if __name__ == "__main__":
    main()
