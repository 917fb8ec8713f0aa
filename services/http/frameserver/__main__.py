"""`python3 -m frameserver`: check the settings, then serve."""

# The app is loaded in gunicorn's master and shared with its gevent worker (preload_app): gevent
# patches the standard library first, so that everything loaded after it (logging's locks among
# them) is made for greenlets in both processes.
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402
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
