"""Every path the frame server answers, in one table, and the WSGI app that serves it.

One table of path and handler, as camera-streamer keeps them: the app is built from it, and the
tests hold nginx's template and the README to it. A route names a camera and what of it to serve;
the snapshot and the stream are bare WSGI apps (the hot paths), the rest is Flask's.
"""

import json
import time
from pathlib import Path
from typing import Dict, NamedTuple, Optional
from urllib.parse import parse_qs

import gevent
from flask import Flask, request

from appliance.cameras import SLOTS, SOURCES, variable
from appliance.textresponse import NO_CACHE, method_not_allowed, text, unavailable
from jpegframes.markers import is_synthetic

from .config import CameraConfig, Config
from .framestore import Frame, FrameStore, PerFrame, stamp
from .mjpegstream import StreamHandler
from .statusreport import RateMeter, allowed_networks, compose, read_version
from .statussources import StatusSources


class Route(NamedTuple):
    path: str  # PATH_INFO, exactly
    action: Optional[str]  # the ?action= it needs (MobileRaker's /webcam/?action=stream), or None
    camera: Optional[int]  # the camera it serves; None: the server's own
    kind: str  # "snapshot", "stream", "health" or "status"


def _camera_routes(number: int) -> tuple:
    """Camera N's paths: crowsnest's /webcamN/?action=..., and short ones."""
    base = f"/webcam{number}/"
    return (
        Route(base, "stream", number, "stream"),
        Route(base, "snapshot", number, "snapshot"),
        Route(base + "stream", None, number, "stream"),
        Route(base + "snapshot", None, number, "snapshot"),
        Route(base + "stream.mjpg", None, number, "stream"),
        Route(base + "snapshot.jpg", None, number, "snapshot"),
    )


ROUTES = (
    # Camera 1's paths from before there were several cameras, MobileRaker's defaults among them.
    Route("/snapshot.jpg", None, 1, "snapshot"),
    Route("/stream.mjpg", None, 1, "stream"),
    Route("/webcam/", "stream", 1, "stream"),
    Route("/webcam/", "snapshot", 1, "snapshot"),
    Route("/webcam/stream", None, 1, "stream"),
    Route("/webcam/snapshot", None, 1, "snapshot"),
    *(route for number in SLOTS for route in _camera_routes(number)),
    Route("/healthz", None, None, "health"),
    Route("/status.json", None, None, "status"),
)


class SnapshotHandler:
    """GET|HEAD of a camera's snapshot: the newest frame, or 503 while there is none fresh."""

    def __init__(self, store: FrameStore, max_age: float):
        self._store = store
        self._max_age = max_age
        self._headers = PerFrame(_snapshot_headers)

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method not in ("GET", "HEAD"):
            return method_not_allowed(environ, start_response)
        frame = self._store.latest
        if frame is None:
            return unavailable(environ, start_response, "no frame from the camera yet")
        age = self._store.age(frame)
        if age > self._max_age:
            return unavailable(environ, start_response,
                               f"the newest frame is {age:.1f} s old (stale after {self._max_age:g} s)")
        start_response("200 OK", list(self._headers(frame)))
        return [] if method == "HEAD" else [frame.data]


def _snapshot_headers(frame: Frame) -> tuple:
    return (
        ("Content-Type", "image/jpeg"),
        ("Content-Length", str(len(frame.data))),
        *NO_CACHE,
        ("X-Timestamp", stamp(frame.timestamp)),
    )




class Camera:
    """One camera as the routes see it: its frame store, its feed reader's state and its two handlers.

    `feed` reports connected, reconnects, restarts and frames_dropped (a FeedReader).
    """

    def __init__(self, setting: CameraConfig, store: FrameStore, feed, config: Config, log):
        self.number = setting.number
        self.name = setting.name
        self.store = store
        self.feed = feed
        self.snapshot = SnapshotHandler(store, config.snapshot_max_age)
        self.stream = StreamHandler(store, config, log)

    def health(self, max_age: float) -> tuple:
        """(what /healthz reports of this camera, True when it has a fresh frame)."""
        frame = self.store.latest
        age = self.store.age(frame) if frame is not None else None
        body = {
            "feed_connected": self.feed.connected,
            "frame_age_s": round(age, 3) if age is not None else None,
            "frames_total": self.store.frames_total,
            "frames_dropped": self.feed.frames_dropped,
            "reconnects": self.feed.reconnects,
            "reader_restarts": self.feed.restarts,
            "stream_clients": self.stream.clients,
            "source": None if frame is None else "synthetic" if is_synthetic(frame.data) else "camera",
        }
        return body, age is not None and age <= max_age


