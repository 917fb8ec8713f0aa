"""Is the door the only door? At start and every CHECK_INTERVAL, the gate (in the host's network
namespace) asks Moonraker's port on each of the host's own addresses but loopback: if Moonraker
answers there, anyone on the LAN can reach it with full write access, around the door."""

import ipaddress
import logging
import time
from typing import Callable, List, Optional

from gevent.socket import create_connection

CHECK_INTERVAL = 300.0  # seconds between two checks: a periodic check by nature
PROBE_TIMEOUT = 1.0  # seconds: the host's own addresses answer at once
FIX = "set host: 127.0.0.1 in the [server] section of moonraker.conf, then restart Moonraker"


def ipv4_addresses(fib_trie: str) -> List[str]:
    """The host's own IPv4 addresses from /proc/net/fib_trie (an address line, then "/32 host LOCAL")."""
    found, previous = [], ""
    for line in fib_trie.splitlines():
        line = line.strip()
        if line == "/32 host LOCAL" and previous.startswith("|-- "):
            found.append(previous[4:])
        previous = line
    return list(dict.fromkeys(found))


def ipv6_addresses(if_inet6: str) -> List[str]:
    """The host's global IPv6 addresses from /proc/net/if_inet6 (link-local ones need a scope, and
    a Moonraker bound to all addresses answers on the others anyway)."""
    found = []
    for line in if_inet6.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3] == "00" and len(fields[0]) == 32:
            found.append(str(ipaddress.IPv6Address(int(fields[0], 16))))
    return found


def beyond_loopback(addresses: List[str]) -> List[str]:
    return [a for a in addresses if not ipaddress.ip_address(a).is_loopback]


def host_addresses() -> List[str]:
    texts = []
    for path in ("/proc/net/fib_trie", "/proc/net/if_inet6"):
        try:
            with open(path) as file:
                texts.append(file.read())
        except OSError:
            texts.append("")
    return beyond_loopback(ipv4_addresses(texts[0]) + ipv6_addresses(texts[1]))


def answers_http(address: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether an HTTP server (Moonraker, on its port) answers GET /server/info at this address."""
    try:
        with create_connection((address, port), timeout=timeout) as sock:
            sock.sendall(b"GET /server/info HTTP/1.0\r\nHost: selfcheck\r\n\r\n")
            return sock.recv(5) == b"HTTP/"
    except OSError:
        return False


class SelfCheck:
    """The latest verdict, for /gate/status; one log line when it changes."""

    def __init__(self, port: Optional[int], log: logging.Logger, addresses: Callable[[], List[str]] = host_addresses,
                 probe: Callable[[str, int], bool] = answers_http, clock: Callable[[], float] = time.time):
        self.port = port  # Moonraker's port when MOONRAKER_URL is on loopback, else None: nothing to check
        self.open_on: List[str] = []  # addresses beyond loopback where Moonraker answered
        self.checked_at: Optional[float] = None
        self._log = log
        self._addresses = addresses
        self._probe = probe
        self._clock = clock

    def status(self) -> dict:
        if self.port is None:
            return {"checked": False, "reason": "MOONRAKER_URL is not on this host's loopback"}
        return {"checked": self.checked_at is not None, "checked_at": self.checked_at, "open_on": self.open_on,
                "warning": self.warning()}

    def warning(self) -> Optional[str]:
        if not self.open_on:
            return None
        return (f"Moonraker also answers on {', '.join(f'{a}:{self.port}' for a in self.open_on)}: the door is not "
                f"the only door; {FIX}")

    def check(self) -> None:
        if self.port is None:
            return
        found = [address for address in self._addresses() if self._probe(address, self.port)]
        self.checked_at = self._clock()
        if found != self.open_on:
            self.open_on = found
            if found:
                self._log.warning("%s", self.warning())
            else:
                self._log.info("Moonraker answers on loopback only: the door is the only door")
