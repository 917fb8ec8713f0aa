"""`python3 -m moonraker_gate`: read the settings, then serve; a bad setting exits 78 with one line."""

import os

from appliance.envparse import load_or_exit
from appliance.log import setup

from .config import load
from .server import run


def main() -> None:
    log = setup("moonraker_gate")
    config = load_or_exit("moonraker_gate", load, os.environ)
    run(config, log)  # gunicorn's arbiter ends the process when it stops


if __name__ == "__main__":
    main()
