"""`python3 -m moonraker_gate`: read the settings, then serve; a bad setting exits 78 with one line."""

import os
import sys

from appliance.envparse import EXIT_CONFIG, ConfigError
from appliance.log import setup

from .config import load
from .server import run


def main() -> None:
    log = setup("moonraker_gate")
    try:
        config = load(os.environ)
    except ConfigError as error:
        print(f"moonraker_gate: {error}", flush=True)
        sys.exit(EXIT_CONFIG)
    run(config, log)  # gunicorn's arbiter ends the process when it stops


if __name__ == "__main__":
    main()
