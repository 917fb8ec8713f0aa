"""The synthetic camera's settings, read and checked once at start-up."""

from dataclasses import dataclass
from typing import Mapping

from appliance.envparse import Env


@dataclass(frozen=True)
class Config:
    bind: str
    port: int
    width: int
    height: int
    fps: int
    quality: int
    keep_serving: bool


def load(environ: Mapping[str, str]) -> Config:
    env = Env(environ)
    return Config(
        bind=env.str("FEED_BIND", "0.0.0.0", pattern=r"[0-9A-Za-z.:%_-]+",
                     form="an address or host name to listen on, e.g. 0.0.0.0 or ::"),
        port=env.port("FEED_PORT", 9000),
        width=env.int("CAMERA_WIDTH", 1280, minimum=16, maximum=4096),
        height=env.int("CAMERA_HEIGHT", 720, minimum=16, maximum=4096),
        fps=env.int("CAMERA_FPS", 15, minimum=1, maximum=120),
        quality=env.int("CAMERA_QUALITY", 80, minimum=1, maximum=100),
        keep_serving=env.choice("SYNTHETIC_KEEP_SERVING", "false", ("0", "1", "true", "false")) in ("1", "true"),
    )
