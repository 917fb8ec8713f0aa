"""GET|HEAD /snapshot.jpg as a bare WSGI app: the newest frame, or 503 while there is none fresh."""

from .responses import GET_OR_HEAD, NO_CACHE, method_not_allowed, stamp, unavailable
from .store import Frame, FrameStore, PerFrame


def _headers(frame: Frame) -> tuple:
    return (
        ("Content-Type", "image/jpeg"),
        ("Content-Length", str(len(frame.data))),
        *NO_CACHE,
        ("X-Timestamp", stamp(frame.timestamp)),
    )


class SnapshotHandler:
    def __init__(self, store: FrameStore, max_age: float):
        self._store = store
        self._max_age = max_age
        self._headers = PerFrame(_headers)

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method not in GET_OR_HEAD:
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
