"""What /status.json says: every camera of the frame server, the uploader's state and the door's, in one document.

Pure: it is handed readings (frames, the JSON the other services answered, or why they did not) and
returns the document as a dict; fetching is statussources' job. Only the fields the README's "Status
page" section documents leave here, each checked for its type and length: a token, a password or a
whole fingerprint that another service sent by mistake cannot pass through.
"""

import ipaddress
from pathlib import Path
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

from jpegframes.markers import dimensions

from .framestore import Frame

OK, WARNING, FAILING, OFF, UNKNOWN = "ok", "warning", "failing", "off", "unknown"
HINT = 4  # a token or fingerprint shows only this many of its last characters
TEXT_LIMIT = 600  # a cause with its fix fits; anything longer is cut
NETWORKS_LIMIT = 64


class RateMeter:
    """A camera's measured frame rate: frames that arrived between two readings at least `window` s apart."""

    def __init__(self, window: float = 1.0):
        self.window = window
        self._mark: Optional[Frame] = None
        self._rate: Optional[float] = None

    def rate(self, frame: Optional[Frame], now: float) -> Optional[float]:
        """Frames per second up to `now` (time.monotonic()), None until two readings exist."""
        if frame is None or self._mark is None or frame.seq < self._mark.seq:
            self._mark, self._rate = frame, None
            return None
        elapsed = now - self._mark.arrived
        if elapsed >= self.window:
            self._rate = (frame.seq - self._mark.seq) / elapsed
            self._mark = frame
        return self._rate


class Fetched(NamedTuple):
    """What one source answered: its JSON document, or None and the reason it could not be read."""
    document: Optional[Mapping]
    reason: Optional[str] = None


def read_version(start: Path) -> Optional[str]:
    """The first line of the nearest VERSION file in `start`'s folder or above it (the image has /app/VERSION)."""
    for folder in start.resolve().parents:
        path = folder / "VERSION"
        if path.is_file():
            line = path.read_text(errors="replace").strip().splitlines()
            return line[0][:40] if line else None
    return None


def allowed_networks(header: Optional[str]) -> Tuple[Optional[List[str]], Optional[str]]:
    """The door's allowlist as nginx sends it with each /status.json request, or None and why not."""
    if header is None:
        return None, "known only through the door on port 7126 (nginx sends it)"
    networks = []
    for entry in header.split()[:NETWORKS_LIMIT]:
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            return None, "the door sent an allowlist that is not a list of networks"
    return networks, None


def compose(*, cameras: Mapping[int, Any], meters: Mapping[int, RateMeter], paths: Mapping[int, Tuple[str, str]],
            uploader: Fetched, gate: Fetched, networks: Tuple, version: Optional[str], max_age: float,
            wall_now: float, now: float) -> Dict[str, Any]:
    """The whole document.

    `cameras` are routes.Camera objects by number, `meters` their rate meters, `paths` their stream
    and snapshot paths; `wall_now` is time.time() and `now` time.monotonic(), both taken once.
    """
    unknown: Dict[str, str] = {}
    state = uploader.document if isinstance(uploader.document, Mapping) else None
    if state is None:
        unknown["uploader"] = uploader.reason or "the uploader sent no state"
    uploads = _uploads_by_camera(state)
    parts = [_camera(number, cameras[number], meters[number], paths[number], uploads.get(number), state is not None,
                     max_age, now) for number in sorted(cameras)]
    printer = _printer(state)
    if printer is None and state is not None:
        unknown["printer"] = "the uploader does not report the printer's state"
    allowed, allowed_reason = networks
    if allowed is None:
        unknown["allowed_networks"] = allowed_reason
    gate_part = _gate(gate.document) if isinstance(gate.document, Mapping) else None
    if gate_part is None:
        unknown["gate"] = gate.reason or "the gate sent no status"
    door = {"status": UNKNOWN if gate_part is None else gate_part.pop("status"),
            "allowed_networks": allowed, "gate": gate_part}
    statuses = [p["status"] for p in parts] + [p["connect"]["status"] for p in parts if p["connect"]]
    statuses.append(door["status"])
    if state is None:
        statuses.append(UNKNOWN)
    return {
        "version": version,
        "generated_at": round(wall_now, 3),
        "status": _overall(statuses),
        "cameras": parts,
        "printer": printer,
        "door": door,
        "unknown": unknown,
    }


def _overall(statuses: List[str]) -> str:
    if FAILING in statuses:
        return FAILING
    if WARNING in statuses or UNKNOWN in statuses:
        return WARNING
    return OK


