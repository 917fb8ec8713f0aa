"""Which browser origins may use the door's Moonraker side: pure decisions, no sockets.

A web page on any site can open a websocket to any address and read the answers; only the
`Origin` header its browser adds tells the door who is asking. So a request that carries one is
accepted only from the door's own origin (the scheme and Host the request came to, as a page
served by the door would send) or an origin listed in ALLOWED_ORIGINS. A request without
`Origin` comes from a native app (MobileRaker) or a script, not a browser page, and is accepted.
"""

from typing import Iterable, Optional, Tuple
from urllib.parse import urlsplit

from appliance.envparse import ConfigError, Env

REFUSED = "origin {origin} may not use Moonraker through the door: add it to ALLOWED_ORIGINS"


def parse_allowed(name: str, text: str) -> Tuple[str, ...]:
    """ALLOWED_ORIGINS: space or comma separated http(s)://host[:port], each in its normal form."""
    origins = []
    for entry in text.replace(",", " ").split():
        try:
            url = Env({name: entry}).http_url(name, "")
        except ConfigError:
            raise ConfigError(f"{name} entry {entry!r} is invalid: expected http://host[:port] or "
                              "https://host[:port], as a browser's address bar shows it") from None
        origins.append(f"{url.scheme}://{url.netloc}")
    return tuple(dict.fromkeys(origins))


def normal(origin: str) -> Optional[str]:
    """scheme://host:port with the port always written and the host in lower case; None when
    `origin` is not an http(s) origin (such as "null", sent by sandboxed pages)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query \
            or parts.fragment or parts.username is not None:
        return None
    port = port or (443 if parts.scheme == "https" else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}"


def accepted(origin: Optional[str], scheme: str, host: Optional[str], allowed: Iterable[str]) -> bool:
    """Whether a request with this Origin header (None: none), made to scheme://host, may pass."""
    if origin is None:
        return True
    claimed = normal(origin)
    if claimed is None:
        return False
    own = normal(f"{scheme}://{host}") if host else None
    return claimed == own or claimed in allowed
