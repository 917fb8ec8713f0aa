"""The uploader's settings, read and checked once at start-up."""

import re
from dataclasses import dataclass, field
from typing import Mapping, Tuple

from appliance.envparse import ConfigError, Env

# Prusa Connect takes at most one image per 10 s; faster uploads are dropped or shown blank.
MIN_INTERVAL = 10.0
FINGERPRINT_PATTERN = r"[A-Za-z0-9._-]{16,128}"
FINGERPRINT_FORM = "16 to 128 characters from A-Z a-z 0-9 . _ -"
_HOST = r"https?://[^\s/?#@]+"
_CONNECT_URL = _HOST + r"(/[^\s?#]*)?"
_CONNECT_FORM = "an http:// or https:// address without credentials, query or fragment"
_SNAPSHOT_URL = _HOST + r"([/?][^\s#]*)?"
_SNAPSHOT_FORM = "an http:// or https:// address without credentials or fragment"


@dataclass(frozen=True)
class Config:
    snapshot_url: str
    connect_url: str
    token: str = field(repr=False)
    fingerprint: str  # empty: use the one stored in state_dir, generated on first start
    interval: float
    camera_name: str
    state_dir: str
    health_file: str
    warnings: Tuple[str, ...] = ()

    @property
    def uploads_enabled(self) -> bool:
        return bool(self.token)

    @property
    def token_hint(self) -> str:
        """How the token appears in logs: only its last 4 characters."""
        if not self.token:
            return "(none)"
        return "…" + self.token[-4:] if len(self.token) >= 12 else "…"


def load(environ: Mapping[str, str]) -> Config:
    env = Env(environ)
    warnings = []
    interval = env.float("UPLOAD_INTERVAL", MIN_INTERVAL, minimum=0, maximum=86400)
    if interval < MIN_INTERVAL:
        warnings.append(f"UPLOAD_INTERVAL={interval:g} is under Prusa Connect's limit of one image "
                        f"per {MIN_INTERVAL:g} s: using {MIN_INTERVAL:g}")
        interval = MIN_INTERVAL
    token = env.secret("PRUSA_CONNECT_TOKEN")
    if token and not re.fullmatch(r"[!-~]+", token):
        raise ConfigError("PRUSA_CONNECT_TOKEN is invalid: expected the token Prusa Connect shows for the "
                          "camera (printable characters, no spaces)")
    return Config(
        snapshot_url=env.str("SNAPSHOT_URL", "http://http:8081/snapshot.jpg",
                             pattern=_SNAPSHOT_URL, form=_SNAPSHOT_FORM),
        connect_url=env.str("PRUSA_CONNECT_URL", "https://connect.prusa3d.com",
                            pattern=_CONNECT_URL, form=_CONNECT_FORM).rstrip("/"),
        token=token,
        fingerprint=env.str("PRUSA_CONNECT_FINGERPRINT", "", pattern=FINGERPRINT_PATTERN, form=FINGERPRINT_FORM),
        interval=interval,
        camera_name=env.str("CAMERA_NAME", "Printer camera", pattern=r"[^\x00-\x1f\x7f]{1,64}",
                            form="1 to 64 printable characters"),
        state_dir=env.str("STATE_DIR", "/var/lib/uploader", pattern=r"/\S*", form="an absolute path"),
        health_file=env.str("HEALTH_FILE", "/tmp/uploader-health", pattern=r"/\S*[^/]", form="an absolute file path"),
        warnings=tuple(warnings),
    )
