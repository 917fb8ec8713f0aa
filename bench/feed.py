"""The bench feed, on the wire like `rpicam-vid --listen`: one client, raw JPEGs back to back.

`python -m bench.feed --port P --size 1280x720 --fps 30 --log sent.log --cache DIR`
prints `listening` once it accepts connections. Each frame is stamped (frames.stamp) just
before it is sent, and `<number> <send time ns>` goes to the log, so the bench knows exactly
which frames were sent in any window. Like rpicam-vid it stops listening while it serves its
client, so a second connection is refused; when the client hangs up it listens again.
"""

import argparse
import queue
import socket
import sys
import threading
import time
from pathlib import Path

from synthcam.pacing import Pacer
from synthcam.server import hung_up_before

from . import frames


def serve(port: int, pictures: list, fps: float, log) -> None:
    number = 0
    ready = False
    while True:
        with socket.create_server(("127.0.0.1", port), backlog=1) as listener:
            if not ready:
                print("listening", flush=True)
                ready = True
            conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            number = _stream(conn, pictures, fps, log, number)


def _stream(conn: socket.socket, pictures: list, fps: float, log, number: int) -> int:
    """Send frames at `fps` until the client hangs up; the last frame number sent."""
    pacer = Pacer(fps, time.monotonic())
    while not hung_up_before(conn, pacer.due()):
        number += 1
        sent_ns = time.time_ns()
        try:
            conn.sendall(frames.stamp(pictures[number % len(pictures)], number, sent_ns))
        except OSError:
            return number
        log.write(b"%d %d\n" % (number, sent_ns))
        pacer.advance(time.monotonic())
    return number


class SentLog:
    """`<number> <send ns>` lines, written by a thread of their own so a slow disk never delays a frame."""

    def __init__(self, path: Path):
        self._lines: "queue.SimpleQueue[bytes]" = queue.SimpleQueue()
        self._file = open(path, "wb", buffering=0)
        threading.Thread(target=self._write, daemon=True).start()

    def write(self, line: bytes) -> None:
        self._lines.put(line)

    def _write(self) -> None:
        while True:
            self._file.write(self._lines.get())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feed", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=frames.size_of, default=(1280, 720))
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--log", type=Path, required=True, help="where `<number> <send ns>` lines go")
    parser.add_argument("--cache", type=Path, required=True, help="where the pictures are kept")
    args = parser.parse_args(argv)
    pictures = frames.pictures(*args.size, args.cache)
    serve(args.port, pictures, args.fps, SentLog(args.log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
