"""The gate's settings, read and checked once at start-up."""

from dataclasses import dataclass
from typing import Mapping

from appliance.envparse import Env

DEFAULT_MOONRAKER_URL = "http://host.docker.internal:7125"


@dataclass(frozen=True)
class Config:
    upstream_url: str  # Moonraker's websocket, derived from MOONRAKER_URL: ws(s)://host:port/websocket
    port: int  # the gate listens on 0.0.0.0:port
    max_message: int  # bytes; a bigger message from a client closes its connection with 1009
    connect_timeout: float  # seconds to reach Moonraker and finish its websocket handshake


def load(environ: Mapping[str, str]) -> Config:
    env = Env(environ)
    moonraker = env.http_url("MOONRAKER_URL", DEFAULT_MOONRAKER_URL)
    return Config(
        upstream_url=f"{'wss' if moonraker.scheme == 'https' else 'ws'}://{moonraker.netloc}/websocket",
        port=env.port("GATE_PORT", 8082),
        max_message=env.int("GATE_MAX_MESSAGE", 262144, minimum=1024, maximum=16 * 1024 * 1024),
        connect_timeout=env.float("GATE_CONNECT_TIMEOUT", 5.0, minimum=0.1, maximum=60),
    )
