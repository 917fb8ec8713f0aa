"""`python3 -m uploader.healthcheck`: exit 0 while the upload loop keeps its schedule, 1 otherwise.

Reads only the health file the loop writes; no network.
"""

import os
import sys
import time
from typing import Mapping

from appliance.envparse import ConfigError

from . import health
from .config import load


def main(environ: Mapping[str, str]) -> int:
    try:
        config = load(environ)
    except ConfigError as error:
        print(f"unhealthy: {error}")
        return 1
    healthy, why = health.check(config.health_file, time.monotonic())
    print(("healthy: " if healthy else "unhealthy: ") + why)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(os.environ))
