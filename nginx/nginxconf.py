"""Render nginx.conf from the environment, refusing a bad setting, then run nginx.

ALLOWED_CIDRS (space or comma separated) become both `allow` lines and the geo map that
rejects everyone else before anything else happens. nginx names no host at all: the frame
server and the gate are unix sockets in shared volumes.
"""

import ipaddress
import logging
import os
from pathlib import Path
from typing import Mapping, NamedTuple, Tuple

from appliance import log as applog
from appliance.envparse import ConfigError, Env, load_or_exit

DEFAULT_CIDRS = "127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 ::1/128 fc00::/7 fe80::/10"
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
STATUS_PAGE = Path(__file__).with_name("status.html")
RENDERED = Path("/tmp/nginx.conf")


class Config(NamedTuple):
    allowed_cidrs: Tuple[str, ...]
    stream_max_per_client: int
    access_log: bool


def parse_cidrs(name: str, text: str) -> Tuple[str, ...]:
    entries = [e for e in text.replace(",", " ").split() if e]
    if not entries:
        raise ConfigError(f"{name} is empty: expected CIDR ranges such as 192.168.0.0/16")
    networks = []
    for entry in entries:
        try:
            networks.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ConfigError(f"{name} entry {entry!r} is invalid: expected an address or CIDR "
                              "range such as 192.168.1.0/24 or fd00::/8") from None
    return tuple(networks)


def load(environ: Mapping[str, str]) -> Config:
    env = Env(environ)
    return Config(
        allowed_cidrs=parse_cidrs("ALLOWED_CIDRS", env.str("ALLOWED_CIDRS", DEFAULT_CIDRS)),
        stream_max_per_client=env.int("STREAM_MAX_PER_CLIENT", 5, minimum=1, maximum=1000),
        access_log=env.choice("NGINX_ACCESS_LOG", "off", ("off", "on")) == "on",
    )


def render(config: Config, template: str) -> str:
    """The nginx.conf text."""
    values = {
        "@GEO_LINES@": "\n".join(f"        {c} 1;" for c in config.allowed_cidrs),
        "@ALLOW_LINES@": "\n".join(f"        allow {c};" for c in config.allowed_cidrs),
        "@STREAM_MAX_PER_CLIENT@": str(config.stream_max_per_client),
        "@ACCESS_LOG@": "/dev/stdout" if config.access_log else "off",
        "@ALLOWED_NETWORKS@": " ".join(config.allowed_cidrs),
        "@STATUS_PAGE_DIR@": str(STATUS_PAGE.parent),
    }
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template


def main() -> None:
    log = applog.setup("nginx")
    config = load_or_exit("nginx", load, os.environ)
    RENDERED.write_text(render(config, TEMPLATE.read_text()))
    log.info("listening on 7126 for %s; %d streams per client; access log %s",
             " ".join(config.allowed_cidrs), config.stream_max_per_client, "on" if config.access_log else "off")
    logging.shutdown()
    os.execvp("nginx", ["nginx", "-e", "stderr", "-c", str(RENDERED), "-g", "daemon off;"])


if __name__ == "__main__":
    main()