def _camera(number: int, camera, meter: RateMeter, paths: Tuple[str, str], upload: Optional[Mapping],
            have_state: bool, max_age: float, now: float) -> Dict[str, Any]:
    health, fresh = camera.health(max_age)
    frame = camera.store.latest
    size = dimensions(frame.data) if frame is not None else None
    fps = meter.rate(frame, now)
    return {
        "camera": number,
        "name": camera.name,
        "status": OK if fresh else WARNING if health["feed_connected"] else FAILING,
        "stream": paths[0],
        "snapshot": paths[1],
        "feed_connected": health["feed_connected"],
        "source": health["source"],
        "width": size[0] if size else None,
        "height": size[1] if size else None,
        "fps": round(fps, 2) if fps is not None else None,
        "frame_age_s": health["frame_age_s"],
        "frames_total": health["frames_total"],
        "frames_dropped": health["frames_dropped"],
        "reconnects": health["reconnects"],
        "reader_restarts": health["reader_restarts"],
        "stream_clients": health["stream_clients"],
        "connect": _connect(upload) if have_state else None,
    }


def _uploads_by_camera(state: Optional[Mapping]) -> Dict[int, Mapping]:
    entries = state.get("cameras") if state is not None else None
    if not isinstance(entries, list):
        return {}
    return {entry["camera"]: entry for entry in entries
            if isinstance(entry, Mapping) and _is_int(entry.get("camera"))}


def _connect(upload: Optional[Mapping]) -> Dict[str, Any]:
    """One camera's Prusa Connect uploads; a camera the uploader does not list is off."""
    if upload is None or upload.get("enabled") is not True:
        return {"status": OFF, "enabled": False, "token": None, "fingerprint": None, "interval": None,
                "last_accepted_at": None, "cause": None, "next_try_at": None,
                "why": _text(upload, "why", 200) if upload is not None else None}
    cause = _text(upload, "cause", TEXT_LIMIT)
    accepted = _number(upload, "last_accepted_at")
    return {
        "status": FAILING if cause else OK if accepted is not None else WARNING,
        "enabled": True,
        "token": _hint(upload.get("token")),
        "fingerprint": _hint(upload.get("fingerprint")),
        "interval": _number(upload, "interval"),
        "last_accepted_at": accepted,
        "cause": cause,
        "next_try_at": _number(upload, "next_try_at"),
        "why": _text(upload, "why", 200),
    }


def _printer(state: Optional[Mapping]) -> Optional[Dict[str, Any]]:
    printer = state.get("printer") if state is not None else None
    if not isinstance(printer, Mapping):
        return None
    return {
        "upload_when": _text(printer, "upload_when", 40),
        "source": _text(printer, "source", 40),
        "state": _text(printer, "state", 40),
        "detail": _text(printer, "detail", 200),
        "cause": _text(printer, "cause", TEXT_LIMIT),
        "since": _number(printer, "since"),
    }


def _gate(status: Mapping) -> Dict[str, Any]:
    reachable = status.get("moonraker_reachable")
    reachable = reachable if isinstance(reachable, bool) else None
    beside = _text(status, "open_beside_the_door", TEXT_LIMIT)
    denied = status.get("denied_calls")
    denied = {str(method)[:80]: count for method, count in denied.items() if _is_int(count)} \
        if isinstance(denied, Mapping) else {}
    return {
        "status": FAILING if beside else OK if reachable else WARNING,
        "moonraker_url": _text(status, "moonraker_url", 200),
        "moonraker_reachable": reachable,
        "moonraker": _text(status, "moonraker", TEXT_LIMIT),
        "sessions_open": _int(status, "sessions_open"),
        "sessions_max": _int(status, "sessions_max"),
        "denied_calls": dict(sorted(denied.items())[:64]),
        "open_beside_the_door": beside,
    }


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(document: Mapping, key: str) -> Optional[int]:
    value = document.get(key)
    return value if _is_int(value) else None


def _number(document: Mapping, key: str) -> Optional[float]:
    value = document.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(document: Mapping, key: str, limit: int) -> Optional[str]:
    value = document.get(key)
    return " ".join(value.split())[:limit] or None if isinstance(value, str) else None


def _hint(value) -> Optional[str]:
    """The last 4 characters of a token or fingerprint, whatever form (whole, or "…abcd") it came in."""
    if not isinstance(value, str):
        return None
    value = value.strip().lstrip("…").lstrip(".")
    return value[-HINT:] if len(value) >= HINT else None
