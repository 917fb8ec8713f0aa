"""`python3 -m moonraker_gate`: read the settings, then serve on the unix socket until SIGTERM.

One process, gevent's own WSGI server: the gate idles most of the time, so it loads nothing it
does not use. It patches nothing either (monkey-patching costs 5 MiB): every socket it opens is
gevent's, explicitly; wsproto is imported at the first websocket.
"""

import ipaddress
import logging
import os
import signal
import sys
from typing import Callable, Optional, Union

import gevent
from gevent import socket
from gevent.pool import Pool
from gevent.pywsgi import WSGIServer

from appliance import log as applog
from appliance.envparse import load_or_exit

from .allowlist import ALLOWED_METHODS
from .config import Config, load
from .gate import Gate, Handler
from .healthprobe import HealthProbe
from .selfcheck import CHECK_INTERVAL, SelfCheck

# gevent's hub formats a failed greenlet's context with pprint.saferepr by default, and pprint imports
# dataclasses (1.4 MiB with what it imports); reprlib's repr is as safe, bounded, and costs nothing.
gevent.config.format_context = "reprlib.repr"

MAX_CONNECTIONS = 256  # connections served at once (sessions are capped far lower); more wait in the backlog


def listen(path: str) -> socket.socket:
    """The unix socket at `path`, replacing the one a killed gate left behind."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, 0o660)  # nginx, the uploader and the frame server run as the same user
    sock.listen(128)
    return sock


def _address(host: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    """Moonraker's host as an address (localhost as 127.0.0.1); None for a name DNS must answer."""
    try:
        return ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
    except ValueError:
        return None


def on_loopback(config: Config) -> bool:
    address = _address(config.moonraker.host)
    return address is not None and address.is_loopback


def looks_up_addresses_only(config: Config) -> bool:
    """Whether every name the gate looks up is an address or localhost: Moonraker's host is one, and
    the self-check asks the host's own addresses. Such lookups answer at once, without DNS."""
    return _address(config.moonraker.host) is not None


def every(interval: float, check: Callable[[], None], what: str, log: logging.Logger) -> None:
    """check() now and every `interval` seconds, for ever: an unexpected error is logged with its
    traceback and the next check comes at its time."""
    while True:
        try:
            check()
        except Exception:
            log.exception("%s failed; trying again in %g s", what, interval)
        gevent.sleep(interval)


def main() -> int:
    log = applog.setup("moonraker_gate")
    config = load_or_exit("moonraker_gate", load, os.environ)
    if looks_up_addresses_only(config):
        # gevent's default resolver runs each lookup in a thread of a pool, which costs 1.4 MiB; an
        # address needs no DNS, so the gate looks it up in place. A host name keeps the thread pool,
        # so that a slow DNS server never stalls the other sessions.
        gevent.config.resolver = "block"
    selfcheck = SelfCheck(config.moonraker.port if on_loopback(config) else None, log)
    gate = Gate(config, log, selfcheck)
    server = WSGIServer(listen(config.socket), gate, handler_class=Handler, spawn=Pool(MAX_CONNECTIONS), log=None)
    log.info("listening on %s; Moonraker at %s://%s; %d methods allowed; messages up to %d bytes; at most %d "
             "sessions, %d per client; origins besides the door's own: %s", config.socket, config.moonraker.scheme,
             config.moonraker.netloc, len(ALLOWED_METHODS), config.max_message, config.max_sessions,
             config.max_sessions_per_client, " ".join(config.allowed_origins) or "none")

    def stop() -> None:
        server.close()  # no new connections; then each session gets its close frames
        gate.end_sessions()
        server.stop(timeout=1)

    gevent.signal_handler(signal.SIGTERM, lambda: gevent.spawn(stop))
    gevent.signal_handler(signal.SIGINT, lambda: gevent.spawn(stop))
    probe = HealthProbe(config.socket, config.health_file, log)
    loops = [gevent.spawn(every, CHECK_INTERVAL, selfcheck.check, "the self-check", log),
             gevent.spawn(every, probe.interval, probe.check, "the health probe", log)]
    server.serve_forever()
    gevent.killall(loops)
    logging.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
