"""HTTP digest authentication (RFC 7616) as PrusaLink asks for it: MD5, with qop="auth" or without
qop (RFC 2069), no network of its own.

A 401's WWW-Authenticate challenge is remembered; every later request answers it at once, counting
nc up, until the printer sends a new nonce.
"""

import hashlib
import os
import re
import threading
from typing import Callable, Optional

_FIELD = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


def challenge_fields(header: str) -> Optional[dict]:
    """The fields of a `Digest ...` challenge, names in lower case; None when it is not one."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    fields = {}
    for match in _FIELD.finditer(rest):
        name, quoted, token = match.groups()
        fields[name.lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else token
    return fields if "nonce" in fields and "realm" in fields else None


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class DigestAuth:
    def __init__(self, user: str, password: str, cnonce: Callable[[], str] = lambda: os.urandom(8).hex()):
        self._user = user
        self._cnonce = cnonce
        self._password = password
        self._lock = threading.Lock()
        self._challenge: Optional[dict] = None
        self._count = 0

    def challenged(self, header: Optional[str]) -> bool:
        """Take a 401's WWW-Authenticate; True when it is a digest challenge this client can answer."""
        fields = challenge_fields(header or "")
        if fields is None or fields.get("algorithm", "MD5").upper() != "MD5":
            return False
        qops = [qop.strip() for qop in fields.get("qop", "").split(",") if qop.strip()]
        if qops and "auth" not in qops:
            return False
        with self._lock:
            if self._challenge is None or self._challenge["nonce"] != fields["nonce"]:
                self._count = 0
            self._challenge = dict(fields, qop="auth" if qops else "")
        return True

    def header(self, method: str, uri: str) -> Optional[str]:
        """The Authorization header answering the last challenge; None before the first."""
        with self._lock:
            if self._challenge is None:
                return None
            challenge = self._challenge
            self._count += 1
            nc = f"{self._count:08x}"
        realm, nonce, qop = challenge["realm"], challenge["nonce"], challenge["qop"]
        ha1 = _md5(f"{self._user}:{realm}:{self._password}")
        ha2 = _md5(f"{method}:{uri}")
        fields = [("username", self._user), ("realm", realm), ("nonce", nonce), ("uri", uri)]
        if qop:
            cnonce = self._cnonce()
            response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
            fields += [("response", response), ("algorithm", "MD5"), ("qop", None), ("nc", None),
                       ("cnonce", cnonce)]
        else:
            fields += [("response", _md5(f"{ha1}:{nonce}:{ha2}")), ("algorithm", "MD5")]
        if "opaque" in challenge:
            fields.append(("opaque", challenge["opaque"]))
        unquoted = {"qop": qop, "nc": nc}
        return "Digest " + ", ".join(f"{name}={unquoted[name]}" if value is None else f'{name}="{_quote(value)}"'
                                     for name, value in fields)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
