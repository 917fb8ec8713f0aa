"""The USB camera process's settings, read and checked once at start-up."""

from typing import Mapping, NamedTuple

from appliance import cameras
from appliance.envparse import Env
from feedwire import camera_slot, listen_address


class Config(NamedTuple):
    camera: cameras.Camera  # with its capture settings
    bind: str
    port: int


def load(environ: Mapping[str, str]) -> Config:
    camera = camera_slot(environ, ("usb",))
    bind, port = listen_address(Env(environ), camera.feed_port)
    return Config(camera, bind, port)
