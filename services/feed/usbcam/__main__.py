"""`python3 -m usbcam`: serve a USB webcam's own MJPEG like `rpicam-vid --listen`.

`python3 -m usbcam --list` prints every camera under /dev/v4l/by-id and its MJPEG modes.

Before listening it checks that the camera offers the MJPEG mode asked for (or says what it
offers and exits 78: the feed tries again later, as for an unplugged camera); once a client
connects it starts v4l2-ctl, relays its frames, and exits when the client or the capture ends.
"""

import glob
import os
import shutil
import subprocess
import sys

from appliance import log as applog
from appliance.envparse import EXIT_CONFIG, load_or_exit
from appliance.throttle import Throttle
from feedwire import serve
from jpegframes.splitter import FrameSplitter

from .config import load
from .relay import CLIENT_LEFT, relay
from .v4l2 import ModeError, capture_command, check_mode, list_formats_command, mjpeg_modes, parse_formats

BY_ID = "/dev/v4l/by-id"
LIST_TIMEOUT_S = 10
STOP_GRACE_S = 2


def _formats(v4l2_ctl: str, device: str):
    """The formats the camera lists; OSError with v4l2-ctl's own words when it cannot."""
    try:
        listing = subprocess.run(list_formats_command(v4l2_ctl, device), capture_output=True, text=True,
                                 timeout=LIST_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise OSError(f"v4l2-ctl did not list the modes of {device} within {LIST_TIMEOUT_S} s") from None
    if listing.returncode != 0:
        said = (listing.stderr.strip().splitlines() or [f"exit status {listing.returncode}"])[-1]
        raise OSError(f"cannot read the modes of {device}: {said}")
    return parse_formats(listing.stdout)


def list_cameras(v4l2_ctl: str, by_id: str = BY_ID) -> int:
    """Print each camera under `by_id` with its MJPEG modes; 1 when there is none."""
    devices = sorted(glob.glob(os.path.join(by_id, "*")))
    if not devices:
        print(f"no USB cameras under {by_id}: is one plugged in? (ls -l /dev/v4l /dev/video*)")
        return 1
    for device in devices:
        try:
            formats = _formats(v4l2_ctl, device)
        except OSError as error:
            print(f"{device}: {error}")
            continue
        modes = mjpeg_modes(formats)
        if modes:
            said = "MJPEG " + "; ".join(map(str, modes))
        elif any(fmt.modes for fmt in formats):
            said = "no MJPEG, only " + ", ".join(fmt.fourcc for fmt in formats) + ": not usable (README, USB cameras)"
        else:
            said = "no video modes: not a capture node (a webcam's second node carries metadata)"
        print(f"{device} ({os.path.realpath(device)}): {said}")
    return 0


def main() -> int:
    log = applog.setup("usbcam")
    v4l2_ctl = shutil.which("v4l2-ctl")
    if v4l2_ctl is None:
        log.error("no v4l2-ctl on PATH: the feed image installs it with Debian's v4l-utils")
        return 1
    if sys.argv[1:] == ["--list"]:
        return list_cameras(v4l2_ctl)
    config = load_or_exit("usbcam", load, os.environ)
    camera, capture = config.camera, config.camera.capture
    if not os.path.exists(capture.device):
        log.error("%s is not there: is the camera plugged in? (ls -l %s)", capture.device, BY_ID)
        return 1
    try:
        check_mode(_formats(v4l2_ctl, capture.device), capture.device, capture.width, capture.height, capture.fps,
                   f"{camera.variable('width')}/HEIGHT/FPS", camera.variable("source"))
    except OSError as error:
        log.error("%s", error)
        return 1
    except ModeError as error:
        log.error("%s", error)
        return EXIT_CONFIG
    log.info("camera %d (%s): %s, MJPEG %dx%d at %d fps, on %s:%d; exits when its client leaves", camera.number,
             camera.name, capture.device, capture.width, capture.height, capture.fps, config.bind, config.port)
    argv = capture_command(v4l2_ctl, capture.device, capture.width, capture.height, capture.fps, capture.extra_args)

    def serve_client(conn, _peer):
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            splitter = FrameSplitter()
            with conn:
                why, sent = relay(process.stdout.fileno(), conn, splitter, Throttle())
            log.info("%s after %d frames; %d truncated or broken frames dropped", why, sent, splitter.dropped)
            if why == CLIENT_LEFT:
                return 0
            log.error("v4l2-ctl exited with status %s: was the camera unplugged?", _end(process))
            return 1
        finally:
            _end(process)

    return serve(config.bind, config.port, serve_client)


def _end(process: subprocess.Popen) -> int:
    """Stop the capture (if it still runs) and return its exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


if __name__ == "__main__":
    sys.exit(main())
