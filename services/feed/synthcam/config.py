"""The synthetic camera's settings, read and checked once at start-up.

Its size, rate, quality and name are its camera slot's (appliance.cameras, FEED_CAMERA picks
the slot), so the test pattern takes the same variables, limits and defaults as a real camera.
"""

from typing import Mapping, NamedTuple

from appliance.envparse import Env
from feedwire import camera_slot, listen_address


class Config(NamedTuple):
    number: int  # the camera slot, shown in the picture and in each frame's COM mark
    name: str
    bind: str
    port: int
    width: int
    height: int
    fps: int
    quality: int
    keep_serving: bool


def load(environ: Mapping[str, str]) -> Config:
    env = Env(environ)
    camera = camera_slot(environ, ("synthetic", "auto"))
    bind, port = listen_address(env, camera.feed_port)
    capture = camera.capture
    return Config(
        number=camera.number, name=camera.name, bind=bind, port=port, width=capture.width,
        height=capture.height, fps=capture.fps, quality=capture.quality,
        keep_serving=env.choice("SYNTHETIC_KEEP_SERVING", "false", ("0", "1", "true", "false")) in ("1", "true"),
    )
