"""From the capture's stdout to the client: cut into frames, each given the standard Huffman
tables if it lacks them, truncated ones dropped and counted. Nothing is decoded or re-encoded."""

import logging
import os
import selectors
import socket
from typing import Tuple

from appliance.throttle import Throttle
from jpegframes.huffman import with_huffman_tables
from jpegframes.splitter import FrameSplitter

log = logging.getLogger("usbcam")

READ_BYTES = 256 * 1024
SEND_TIMEOUT_S = 10.0  # a client that takes no data for this long is gone (the frame server reconnects)
CLIENT_LEFT = "the client left"
CAPTURE_ENDED = "the capture ended"


def relay(capture_fd: int, conn: socket.socket, splitter: FrameSplitter, throttle: Throttle,
          send_timeout: float = SEND_TIMEOUT_S) -> Tuple[str, int]:
    """Send every whole frame read from `capture_fd` to `conn` until one of them ends; (why, frames sent)."""
    sent = 0
    conn.settimeout(send_timeout)
    with selectors.DefaultSelector() as selector:
        selector.register(capture_fd, selectors.EVENT_READ, CAPTURE_ENDED)
        selector.register(conn, selectors.EVENT_READ, CLIENT_LEFT)
        while True:
            for key, _ in selector.select():
                if key.data == CLIENT_LEFT:
                    if _hung_up(conn):
                        return CLIENT_LEFT, sent
                    continue
                chunk = os.read(capture_fd, READ_BYTES)
                if not chunk:
                    return CAPTURE_ENDED, sent
                dropped = splitter.dropped
                for frame in splitter.feed(chunk):
                    try:
                        conn.sendall(with_huffman_tables(frame))
                    except OSError:  # a timeout too: the capture must not wait on a stuck client
                        return CLIENT_LEFT, sent
                    sent += 1
                if splitter.dropped > dropped and throttle.admit("dropped") is not None:
                    log.warning("dropped a truncated or broken frame from the camera (%d so far)", splitter.dropped)


def _hung_up(conn: socket.socket) -> bool:
    try:
        return not conn.recv(4096)  # anything the client sends is ignored, as rpicam-vid does
    except OSError:
        return True