_EXACT = {route.path: route for route in ROUTES if route.action is None}
_BY_ACTION: Dict[str, Dict[str, Route]] = {}
for _route in ROUTES:
    if _route.action is not None:
        _BY_ACTION.setdefault(_route.path, {})[_route.action] = _route


def find(path: str, query: str) -> Optional[Route]:
    """The route a request for `path` with `query` takes, or None."""
    route = _EXACT.get(path)
    if route is None and path in _BY_ACTION:
        route = _BY_ACTION[path].get(parse_qs(query).get("action", [""])[-1])
    return route


class Router:
    """Sends each request to the handler its route names; any other to `fallback`."""

    def __init__(self, handlers: Dict[Route, object], fallback):
        self._handlers = handlers
        self._fallback = fallback

    def __call__(self, environ, start_response):
        # Let every other ready greenlet run first. A keep-alive client that sends its next request
        # as soon as it has the answer never makes its greenlet wait on the socket, so without this
        # it would be served again and again while other connections starve (snapshot p99 of 100+ ms).
        gevent.sleep(0)
        path = environ.get("PATH_INFO", "")
        app = self._handlers.get(find(path, environ.get("QUERY_STRING", "")))
        if app is None and path in _BY_ACTION:
            app = _no_such_action
        return (app or self._fallback)(environ, start_response)


def _no_such_action(environ, start_response):
    return text(environ, start_response, "404 Not Found", "not found: use ?action=stream or ?action=snapshot")


def _camera_off(number: int):
    line = (f"camera {number} is off: set {variable(number, 'source')} to {', '.join(SOURCES)} "
            "in .env, then run: docker compose up -d")

    def app(environ, start_response):
        return text(environ, start_response, "404 Not Found", line)
    return app


def health(cameras: Dict[int, Camera], max_age: float) -> tuple:
    """/healthz: camera 1's fields at the top (as before there were several cameras), and every
    enabled camera's in `cameras`; (the body, True when every enabled camera has a fresh frame)."""
    reports = []
    all_fresh = True
    for number in sorted(cameras):
        body, fresh = cameras[number].health(max_age)
        reports.append({"camera": number, "name": cameras[number].name, "fresh": fresh, **body})
        all_fresh = all_fresh and fresh
    first = dict(reports[0])
    for key in ("camera", "name", "fresh"):
        del first[key]
    return {**first, "cameras": reports}, all_fresh


def camera_paths(cameras: Dict[int, Camera]) -> Dict[int, tuple]:
    """camera -> (its stream's path, its snapshot's path): the first of its routes in the table with a file name."""
    paths = {}
    for number in cameras:
        mine = [route.path for route in ROUTES if route.camera == number and route.action is None]
        paths[number] = (next(p for p in mine if p.endswith(".mjpg")), next(p for p in mine if p.endswith(".jpg")))
    return paths


def create_app(config: Config, cameras: Dict[int, Camera]) -> Flask:
    """The WSGI app serving ROUTES for `cameras` (the enabled ones, by number)."""
    app = Flask("frameserver")

    def healthz():
        body, fresh = health(cameras, config.snapshot_max_age)
        response = app.response_class(json.dumps(body), status=200 if fresh else 503, mimetype="application/json")
        response.headers["Cache-Control"] = "no-store"
        return response

    meters = {number: RateMeter() for number in cameras}
    paths = camera_paths(cameras)
    sources = StatusSources(config.uploader_url.host, config.uploader_url.port, config.gate_socket)
    version = read_version(Path(__file__))

    def status_json():
        uploader, gate = sources.read()
        body = compose(cameras=cameras, meters=meters, paths=paths, uploader=uploader, gate=gate,
                       networks=allowed_networks(request.headers.get("X-Door-Allowed-Networks")), version=version,
                       max_age=config.snapshot_max_age, wall_now=time.time(), now=time.monotonic())
        response = app.response_class(json.dumps(body), mimetype="application/json")
        response.headers["Cache-Control"] = "no-store"
        return response

    handlers = {}
    for route in ROUTES:
        if route.kind == "health":
            app.add_url_rule(route.path, "healthz", healthz)
        elif route.kind == "status":
            app.add_url_rule(route.path, "status", status_json)
        elif route.camera in cameras:
            handlers[route] = getattr(cameras[route.camera], route.kind)
        else:
            handlers[route] = _camera_off(route.camera)
    app.wsgi_app = Router(handlers, app.wsgi_app)
    return app
