"""Which camera to run, and its exact command line: pure, so it is testable anywhere."""

import sys
from typing import Dict, List, Optional, Tuple

from appliance.envparse import ConfigError

from .config import FeedConfig


def choose_source(config: FeedConfig, rpicam_vid: Optional[str]) -> str:
    """'rpicam' or 'synthetic' for this image; `rpicam_vid` is the path of rpicam-vid, if any."""
    if config.source == "synthetic":
        return "synthetic"
    if rpicam_vid is not None:
        return "rpicam"
    if config.source == "rpicam":
        raise ConfigError("FEED_SOURCE=rpicam but this image has no rpicam-vid (it is installed only "
                          "on arm64/armhf): use FEED_SOURCE=auto or synthetic, or build on the Pi")
    return "synthetic"


def camera_command(config: FeedConfig, source: str, rpicam_vid: Optional[str]) -> Tuple[List[str], Dict[str, str]]:
    """The argv to run and the environment to add for it."""
    camera = config.camera
    if source == "rpicam":
        argv = [rpicam_vid, "-t", "0", "-n", "--codec", "mjpeg",
                "--width", str(camera.width), "--height", str(camera.height),
                "--framerate", str(camera.fps), "-q", str(camera.quality),
                "--listen", "-o", f"tcp://0.0.0.0:{camera.port}", *config.extra_args]
        return argv, {}
    env = {
        "FEED_BIND": "0.0.0.0",
        "FEED_PORT": str(camera.port),
        "CAMERA_WIDTH": str(camera.width),
        "CAMERA_HEIGHT": str(camera.height),
        "CAMERA_FPS": str(camera.fps),
        "CAMERA_QUALITY": str(camera.quality),
        "SYNTHETIC_KEEP_SERVING": "false",
    }
    return [sys.executable, "-m", "synthcam"], env
