"""The gate's WSGI app: GET /websocket opens a session to Moonraker for the client (or answers 502
when Moonraker cannot be reached), GET /healthz reports the open sessions."""

import gc
import json
import logging
import re
from typing import Any, Callable, Iterable, Mapping

import gevent
import greenlet
import simple_websocket
import websocket
from wsproto.utilities import RemoteProtocolError

from . import session
from .config import Config
from appliance.throttle import Throttle

LOG_INTERVAL = 60.0  # seconds between two lines about the same denied method or the same Moonraker failure
_PLAIN_NAME = re.compile(r"[\w.:-]{1,80}")


class Gate:
    def __init__(self, config: Config, log: logging.Logger):
        self.config = config
        self.log = log
        self._sessions = set()  # the greenlets running a session
        self._denials = Throttle(LOG_INTERVAL)
        self._failures = Throttle(LOG_INTERVAL)
        self._moonraker_down = False

    def __call__(self, environ: Mapping, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            body = {"status": "ok", "sessions": len(self._sessions), "greenlets": _live_greenlets()}
            return _respond(start_response, "200 OK", json.dumps(body), "application/json")
        if path != "/websocket":
            return _respond(start_response, "404 Not Found", "not found")
        if environ.get("REQUEST_METHOD") != "GET":
            return _respond(start_response, "405 Method Not Allowed", "only GET upgrades /websocket")
        if not _is_upgrade(environ):
            return _respond(start_response, "400 Bad Request", "expected a websocket upgrade")
        try:
            upstream = session.connect(self.config.upstream_url, environ, self.config.connect_timeout)
        except (OSError, websocket.WebSocketException) as error:
            reason = self._moonraker_failed(error)
            return _respond(start_response, "502 Bad Gateway", f"no websocket to Moonraker: {reason}")
        self._moonraker_reached()
        try:
            client = session.accept(environ, self.config.max_message)
        except (RemoteProtocolError, simple_websocket.ConnectionError, OSError):
            upstream.close()
            return _respond(start_response, "400 Bad Request", "websocket handshake failed")
        running = gevent.getcurrent()
        self._sessions.add(running)
        try:
            session.relay(client, upstream, self.config.max_message, lambda method: self._denied(method, environ))
        finally:
            self._sessions.discard(running)
        # The connection belonged to the websocket and is over: this tells gunicorn's worker to
        # close it without writing a response.
        raise StopIteration

    def end_sessions(self) -> None:
        """Ends every session, as when the gate stops: clients get 1001, Moonraker a close frame."""
        gevent.killall(list(self._sessions), block=False)

    def _denied(self, method: str, environ: Mapping) -> None:
        held = self._denials.admit(method)
        if held is not None:
            client = environ.get("HTTP_X_REAL_IP") or environ.get("REMOTE_ADDR", "")
            self.log.info("denied %s from %s%s", _shown(method), _shown(client), _held_back(held))

    def _moonraker_failed(self, error: Exception) -> str:
        reason = _describe(error)
        self._moonraker_down = True
        held = self._failures.admit(reason)
        if held is not None:
            self.log.warning("no websocket to Moonraker at %s: %s%s", self.config.upstream_url, reason, _held_back(held))
        return reason

    def _moonraker_reached(self) -> None:
        if self._moonraker_down:
            self._moonraker_down = False
            self.log.info("Moonraker's websocket at %s works again", self.config.upstream_url)


def _is_upgrade(environ: Mapping) -> bool:
    return ("websocket" in environ.get("HTTP_UPGRADE", "").lower()
            and "upgrade" in environ.get("HTTP_CONNECTION", "").lower()
            and bool(environ.get("HTTP_SEC_WEBSOCKET_KEY")))


def _describe(error: Exception) -> str:
    """One line about why Moonraker's websocket could not be opened."""
    if isinstance(error, websocket.WebSocketBadStatusException):
        reason = f"Moonraker answered the websocket handshake with HTTP {error.status_code}"
        if error.status_code in (401, 403):
            reason += " (Moonraker judges the client's address: see trusted_clients in moonraker.conf)"
        return reason
    return " ".join(str(error).split()) or type(error).__name__


def _shown(text: str) -> str:
    """A client-chosen string made safe for one log line."""
    return text if _PLAIN_NAME.fullmatch(text) else json.dumps(text[:80])


def _held_back(held: int) -> str:
    return f" ({held} more held back since the last such line)" if held else ""


def _live_greenlets() -> int:
    return sum(1 for item in gc.get_objects() if isinstance(item, greenlet.greenlet) and not item.dead)


def _respond(start_response: Callable, status: str, body: str, content_type: str = "text/plain") -> Any:
    data = (body + "\n").encode()
    start_response(status, [("Content-Type", f"{content_type}; charset=utf-8"), ("Content-Length", str(len(data))),
                            ("Cache-Control", "no-store")])
    return [data]
