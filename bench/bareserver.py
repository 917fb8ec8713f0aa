"""The ceiling for the frame server: the least a Python process can do to serve the feed.

`python -m bench.bareserver --feed-port F --port P` reads the feed, finds each frame's end with
bytes.find and builds, once per frame, the bytes of a snapshot response and of a stream part
(the frame server's format, chunked as gunicorn sends it to an HTTP/1.1 client). A request line
naming /snapshot.jpg gets the snapshot (keep-alive); any other gets the stream, every frame
handed to the client with a non-blocking send, and a client still busy with an earlier frame
skips this one. No header parsing, limits, timeouts or health: not a server to ship, a
yardstick on the same machine.
"""

import argparse
import selectors
import socket
import sys
import time

STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frameserver-mjpeg-boundary\r\n"
               b"Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\nTransfer-Encoding: chunked\r\n\r\n")
OPENING = b"--frameserver-mjpeg-boundary\r\n"
CLOSING = b"\r\n" + OPENING
READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


def chunk(data: bytes) -> bytes:
    return b"%X\r\n%s\r\n" % (len(data), data)


class Connection:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.request = b""
        self.streaming = False
        self.pending = None  # a memoryview still to send


class Server:
    def __init__(self, feed_port: int, port: int):
        self.selector = selectors.DefaultSelector()
        self.feed = socket.create_connection(("127.0.0.1", feed_port))
        self.selector.register(self.feed, READ, None)
        self.listener = socket.create_server(("127.0.0.1", port), backlog=512)
        self.listener.setblocking(False)
        self.selector.register(self.listener, READ, None)
        self.buf = bytearray()
        self.snapshot = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
        self.streams = set()

    def run(self) -> None:
        while True:
            for key, events in self.selector.select():
                if key.fileobj is self.feed:
                    self._feed_readable()
                elif key.fileobj is self.listener:
                    self._accept()
                elif key.fileobj.fileno() >= 0:  # not closed by an earlier event of this round
                    self._ready(key.data, events)

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        self.selector.register(sock, READ, Connection(sock))

    def _ready(self, conn: Connection, events: int) -> None:
        if events & READ:
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                data = None
            except OSError:
                data = b""
            if data == b"":
                self._close(conn)
                return
            if data and not conn.streaming:
                conn.request += data
        if events & WRITE and conn.pending is not None:
            self._send(conn, conn.pending)
        if conn.pending is None and not conn.streaming:
            self._answer(conn)

    def _answer(self, conn: Connection) -> None:
        end = conn.request.find(b"\r\n\r\n")
        if end < 0:
            return
        line, conn.request = conn.request[:conn.request.find(b"\r\n")], conn.request[end + 4:]
        if b" /snapshot.jpg" in line:
            self._send(conn, memoryview(self.snapshot))
        else:
            conn.streaming = True
            self.streams.add(conn)
            self._send(conn, memoryview(STREAM_HEAD + chunk(OPENING)))

    def _send(self, conn: Connection, view: memoryview) -> None:
        try:
            sent = conn.sock.send(view)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._close(conn)
            return
        conn.pending = view[sent:] if sent < len(view) else None
        self.selector.modify(conn.sock, READ | (WRITE if conn.pending is not None else 0), conn)

    def _close(self, conn: Connection) -> None:
        self.streams.discard(conn)
        self.selector.unregister(conn.sock)
        conn.sock.close()

    def _feed_readable(self) -> None:
        data = self.feed.recv(1 << 20)
        if not data:
            raise SystemExit("the feed closed the connection")
        buf = self.buf
        start = max(0, len(buf) - 1)
        buf += data
        end = buf.find(b"\xff\xd9", start)
        while end >= 0:
            self._publish(bytes(buf[:end + 2]))
            del buf[:end + 2]
            end = buf.find(b"\xff\xd9")

    def _publish(self, jpeg: bytes) -> None:
        stamp = b"%.6f" % time.time()
        self.snapshot = b"".join((b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n"
                                  b"Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n"
                                  b"X-Timestamp: %s\r\n\r\n" % (len(jpeg), stamp), jpeg))
        part = memoryview(chunk(b"".join((b"Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Timestamp: %s\r\n\r\n"
                                          % (len(jpeg), stamp), jpeg, CLOSING))))
        for conn in list(self.streams):
            if conn.pending is None:
                self._send(conn, part)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bareserver", description=__doc__.splitlines()[0])
    parser.add_argument("--feed-port", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = Server(args.feed_port, args.port)
    print("serving", flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
