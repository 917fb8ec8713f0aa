"""Runs the app under gunicorn: one gevent worker, which owns every feed connection."""

import logging

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from appliance import log as applog

from .config import Config


class _Logger(glogging.Logger):
    """gunicorn's own lines go through the root logger, so they reach stdout in the service's format."""

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.handlers[:] = []
        self.error_log.propagate = True


class FrameServer(BaseApplication):
    def __init__(self, config: Config):
        self.config = config
        self._feeds = []
        super().__init__()

    def load_config(self):
        settings = {
            "bind": [f"0.0.0.0:{self.config.http_port}"] + ([f"unix:{self.config.http_socket}"]
                                                            if self.config.http_socket else []),
            "workers": 1,  # the one worker holds the one connection to each feed
            "worker_class": "gevent",
            "worker_connections": self.config.worker_connections,
            "accesslog": None,
            "logger_class": _Logger,
            "graceful_timeout": 1,  # SIGTERM: open streams get a second, then the worker is stopped
            "preload_app": True,  # the code is loaded once, in the master; the worker shares its pages
            "post_worker_init": self._start_feeds,
        }
        for name, value in settings.items():
            self.cfg.set(name, value)

    def load(self):
        """Runs in the master, before the worker is forked (preload_app), so that the two share the
        pages of everything loaded here; the feed readers start in the worker only (_start_feeds)."""
        from jpegframes.splitter import FrameSplitter

        from .feedreader import FeedReader
        from .framestore import FrameStore
        from .routes import Camera, create_app

        config = self.config
        log = logging.getLogger("frameserver")
        cameras = {}
        for setting in config.cameras:
            camera_log = applog.Prefixed(log, f"camera {setting.number}: ")
            store = FrameStore()
            feed = FeedReader(config.feed_host, setting.feed_port, config.feed_timeout, store,
                              FrameSplitter(config.max_frame_bytes), camera_log)
            self._feeds.append(feed)
            cameras[setting.number] = Camera(setting, store, feed, config, camera_log)
        return create_app(config, cameras)

    def _start_feeds(self, worker) -> None:
        """gunicorn's post_worker_init hook: in the worker, once gevent has patched it."""
        for feed in self._feeds:
            feed.start()
