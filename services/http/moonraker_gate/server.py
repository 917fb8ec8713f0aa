"""Runs the gate under gunicorn: one gevent worker holds every session."""

import logging
import signal

import gevent
from gunicorn.app.base import BaseApplication

from .allowlist import ALLOWED_METHODS
from .config import Config


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, log: logging.Logger):
        self._config = config
        self._log = log
        self._gate = None
        super().__init__()

    def load_config(self) -> None:
        settings = {
            "bind": [f"0.0.0.0:{self._config.port}"],
            "workers": 1,
            "worker_class": "gevent",
            "accesslog": None,
            "loglevel": "warning",
            "keepalive": 0,  # one request per connection: /healthz callers and nginx's upgrades need no more
            "graceful_timeout": 3,
            "proc_name": "moonraker_gate",
            "post_worker_init": self._end_sessions_on_stop,
            "worker_exit": _release_websocket_client_handler,
        }
        for name, value in settings.items():
            self.cfg.set(name, value)

    def load(self):
        # Imported here, in the worker after gevent has monkey-patched it, not in the master.
        from .app import Gate

        self._log.info("listening on port %d; Moonraker's websocket at %s; %d methods allowed; "
                       "messages up to %d bytes", self._config.port, self._config.upstream_url,
                       len(ALLOWED_METHODS), self._config.max_message)
        self._gate = Gate(self._config, self._log)
        return self._gate

    def _end_sessions_on_stop(self, worker) -> None:
        """On SIGTERM a gevent worker waits for its requests to end, which sessions never do, until the
        master kills it: end them at once instead, each side getting its close frame."""
        def stop(signum, frame):
            worker.handle_exit(signum, frame)
            gevent.spawn(self._gate.end_sessions)

        signal.signal(signal.SIGTERM, stop)


def _release_websocket_client_handler(server, worker) -> None:
    """websocket-client keeps a logging handler as a default argument of enableTrace; freed at
    interpreter exit, after gevent's hub is gone, it prints a traceback. Free it while the worker runs."""
    import websocket

    websocket.enableTrace.__defaults__ = (None,) + websocket.enableTrace.__defaults__[1:]


def run(config: Config, log: logging.Logger) -> None:
    _Gunicorn(config, log).run()
