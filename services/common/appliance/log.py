"""One log line per event, to stdout, in a shape `docker logs` reads well."""

import logging
import sys


def setup(service: str, level: int = logging.INFO) -> logging.Logger:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(f"{service} %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return logging.getLogger(service)


class Prefixed(logging.LoggerAdapter):
    """A logger whose every line starts with `prefix`, e.g. a camera's, so that the lines of
    several cameras read apart. The prefix is taken as it is, even with a "%" in it (a camera's
    name is the user's)."""

    def __init__(self, log: logging.Logger, prefix: str):
        super().__init__(log, {})
        self.prefix = prefix

    def log(self, level, msg, *args, **kwargs):
        prefix = self.prefix.replace("%", "%%") if args else self.prefix
        super().log(level, prefix + str(msg), *args, **kwargs)
