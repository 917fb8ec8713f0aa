"""The feed's side of the wire, as `rpicam-vid --listen -o tcp://host:port` behaves: one client
at a time, raw JPEGs back to back. Shared by the camera processes the feed serves itself
(synthetic, usb), with the settings each reads: which camera slot (FEED_CAMERA) and where to listen.

The listening socket is closed once a client is accepted, so a second connection is refused
while the first is served, exactly as rpicam-vid does.
"""

import logging
import signal
import socket
from typing import Callable, Mapping, Optional, Tuple

from appliance import cameras
from appliance.envparse import ConfigError, Env

log = logging.getLogger("feedwire")


def accept_one(host: str, port: int):
    """Listen until one client connects; return (connection, "address:port")."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family, backlog=1) as listener:
        log.info("listening on %s:%d", host, port)
        conn, peer = listener.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a frame's tail goes out at once
    return conn, f"{peer[0]}:{peer[1]}"


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived. Not an Exception, so nothing on the way (logging) swallows it."""


def _stop(*_signal_args):
    raise Stopped


def serve(host: str, port: int, serve_client: Callable[[socket.socket, str], Optional[int]]) -> int:
    """Accept one client at a time and hand it to `serve_client(connection, peer)`, until that
    returns an exit status (None: take the next client); the process's exit status.

    SIGTERM or SIGINT ends it at once with 0, running the `finally` blocks on the way (so a
    capture process is stopped); a port that cannot be listened on is 1.
    """
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while True:
            conn, peer = accept_one(host, port)
            log.info("client %s connected", peer)
            status = serve_client(conn, peer)
            if status is not None:
                return status
    except Stopped:
        log.info("stopped")
        return 0
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", host, port, error)
        return 1


def listen_address(env: Env, port: int) -> Tuple[str, int]:
    """(FEED_BIND, FEED_PORT): where a camera process listens; `port` is its camera's port."""
    bind = env.host("FEED_BIND", "0.0.0.0")
    return bind, env.port("FEED_PORT", port)


def camera_slot(environ: Mapping[str, str], sources: Tuple[str, ...]) -> cameras.Camera:
    """The camera FEED_CAMERA names (default 1), with its capture settings; its source must be in `sources`."""
    number = Env(environ).int("FEED_CAMERA", 1, minimum=1, maximum=len(cameras.SLOTS))
    camera = cameras.load(environ, capture=True).get(number)
    if camera is None or camera.source not in sources:
        raise ConfigError(f"FEED_CAMERA={number} is invalid: expected a camera whose "
                          f"{cameras.variable(number, 'source')} is {' or '.join(sources)}")
    return camera
