"""`python3 -m frameserver`: check the settings, then serve."""

import os
import sys

from appliance import log as applog
from appliance.envparse import EXIT_CONFIG, ConfigError

from .config import load
from .server import FrameServer


def main() -> int:
    log = applog.setup("frameserver")
    try:
        config = load(os.environ)
    except ConfigError as error:
        print(f"frameserver: {error}", flush=True)
        return EXIT_CONFIG
    log.info("serving http on port %d; feed %s:%d; stale after %g s; at most %d stream clients",
             config.http_port, config.feed_host, config.feed_port, config.snapshot_max_age,
             config.stream_max_clients)
    FrameServer(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
