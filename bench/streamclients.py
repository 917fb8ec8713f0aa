"""Many MJPEG stream clients in one process: raw non-blocking sockets on one selector.

Streaming: `python -m bench.streamclients --port P --clients N --slow K --slow-rate BYTES_PER_S
--start-ns T0 --end-ns T1 --stop-ns T2 --out result.json` opens N streams at once (the first K read
at most BYTES_PER_S each), records every stamped part sent or received from T0 on (frame number,
send time, the part's X-Timestamp and receive time), notes at T1 how many bytes each slow reader's
own socket holds unread and the server's end holds unsent, and closes everything at T2; its CPU time
and the bytes all clients received are taken over [T0, T1).
Churn: `python -m bench.streamclients --port P --churn 1000 --concurrency 25 --parts 3 --out result.json`
opens streams `concurrency` at a time, each closed as soon as `parts` parts are whole.
Times are epoch nanoseconds, shared with the feed's stamps.
"""

import argparse
import fcntl
import heapq
import json
import resource
import selectors
import socket
import struct
import subprocess
import sys
import termios
import time
from typing import List, Optional

from . import frames
from .mjpegparse import MjpegResponse, StreamError

RECV_BUFFER = 1 << 20
SLOW_BURST = 64 * 1024  # what a slow client may read at once after a pause
SLOW_RESUME = 32 * 1024  # a paused slow client reads again once it may read this much


def request(host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: printercam-bench\r\n\r\n".encode()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Client:
    """One stream: its socket, its parser, and what it got."""

    def __init__(self, sock: socket.socket, slow_rate: float, since_ns: int):
        self.sock = sock
        self.slow_rate = slow_rate  # bytes per second; 0 for a client that keeps up
        self.tokens = float(SLOW_BURST)
        self.refilled = time.monotonic()
        self.since_ns = since_ns
        self.response = MjpegResponse(self._part, frames.HEAD_BYTES)
        self.numbers: List[int] = []
        self.sent_ns: List[int] = []
        self.x_timestamps: List[Optional[float]] = []  # the frame server's stamp of each part, epoch seconds
        self.received_ns: List[int] = []
        self.unread_bytes: Optional[int] = None  # what the socket held unread at the end of the window
        self.peer_queued_bytes: Optional[int] = None  # what the server's end of it held unsent then (ss Send-Q)
        self.other_parts = 0  # parts without a bench stamp (the no-signal picture)
        self.bytes = 0
        self.error: Optional[str] = None

    def _part(self, first: bytes, x_timestamp: Optional[float]) -> None:
        now = time.time_ns()
        stamp = frames.read_stamp(first)
        if stamp is None:
            self.other_parts += 1
            return
        number, sent = stamp
        if now >= self.since_ns:
            self.numbers.append(number)
            self.sent_ns.append(sent)
            self.x_timestamps.append(x_timestamp)
            self.received_ns.append(now)

    def result(self) -> dict:
        return {"slow": bool(self.slow_rate), "status": self.response.status, "parts": self.response.parts,
                "bytes": self.bytes, "numbers": self.numbers, "sent_ns": self.sent_ns,
                "x_timestamps": self.x_timestamps, "received_ns": self.received_ns,
                "unread_bytes": self.unread_bytes, "peer_queued_bytes": self.peer_queued_bytes,
                "other_parts": self.other_parts, "error": self.error}

    def note_unread(self) -> None:
        """How many bytes the kernel holds for this socket that it has not read yet (FIONREAD)."""
        if self.sock.fileno() >= 0:
            raw = fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, struct.pack("i", 0))
            self.unread_bytes = struct.unpack("i", raw)[0]


class Clients:
    """The selector loop: reads every readable stream into one shared buffer and parses it in place."""

    def __init__(self, host: str, port: int, path: str):
        self.address = (host, port)
        self.request = request(host, path)
        self.selector = selectors.DefaultSelector()
        self.buf = bytearray(RECV_BUFFER)
        self.view = memoryview(self.buf)
        self.paused: list = []  # heap of (resume at, sequence, client)
        self._sequence = 0

    def open(self, slow_rate: float, since_ns: int) -> Client:
        sock = socket.create_connection(self.address, timeout=10)
        sock.sendall(self.request)
        sock.setblocking(False)
        client = Client(sock, slow_rate, since_ns)
        self.selector.register(sock, selectors.EVENT_READ, client)
        return client

    def close(self, client: Client) -> None:
        if client.sock.fileno() >= 0:
            try:
                self.selector.unregister(client.sock)
            except KeyError:
                pass
            client.sock.close()

    def wait(self, timeout: float) -> None:
        """Handle what comes within `timeout` seconds (or until the next paused client may resume)."""
        if self.paused:
            timeout = max(0.0, min(timeout, self.paused[0][0] - time.monotonic()))
        for key, _ in self.selector.select(timeout):
            self._readable(key.data)
        now = time.monotonic()
        while self.paused and self.paused[0][0] <= now:
            client = heapq.heappop(self.paused)[2]
            if client.sock.fileno() >= 0:
                self.selector.register(client.sock, selectors.EVENT_READ, client)

    def _readable(self, client: Client) -> None:
        limit = RECV_BUFFER
        if client.slow_rate:
            now = time.monotonic()
            client.tokens = min(SLOW_BURST, client.tokens + (now - client.refilled) * client.slow_rate)
            client.refilled = now
            if client.tokens < 4096:
                self.selector.unregister(client.sock)
                self._sequence += 1
                resume = now + (SLOW_RESUME - client.tokens) / client.slow_rate
                heapq.heappush(self.paused, (resume, self._sequence, client))
                return
            limit = int(client.tokens)
        try:
            count = client.sock.recv_into(self.view, limit)
        except BlockingIOError:
            return
        except OSError as error:
            client.error = error.strerror or type(error).__name__
            self.close(client)
            return
        if not count:
            client.error = "the server closed the stream"
            self.close(client)
            return
        client.bytes += count
        client.tokens -= count
        try:
            client.response.feed(self.buf, 0, count)
        except StreamError as error:
            client.error = str(error)
            self.close(client)
            return
        if client.response.ended:
            client.error = client.error or f"the stream ended (status {client.response.status})"
            self.close(client)


