"""`python3 -m feedrunner`: the feed container's main process."""

import os
import shutil
import sys

from appliance import log as applog
from appliance.envparse import load_or_exit

from .command import camera_command, choose_source
from .config import load
from .supervisor import Supervisor


def _settings(environ, rpicam_vid):
    config = load(environ)
    return config, choose_source(config, rpicam_vid)


def main() -> int:
    log = applog.setup("feed")
    rpicam_vid = shutil.which("rpicam-vid")
    config, source = load_or_exit("feed", lambda environ: _settings(environ, rpicam_vid), os.environ)
    label = "rpicam-vid (the Pi camera)" if source == "rpicam" else "the synthetic test pattern"
    log.info("FEED_SOURCE=%s: serving %s, %dx%d at %d fps, quality %d, on tcp port %d",
             config.source, label, config.camera.width, config.camera.height, config.camera.fps,
             config.camera.quality, config.camera.port)
    argv, extra_env = camera_command(config, source, rpicam_vid)
    return Supervisor(argv, {**os.environ, **extra_env}).run()


if __name__ == "__main__":
    sys.exit(main())
