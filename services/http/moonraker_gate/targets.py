"""Which HTTP request targets the gate relays to Moonraker, and in what form: pure decisions.

Moonraker's Tornado takes the path up to "?" as it came (a "#" stays in it) and its file
handlers decode and resolve it again, so any difference between what was checked and what
Moonraker resolves is a way around the allowlist. The gate therefore refuses, with 400, every raw
target whose path is not already in its one canonical form: "#" anywhere, a backslash, "..",
"//", a "." segment, or a percent-encoding. The one exception is a file under GCODES (thumbnails
of files whose names have spaces or accents): there a percent-encoding passes when it encodes
anything but a dot, a slash, a backslash, "%", "#", "?" or a control character. The path it
checked is then sent in its canonical encoding, so Moonraker decodes exactly what was checked.
"""

import re
from typing import NamedTuple, Optional
from urllib.parse import quote, unquote

from .allowlist import ALLOWED_PATHS, DENIED_PATHS, DENIED_PREFIXES, GCODES

WEBSOCKET = "/websocket"
_UNPRINTABLE = re.compile(r"[^\x21-\x7e]")
_ENCODED = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ENCODED = re.compile(r"%(?:2[eEfF3]|5[cC]|25|3[fF]|[01][0-9A-Fa-f]|7[fF])")
_SAFE = "/-_.~"  # left as they are by the canonical encoding


class Target(NamedTuple):
    status: int  # 200: relay `upstream`; else the gate's answer
    upstream: str = ""  # path and query to send to Moonraker
    line: str = ""  # the one line of a refusal


def check(raw: str) -> Target:
    """The decision about one raw request target (the path and query exactly as received)."""
    path, _, query = raw.partition("?")
    refused = _unsafe(path, raw)
    if refused is not None:
        return Target(400, line=f"bad path: {refused}")
    decoded = unquote(path, errors="strict")
    if path == decoded and path in ALLOWED_PATHS:
        return Target(200, upstream=raw)
    if decoded.startswith(GCODES) and len(decoded) > len(GCODES):
        return Target(200, upstream=quote(decoded, safe=_SAFE) + (f"?{query}" if query else ""))
    if decoded in DENIED_PATHS or any(decoded == p or decoded.startswith(p + "/") for p in DENIED_PREFIXES):
        return Target(403, line="read-only bridge: this Moonraker path is not exposed")
    return Target(404, line="not found")


def is_websocket(raw: str) -> bool:
    """The websocket's own path exactly, with or without a query (Moonraker's oneshot token)."""
    path, _, query = raw.partition("?")
    return path == WEBSOCKET and "#" not in query


def _unsafe(path: str, raw: str) -> Optional[str]:
    """Why `path` (of the target `raw`) is not in canonical form, or None."""
    if "#" in raw:
        return '"#" in the target'
    if _UNPRINTABLE.search(raw):
        return "a character that must be percent-encoded"
    if not path.startswith("/"):
        return "not an absolute path"
    if "\\" in path:
        return "a backslash"
    if ".." in path:
        return '".." in the path'
    if "//" in path:
        return '"//" in the path'
    if "/./" in path or path.endswith("/."):
        return 'a "." segment'
    if "%" in path:
        if not path.startswith(GCODES) or _BAD_ENCODED.search(path) or "%" in _ENCODED.sub("", path):
            return "a percent-encoding"
        try:
            unquote(path, errors="strict")
        except UnicodeDecodeError:
            return "a percent-encoding that is not UTF-8"
    return None