def send_queues(port: int) -> dict:
    """{client port: bytes} each TCP connection from local `port` holds unsent (or unacknowledged), from
    `ss`; {} where ss is missing."""
    try:
        out = subprocess.run(["ss", "-tnH", f"( sport = :{port} )"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return parse_send_queues(out)


def parse_send_queues(out: str) -> dict:
    """`ss -tnH` lines (state, Recv-Q, Send-Q, local, peer) as {peer port: Send-Q}."""
    queued = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[2].isdigit():
            queued[int(fields[4].rsplit(":", 1)[1])] = int(fields[2])
    return queued


def stream(host: str, port: int, path: str, count: int, slow: int, slow_rate: float,
           start_ns: int, end_ns: int, stop_ns: int) -> dict:
    clients = Clients(host, port, path)
    opened = [clients.open(slow_rate if i < slow else 0.0, start_ns) for i in range(count)]
    cpu, received = {}, {}
    for name, until in (("start", start_ns), ("end", end_ns), ("stop", stop_ns)):
        while (left := until - time.time_ns()) > 0:
            clients.wait(left / 1e9)
        cpu[name] = cpu_seconds()
        received[name] = sum(client.bytes for client in opened)
        if name == "end":
            slow = [client for client in opened if client.slow_rate and client.sock.fileno() >= 0]
            queued = send_queues(port) if slow else {}
            for client in slow:
                client.note_unread()
                client.peer_queued_bytes = queued.get(client.sock.getsockname()[1])
    for client in opened:
        clients.close(client)
    return {"clients": [client.result() for client in opened], "cpu_s": cpu["end"] - cpu["start"],
            "window_bytes": received["end"] - received["start"], "window_s": (end_ns - start_ns) / 1e9}


def churn(host: str, port: int, path: str, total: int, concurrency: int, parts: int, timeout: float) -> dict:
    """Open `total` streams, `concurrency` at a time; each is closed once `parts` parts are whole."""
    clients = Clients(host, port, path)
    started = time.monotonic()
    deadline = started + timeout
    live: list = []
    opened = completed = 0
    failures: dict = {}
    while (opened < total or live) and time.monotonic() < deadline:
        while opened < total and len(live) < concurrency:
            try:
                live.append(clients.open(0.0, 0))
            except OSError as error:
                key = error.strerror or type(error).__name__
                failures[key] = failures.get(key, 0) + 1
            opened += 1
        clients.wait(0.5)
        for client in [c for c in live if c.response.parts >= parts or c.sock.fileno() < 0]:
            live.remove(client)
            if client.response.parts >= parts:
                completed += 1
            else:
                key = client.error or "closed"
                failures[key] = failures.get(key, 0) + 1
            clients.close(client)
    for client in live:
        failures["unfinished at the time limit"] = failures.get("unfinished at the time limit", 0) + 1
        clients.close(client)
    return {"opened": opened, "completed": completed, "failures": failures,
            "seconds": time.monotonic() - started}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streamclients", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/stream.mjpg")
    parser.add_argument("--out", required=True)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--slow", type=int, default=0)
    parser.add_argument("--slow-rate", type=float, default=0.0)
    parser.add_argument("--start-ns", type=int)
    parser.add_argument("--end-ns", type=int)
    parser.add_argument("--stop-ns", type=int)
    parser.add_argument("--churn", type=int, default=0, help="open this many streams one after another")
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--parts", type=int, default=1, help="parts a churned stream reads before it leaves")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a churn may take")
    args = parser.parse_args(argv)
    if args.churn:
        result = churn(args.host, args.port, args.path, args.churn, args.concurrency, args.parts, args.timeout)
    else:
        if None in (args.start_ns, args.end_ns, args.stop_ns):
            parser.error("streaming needs --start-ns, --end-ns and --stop-ns")
        result = stream(args.host, args.port, args.path, args.clients, args.slow, args.slow_rate,
                        args.start_ns, args.end_ns, args.stop_ns)
    with open(args.out, "w") as out:
        json.dump(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
