"""`python3 -m synthcam`: serve the test pattern like `rpicam-vid -t 0 -n --codec mjpeg --listen`."""

import os
import sys

from appliance import log as applog
from appliance.envparse import load_or_exit
from feedwire import serve

from .config import load
from .pattern import Pattern
from .server import stream


def main() -> int:
    log = applog.setup("synthcam")
    config = load_or_exit("synthcam", load, os.environ)
    log.info("camera %d (%s): a %dx%d test pattern at %d fps, quality %d, on %s:%d; %s", config.number,
             config.name, config.width, config.height, config.fps, config.quality, config.bind, config.port,
             "serves client after client" if config.keep_serving else "exits when its client leaves")
    pattern = Pattern(config.width, config.height, config.quality, config.number, config.name)

    def serve_client(conn, peer):
        sent = stream(conn, pattern, config.fps)
        log.info("client %s left after %d frames", peer, sent)
        return None if config.keep_serving else 0

    return serve(config.bind, config.port, serve_client)


if __name__ == "__main__":
    sys.exit(main())
