"""`python3 -m feedrunner`: the feed container's main process, one supervised process per camera."""

import os
import shutil
import signal
import sys
import threading

from appliance import log as applog
from appliance.envparse import load_or_exit

from .command import camera_command, choose_source
from .config import load
from .supervisor import Supervisor

_LABELS = {"rpicam": "rpicam-vid (the Pi camera)", "usb": "the USB camera's own MJPEG",
           "synthetic": "the synthetic test pattern"}


def _settings(environ, rpicam_vid, v4l2_ctl):
    config = load(environ)
    return config, [choose_source(camera, rpicam_vid, v4l2_ctl) for camera in config.cameras]


def main() -> int:
    log = applog.setup("feed")
    rpicam_vid, v4l2_ctl = shutil.which("rpicam-vid"), shutil.which("v4l2-ctl")
    config, sources = load_or_exit("feed", lambda environ: _settings(environ, rpicam_vid, v4l2_ctl), os.environ)
    supervisors = []
    for camera, source in zip(config.cameras, sources):
        capture, port = camera.capture, config.port(camera)
        device = f" {capture.device}," if source == "usb" or (source == "rpicam" and capture.device != "0") else ""
        quality = "" if source == "usb" else f", quality {capture.quality}"  # a USB camera codes its own JPEGs
        log.info("camera %d (%s): %s=%s: serving %s,%s %dx%d at %d fps%s, on tcp port %d",
                 camera.number, camera.name, camera.variable("source"), camera.source, _LABELS[source], device,
                 capture.width, capture.height, capture.fps, quality, port)
        argv, extra_env = camera_command(camera, source, port, rpicam_vid)
        supervisors.append(Supervisor(f"camera {camera.number}", argv, {**os.environ, **extra_env}))

    def stop(*_signal_args):
        for supervisor in supervisors:
            supervisor.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threads = [threading.Thread(target=supervisor.run, name=supervisor.label) for supervisor in supervisors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
