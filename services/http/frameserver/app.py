"""The WSGI app: Flask for /healthz and the error pages, bare WSGI for the two hot paths."""

import logging

import gevent
from flask import Flask, jsonify

from .config import Config
from .health import report
from .nosignal import NO_SIGNAL_JPEG
from .snapshot import SnapshotHandler
from .store import FrameStore
from .stream import StreamHandler


class ExactPaths:
    """Sends a request whose path is exactly one of `routes` to that app, any other to `fallback`."""

    def __init__(self, routes: dict, fallback):
        self._routes = routes
        self._fallback = fallback

    def __call__(self, environ, start_response):
        # Let every other ready greenlet run first. A keep-alive client that sends its next request
        # as soon as it has the answer never makes its greenlet wait on the socket, so without this
        # it would be served again and again while other connections starve (snapshot p99 of 100+ ms).
        gevent.sleep(0)
        app = self._routes.get(environ.get("PATH_INFO"), self._fallback)
        return app(environ, start_response)


def create_app(config: Config, store: FrameStore, feed) -> Flask:
    """`feed` reports connected, reconnects and frames_dropped (a FeedReader)."""
    log = logging.getLogger("frameserver")
    app = Flask("frameserver")
    stream = StreamHandler(store, config, NO_SIGNAL_JPEG, log)

    @app.get("/healthz")
    def healthz():
        body, fresh = report(store, feed, stream.clients, config.snapshot_max_age)
        response = jsonify(body)
        response.status_code = 200 if fresh else 503
        response.headers["Cache-Control"] = "no-store"
        return response

    app.wsgi_app = ExactPaths({
        "/snapshot.jpg": SnapshotHandler(store, config.snapshot_max_age),
        "/stream.mjpg": stream,
    }, app.wsgi_app)
    return app
