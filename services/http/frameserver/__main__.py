"""`python3 -m frameserver`: check the settings, then serve."""

import os
import sys

from appliance import log as applog
from appliance.envparse import load_or_exit

from .config import load
from .gunicornapp import FrameServer


def main() -> int:
    log = applog.setup("frameserver")
    config = load_or_exit("frameserver", load, os.environ)
    feeds = ", ".join(f"camera {camera.number} ({camera.name}) from {config.feed_host}:{camera.feed_port}"
                      for camera in config.cameras)
    log.info("serving http on port %d%s; %s; stale after %g s; at most %d stream clients per camera",
             config.http_port, f" and {config.http_socket}" if config.http_socket else "", feeds,
             config.snapshot_max_age, config.stream_max_clients)
    FrameServer(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
