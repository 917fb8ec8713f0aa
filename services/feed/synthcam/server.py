"""The synthetic camera on the wire, as `rpicam-vid --listen -o tcp://host:port` behaves.

One client at a time: the listening socket is closed once a client is accepted, so a second
connection is refused. That client gets raw JPEGs back to back (no headers, no lengths) until
it hangs up.
"""

import select
import socket
import time

from .pacing import Pacer
from .pattern import Pattern


def stream(conn: socket.socket, pattern: Pattern, fps: int) -> int:
    """Send frames at `fps` until the client hangs up; return how many were sent."""
    pacer = Pacer(fps, time.monotonic())
    sent = 0
    with conn:
        while not hung_up_before(conn, pacer.due()):
            try:
                conn.sendall(pattern.frame(sent + 1, time.time()))
            except OSError:
                break
            sent += 1
            pacer.advance(time.monotonic())
    return sent


def hung_up_before(conn: socket.socket, deadline: float) -> bool:
    """Wait until the monotonic `deadline`; True as soon as the client closes its end."""
    while True:
        timeout = deadline - time.monotonic()
        if timeout <= 0 or not select.select([conn], [], [], timeout)[0]:
            return False
        try:
            if not conn.recv(4096):  # anything the client sends is ignored, as rpicam-vid does
                return True
        except OSError:
            return True
