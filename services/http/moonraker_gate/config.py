"""The gate's settings, read and checked once at start-up."""

from typing import Mapping, NamedTuple, Tuple

from appliance.envparse import ConfigError, Env, HttpUrl

from .origins import parse_allowed

DEFAULT_MOONRAKER_URL = "http://127.0.0.1:7125"
DEFAULT_SOCKET = "/run/gate/gate.sock"
DEFAULT_HEALTH_FILE = "/tmp/gate-health"


class Config(NamedTuple):
    moonraker: HttpUrl  # where Moonraker answers, from the host's network namespace
    socket: str  # the gate's only listening address: a unix socket shared with nginx and the uploader
    max_message: int  # bytes; a bigger message from a client closes its connection with 1009
    connect_timeout: float  # seconds to reach Moonraker and finish its websocket handshake
    allowed_origins: Tuple[str, ...]  # origins besides the door's own, each scheme://host:port
    max_sessions: int  # websockets through the gate at once
    max_sessions_per_client: int  # of them from one client address
    health_file: str  # where the health probe keeps its deadline, for Docker's healthcheck

    @property
    def upstream_websocket(self) -> str:
        return f"{'wss' if self.moonraker.scheme == 'https' else 'ws'}://{self.moonraker.netloc}/websocket"


def load(environ: Mapping[str, str]) -> Config:
    env = Env(environ)
    max_sessions = env.int("GATE_MAX_SESSIONS", 10, minimum=1, maximum=100)
    per_client = env.int("GATE_MAX_SESSIONS_PER_CLIENT", 3, minimum=1, maximum=100)
    if per_client > max_sessions:
        raise ConfigError(f"GATE_MAX_SESSIONS_PER_CLIENT={per_client} is out of range: expected at most "
                          f"GATE_MAX_SESSIONS ({max_sessions})")
    return Config(
        moonraker=env.http_url("MOONRAKER_URL", DEFAULT_MOONRAKER_URL),
        socket=env.str("GATE_SOCKET", DEFAULT_SOCKET, pattern=r"/[\w./-]{1,100}", form="an absolute path"),
        max_message=env.int("GATE_MAX_MESSAGE", 262144, minimum=1024, maximum=16 * 1024 * 1024),
        connect_timeout=env.float("GATE_CONNECT_TIMEOUT", 5.0, minimum=0.1, maximum=60),
        allowed_origins=parse_allowed("ALLOWED_ORIGINS", env.str("ALLOWED_ORIGINS", "")),
        max_sessions=max_sessions,
        max_sessions_per_client=per_client,
        health_file=env.str("HEALTH_FILE", DEFAULT_HEALTH_FILE, pattern=r"/\S*[^/]", form="an absolute file path"),
    )
