"""Typed, validated reads of environment variables, each failure one line that names the variable.

Each service's config module reads its whole environment through one `Env` at start-up and
builds a frozen record from it; nothing else in a service touches os.environ.
"""

import ipaddress
import re
from typing import Callable, Iterable, Mapping, NamedTuple, Optional, TypeVar
from urllib.parse import urlsplit

# Exit status of a service that refuses to start on a bad setting (EX_CONFIG from sysexits.h).
# The container entrypoint recognises it and holds the container instead of restart-looping.
EXIT_CONFIG = 78


class ConfigError(Exception):
    """A setting is invalid; str(error) is the one line to print."""


Settings = TypeVar("Settings")


def repr_without(record: NamedTuple, hidden: Iterable[str]) -> str:
    """The NamedTuple `record`'s repr without the fields named in `hidden`: its secrets, which a
    repr or str of it (in a log line or a traceback) must not show."""
    shown = ", ".join(f"{name}={getattr(record, name)!r}" for name in record._fields if name not in hidden)
    return f"{type(record).__name__}({shown})"


def load_or_exit(service: str, load: Callable[[Mapping[str, str]], Settings], environ: Mapping[str, str]) -> Settings:
    """`load(environ)`; on a bad setting, print its one line after the service's name and exit EXIT_CONFIG."""
    try:
        return load(environ)
    except ConfigError as error:
        print(f"{service}: {error}", flush=True)
        raise SystemExit(EXIT_CONFIG) from None


class HttpUrl(NamedTuple):
    scheme: str  # http or https
    host: str
    port: int  # explicit, or the scheme's default
    path: str = ""  # "" or from "/", when the caller allows a path
    query: str = ""  # without the "?", when the caller allows a query

    @property
    def netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The whole URL, its port always explicit."""
        return f"{self.scheme}://{self.netloc}{self.path}" + (f"?{self.query}" if self.query else "")


HOST_FORM = "a host name or IP address, without a port"
# RFC 1123 names: dot-separated labels of letters, digits and "-", no label starting or ending with "-".
_HOST_NAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")


def is_host(text: str) -> bool:
    """A host name, an IPv4 address or an IPv6 address (bare, no brackets, no port)."""
    if _HOST_NAME.fullmatch(text):
        return True
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class Env:
    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ

    def _raw(self, name: str) -> Optional[str]:
        value = self._environ.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def str(self, name: str, default: str, *, pattern: Optional[str] = None, form: str = "") -> str:
        value = self._raw(name)
        if value is None:
            return default
        if pattern is not None and not re.fullmatch(pattern, value):
            raise ConfigError(f"{name}={value!r} is invalid: expected {form or pattern}")
        return value

    def host(self, name: str, default: str) -> str:
        """A host name or IP address to connect to, e.g. a compose service name."""
        value = self._raw(name)
        if value is None:
            return default
        if not is_host(value):
            raise ConfigError(f"{name}={value!r} is invalid: expected {HOST_FORM}")
        return value

    def http_url(self, name: str, default: str, *, path: bool = False, query: bool = False) -> HttpUrl:
        """An http:// or https:// URL naming a host and optionally a port; a path and a query only
        where allowed; never credentials or a fragment."""
        value = self._raw(name) or default
        form = "http://host[:port]" + ("[/path]" if path else "") + ("[?query]" if query else "")
        invalid = ConfigError(f"{name}={value!r} is invalid: expected {form} or {form.replace('http', 'https', 1)}")
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            raise invalid from None
        if (parts.scheme not in ("http", "https") or parts.hostname is None or not is_host(parts.hostname)
                or parts.username is not None or parts.fragment or "#" in value or parts.netloc.endswith(":")
                or re.search(r"\s", value) or (not path and parts.path not in ("", "/"))
                or (not query and (parts.query or value.endswith("?")))):
            raise invalid
        return HttpUrl(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80),
                       parts.path if path else "", parts.query if query else "")

    def secret(self, name: str) -> str:
        """A secret: returned as is, never echoed in an error."""
        return self._raw(name) or ""

    def _number(self, name, default, kind, kind_name, minimum, maximum):
        value = self._raw(name)
        if value is None:
            return default
        form = _range_form(kind_name, minimum, maximum)
        try:
            number = kind(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r} is invalid: expected {form}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ConfigError(f"{name}={value!r} is invalid: expected {form}")
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise ConfigError(f"{name}={value!r} is out of range: expected {form}")
        return number

    def int(self, name: str, default: int, *, minimum: Optional[int] = None, maximum: Optional[int] = None) -> int:
        return self._number(name, default, int, "a whole number", minimum, maximum)

    def float(self, name: str, default: float, *, minimum: Optional[float] = None,
              maximum: Optional[float] = None) -> float:
        return self._number(name, default, float, "a number", minimum, maximum)

    def port(self, name: str, default: int) -> int:
        return self.int(name, default, minimum=1, maximum=65535)

    def choice(self, name: str, default: str, choices: Iterable[str]) -> str:
        choices = tuple(choices)
        value = self._raw(name)
        if value is None:
            return default
        if value not in choices:
            raise ConfigError(f"{name}={value!r} is invalid: expected one of {', '.join(choices)}")
        return value


def _range_form(kind_name: str, minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind_name} from {minimum} to {maximum}"
    if minimum is not None:
        return f"{kind_name} of at least {minimum}"
    if maximum is not None:
        return f"{kind_name} of at most {maximum}"
    return kind_name
