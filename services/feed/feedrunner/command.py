"""Which source each camera runs, and its exact command line: pure, so it is testable anywhere.

A source is a process that serves its camera on its port like `rpicam-vid --listen`: rpicam-vid
itself for a Pi camera, `python3 -m usbcam` (v4l2-ctl behind it) for a USB webcam, `python3 -m
synthcam` for the test pattern.
"""

import sys
from typing import Dict, List, Optional, Tuple

from appliance.cameras import Camera
from appliance.envparse import ConfigError


def choose_source(camera: Camera, rpicam_vid: Optional[str], v4l2_ctl: Optional[str]) -> str:
    """'rpicam', 'usb' or 'synthetic' for this camera in this image (the paths of the tools it has)."""
    variable = camera.variable("source")
    if camera.source == "usb":
        if v4l2_ctl is None:
            raise ConfigError(f"{variable}=usb but this image has no v4l2-ctl: build the feed image from "
                              "services/Dockerfile, which installs Debian's v4l-utils")
        return "usb"
    if camera.source == "synthetic":
        return "synthetic"
    if rpicam_vid is not None:
        return "rpicam"
    if camera.source == "rpicam":
        raise ConfigError(f"{variable}=rpicam but this image has no rpicam-vid (it is installed only on "
                          f"arm64/armhf): use {'FEED_SOURCE=auto or ' if camera.number == 1 else ''}synthetic, "
                          "or build on the Pi")
    return "synthetic"


def camera_command(camera: Camera, source: str, port: int,
                   rpicam_vid: Optional[str]) -> Tuple[List[str], Dict[str, str]]:
    """The argv to run for `camera` on `port`, and the environment to add for it."""
    capture = camera.capture
    if source == "rpicam":
        index = [] if capture.device == "0" else ["--camera", capture.device]
        argv = [rpicam_vid, "-t", "0", "-n", *index, "--codec", "mjpeg",
                "--width", str(capture.width), "--height", str(capture.height),
                "--framerate", str(capture.fps), "-q", str(capture.quality),
                "--listen", "-o", f"tcp://0.0.0.0:{port}", *capture.extra_args]
        return argv, {}
    env = {"FEED_CAMERA": str(camera.number), "FEED_BIND": "0.0.0.0", "FEED_PORT": str(port)}
    if source == "usb":
        return [sys.executable, "-m", "usbcam"], env
    return [sys.executable, "-m", "synthcam"], {**env, "SYNTHETIC_KEEP_SERVING": "false"}
