"""What /healthz reports."""

from jpegframes.markers import is_synthetic

from .store import FrameStore


def report(store: FrameStore, feed, stream_clients: int, max_age: float) -> tuple:
    """(the JSON body as a dict, True when a fresh frame exists)."""
    frame = store.latest
    age = store.age(frame) if frame is not None else None
    body = {
        "feed_connected": feed.connected,
        "frame_age_s": round(age, 3) if age is not None else None,
        "frames_total": store.frames_total,
        "frames_dropped": feed.frames_dropped,
        "reconnects": feed.reconnects,
        "stream_clients": stream_clients,
        "source": None if frame is None else "synthetic" if is_synthetic(frame.data) else "camera",
    }
    return body, age is not None and age <= max_age
