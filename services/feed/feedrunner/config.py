"""The feed container's settings, read and checked once at start-up.

The camera settings (size, rate, quality, port) are the synthetic camera's own, so both
cameras take the same variables with the same limits.
"""

import shlex
from dataclasses import dataclass
from typing import Mapping, Tuple

from appliance.envparse import ConfigError, Env
from synthcam.config import Config as CameraConfig
from synthcam.config import load as load_camera

SOURCES = ("auto", "rpicam", "synthetic")


@dataclass(frozen=True)
class FeedConfig:
    source: str
    camera: CameraConfig
    extra_args: Tuple[str, ...]


def load(environ: Mapping[str, str]) -> FeedConfig:
    env = Env(environ)
    extra = env.str("CAMERA_EXTRA_ARGS", "")
    try:
        extra_args = tuple(shlex.split(extra))
    except ValueError as error:
        raise ConfigError(f"CAMERA_EXTRA_ARGS={extra!r} is invalid: {error}") from None
    return FeedConfig(
        source=env.choice("FEED_SOURCE", "auto", SOURCES),
        camera=load_camera(environ),
        extra_args=extra_args,
    )
