"""The frame server's settings, read and checked once at start-up."""

from typing import Mapping, NamedTuple, Tuple

from appliance import cameras as camera_slots
from appliance.envparse import ConfigError, Env, HttpUrl


class CameraConfig(NamedTuple):
    number: int  # its slot, 1 to 4
    name: str
    feed_port: int  # where the feed serves it: FEED_PORT (9000) for camera 1, one port more for each slot after


class Config(NamedTuple):
    cameras: Tuple[CameraConfig, ...]  # the enabled ones, in slot order; camera 1 is always one
    feed_host: str
    feed_timeout: float  # seconds allowed to connect, and between two complete frames, before reconnecting
    http_port: int
    http_socket: str  # also listen on this unix socket (nginx's way in); empty: TCP only
    max_frame_bytes: int
    snapshot_max_age: float  # a newer frame is live; an older one is stale
    stream_max_clients: int
    stream_idle_timeout: float  # a stream client that accepts no data for this long is dropped
    stream_keepalive: float  # a stream re-sends its last frame after this long without a new one
    worker_connections: int  # gunicorn's cap on simultaneous connections, streams and snapshots together
    uploader_url: HttpUrl  # where the uploader serves GET /state, for /status.json
    gate_socket: str  # the gate's unix socket, where it serves GET /gate/status, for /status.json


def load(environ: Mapping[str, str]) -> Config:
    env = Env(environ)
    worker_connections = env.int("WORKER_CONNECTIONS", 1000, minimum=10, maximum=100000)
    stream_max_clients = env.int("STREAM_MAX_CLIENTS", 20, minimum=1, maximum=10000)
    if stream_max_clients >= worker_connections:
        raise ConfigError(f"STREAM_MAX_CLIENTS={stream_max_clients} is out of range: expected fewer than "
                          f"WORKER_CONNECTIONS ({worker_connections}), so snapshots and /healthz still get through")
    feed_port = env.port("FEED_PORT", camera_slots.FEED_PORT_BASE)
    enabled = camera_slots.load(environ)
    if feed_port + enabled.numbers[-1] - 1 > 65535:
        raise ConfigError(f"FEED_PORT={feed_port} is out of range: camera {enabled.numbers[-1]} is served "
                          f"{enabled.numbers[-1] - 1} ports above it, so expected at most {65536 - enabled.numbers[-1]}")
    return Config(
        cameras=tuple(CameraConfig(camera.number, camera.name, feed_port + camera.number - 1) for camera in enabled),
        feed_host=env.host("FEED_HOST", "feed"),
        feed_timeout=env.float("FEED_TIMEOUT", 5.0, minimum=0.1, maximum=3600),
        http_port=env.port("HTTP_PORT", 8081),
        http_socket=env.str("HTTP_SOCKET", "", pattern=r"/[\w./-]{1,100}", form="an absolute path"),
        max_frame_bytes=env.int("MAX_FRAME_BYTES", 8 * 1024 * 1024, minimum=1024, maximum=64 * 1024 * 1024),
        snapshot_max_age=env.float("SNAPSHOT_MAX_AGE", 10.0, minimum=0.01, maximum=86400),
        stream_max_clients=stream_max_clients,
        stream_idle_timeout=env.float("STREAM_IDLE_TIMEOUT", 30.0, minimum=0.1, maximum=3600),
        stream_keepalive=env.float("STREAM_KEEPALIVE", 1.0, minimum=0.05, maximum=60),
        worker_connections=worker_connections,
        uploader_url=env.http_url("UPLOADER_URL", "http://uploader:8083"),
        gate_socket=env.str("GATE_SOCKET", "/run/gate/gate.sock", pattern=r"/[\w./-]{1,100}", form="an absolute path"),
    )

