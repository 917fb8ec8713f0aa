"""The self-check's reading of the host's addresses, and its verdict and log lines."""

import logging

import gevent

from moonraker_gate.__main__ import every
from moonraker_gate.selfcheck import SelfCheck, beyond_loopback, ipv4_addresses, ipv6_addresses

FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 4
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.168.1.0/24 2 0 2
           |-- 192.168.1.0
              /24 link UNICAST
           |-- 192.168.1.23
              /32 host LOCAL
        |-- 192.168.1.255
           /32 link BROADCAST
Local:
           |-- 127.0.0.1
              /32 host LOCAL
           |-- 192.168.1.23
              /32 host LOCAL
"""
IF_INET6 = """fd000000000000000000000000000002 04 40 00 82     eth0
00000000000000000000000000000001 01 80 10 80       lo
fe8000000000000000428bfffe2e45bc 05 40 20 80  docker0
"""


def test_the_hosts_own_addresses_are_read_without_loopback_and_link_local():
    assert ipv4_addresses(FIB_TRIE) == ["127.0.0.1", "192.168.1.23"]
    assert ipv6_addresses(IF_INET6) == ["fd00::2"]
    assert beyond_loopback(["127.0.0.1", "192.168.1.23", "::1", "fd00::2"]) == ["192.168.1.23", "fd00::2"]


def test_a_moonraker_beyond_loopback_is_logged_once_then_its_fix(caplog):
    answering = {"192.168.1.23"}
    check = SelfCheck(7125, logging.getLogger("test"), addresses=lambda: ["192.168.1.23", "fd00::2"],
                      probe=lambda address, port: port == 7125 and address in answering, clock=lambda: 1000.0)
    with caplog.at_level(logging.INFO):
        check.check()
        check.check()
        assert [r.getMessage() for r in caplog.records] == [
            "Moonraker also answers on 192.168.1.23:7125: the door is not the only door; set host: 127.0.0.1 in "
            "the [server] section of moonraker.conf, then restart Moonraker"]
        assert check.status() == {"checked": True, "checked_at": 1000.0, "open_on": ["192.168.1.23"],
                                  "warning": check.warning()}
        answering.clear()
        check.check()
        assert caplog.records[-1].getMessage() == "Moonraker answers on loopback only: the door is the only door"
    assert check.warning() is None


def test_nothing_to_check_when_moonraker_is_not_on_loopback():
    check = SelfCheck(None, logging.getLogger("test"), addresses=lambda: ["192.168.1.23"])
    check.check()
    assert check.status() == {"checked": False, "reason": "MOONRAKER_URL is not on this host's loopback"}


def test_a_periodic_check_that_fails_unexpectedly_is_logged_with_its_traceback_and_runs_again(caplog):
    calls = []

    def check():
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("a bug")

    loop = gevent.spawn(every, 0.01, check, "the test check", logging.getLogger("every-test"))
    gevent.sleep(0.1)
    loop.kill()
    assert len(calls) >= 3
    failures = [r for r in caplog.records if r.name == "every-test"]
    assert [r.getMessage() for r in failures] == ["the test check failed; trying again in 0.01 s"]
    assert failures[0].exc_info[0] is RuntimeError
