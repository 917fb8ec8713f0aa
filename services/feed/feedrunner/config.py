"""The feed container's settings, read and checked once at start-up: every enabled camera with
its capture settings (appliance.cameras holds their variables and defaults)."""

from typing import Mapping, NamedTuple, Tuple

from appliance import cameras
from appliance.envparse import Env


class Config(NamedTuple):
    cameras: Tuple[cameras.Camera, ...]
    first_port: int  # camera N listens on first_port + N - 1 (9000 in the appliance; tests move it)

    def port(self, camera: cameras.Camera) -> int:
        return self.first_port + camera.number - 1


def load(environ: Mapping[str, str]) -> Config:
    return Config(cameras=cameras.load(environ, capture=True).enabled,
                      first_port=Env(environ).int("FEED_PORT", cameras.FEED_PORT_BASE, minimum=1,
                                                  maximum=65535 - len(cameras.SLOTS)))
