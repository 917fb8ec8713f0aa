"""`python3 -m synthcam`: serve the test pattern like `rpicam-vid -t 0 -n --codec mjpeg --listen`."""

import os
import signal
import sys

from appliance import log as applog
from appliance.envparse import load_or_exit

from .config import load
from .pattern import Pattern
from .server import accept_one, stream


class Stopped(BaseException):
    """SIGTERM or SIGINT arrived. Not an Exception, so nothing on the way (logging) swallows it."""


def _stop(*_signal_args):
    raise Stopped


def main() -> int:
    log = applog.setup("synthcam")
    config = load_or_exit("synthcam", load, os.environ)
    log.info("a %dx%d test pattern at %d fps, quality %d, on %s:%d; %s", config.width, config.height,
             config.fps, config.quality, config.bind, config.port,
             "serves client after client" if config.keep_serving else "exits when its client leaves")
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        pattern = Pattern(config.width, config.height, config.quality)
        while True:
            conn, peer = accept_one(config.bind, config.port)
            log.info("client %s connected", peer)
            sent = stream(conn, pattern, config.fps)
            log.info("client %s left after %d frames", peer, sent)
            if not config.keep_serving:
                return 0
    except Stopped:
        log.info("stopped")
        return 0
    except OSError as error:
        log.error("cannot listen on %s:%d: %s", config.bind, config.port, error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
