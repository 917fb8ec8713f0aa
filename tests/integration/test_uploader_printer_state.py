"""The printer's state from the Moonraker stand-in (over TCP and over a unix socket, as through the
gate) and the PrusaLink stand-ins (HTTP digest, X-Api-Key), and the follower that logs each change
once and tells every camera: fail open when the source goes away, and back."""

import logging
import socketserver
import threading

import pytest

from standins import moonraker as moonraker_standin
from standins.moonraker import MoonrakerStandin
from standins.prusalink import PrusaLink
from uploader.healthfile import HealthFile
from uploader.printerstate import MoonrakerSource, PrinterFollower, PrusaLinkSource
from uploader.schedule import Printer

PASSWORD = "correct-horse-battery"
API_KEY = "Ab12Cd34Ef56Gh78"


@pytest.fixture
def moonraker():
    with MoonrakerStandin() as standin:
        yield standin


def test_moonraker_print_stats_are_followed_over_tcp(moonraker):
    source = MoonrakerSource(moonraker.url)
    assert source.read().printer is Printer.IDLE
    for state, printer in (("printing", Printer.PRINTING), ("paused", Printer.PRINTING), ("complete", Printer.IDLE)):
        moonraker.set_print_state(state)
        reading = source.read()
        assert (reading.printer, reading.text) == (printer, f"Moonraker print_stats.state {state!r}")
    [query] = {(r["method"], r["path"], r["query"]) for r in moonraker.recorded()["requests"]}
    assert query == ("GET", "/printer/objects/query", "print_stats")


class _UnixMoonraker(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The Moonraker stand-in's handler on a unix socket: what the uploader sees through the gate's socket."""
    daemon_threads = True


def test_moonraker_is_read_over_a_unix_socket_and_a_missing_socket_is_unknown(moonraker, tmp_path):
    path = tmp_path / "gate.sock"
    assert MoonrakerSource(f"unix:{path}").read().text == (
        f"the Moonraker gate at unix:{path} does not exist: is moonraker-gate running?")
    server = _UnixMoonraker(str(path), moonraker_standin._Handler)
    server.standin = moonraker
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        moonraker.set_print_state("printing")
        assert MoonrakerSource(f"unix:{path}").read().printer is Printer.PRINTING
    finally:
        server.shutdown()
        server.server_close()


def test_a_stopped_moonraker_is_unknown():
    with MoonrakerStandin() as gone:
        url = gone.url
    reading = MoonrakerSource(url).read()
    assert reading.printer is Printer.UNKNOWN and "refused the connection" in reading.text


def test_prusalink_with_digest_auth():
    with PrusaLink(password=PASSWORD) as link:
        source = PrusaLinkSource(link.url, "maker", PASSWORD, "")
        try:
            assert source.read().printer is Printer.IDLE
            link.set_state("PRINTING")
            assert source.read().text == "PrusaLink printer.state 'PRINTING'"
            link.set_mode(nonsense=True)
            assert source.read().text == "PrusaLink's answer has no printer.state"
        finally:
            source.close()
        assert [r["auth"] for r in link.recorded() if r["authorized"]] == ["digest"] * 3


@pytest.mark.parametrize("user, password", [("maker", "wrong-password"), ("someone", PASSWORD)])
def test_wrong_prusalink_credentials_name_the_variables_to_fix(user, password):
    with PrusaLink(password=PASSWORD) as link:
        source = PrusaLinkSource(link.url, user, password, "")
        try:
            reading = source.read()
        finally:
            source.close()
    assert reading.printer is Printer.UNKNOWN
    assert reading.text.startswith("PrusaLink refused the credentials (HTTP 401): set PRUSALINK_USER and "
                                   "PRUSALINK_PASSWORD")
    assert password not in reading.text


def test_prusalink_with_an_api_key_and_a_wrong_one():
    with PrusaLink(api_key=API_KEY) as link:
        good, bad = PrusaLinkSource(link.url, "maker", "", API_KEY), PrusaLinkSource(link.url, "maker", "", "nope")
        try:
            link.set_state("ATTENTION")
            assert good.read().printer is Printer.PRINTING
            refused = bad.read()
        finally:
            good.close()
            bad.close()
        assert [(r["auth"], r["authorized"]) for r in link.recorded()] == [("api-key", True), ("api-key", False)]
    assert refused.printer is Printer.UNKNOWN and "set PRUSALINK_API_KEY" in refused.text


def test_unreachable_prusalink_is_unknown():
    with PrusaLink(password=PASSWORD) as gone:
        url = gone.url
    source = PrusaLinkSource(url, "maker", PASSWORD, "")
    try:
        reading = source.read()
    finally:
        source.close()
    assert reading.printer is Printer.UNKNOWN and reading.text.startswith("PrusaLink unreachable: connection refused")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def follower_for(source, heard, tmp_path):
    log = logging.getLogger("follower-test")
    beacon = HealthFile(str(tmp_path / "health"), log).beacon("the printer state reader", 35.0)
    return PrinterFollower(source, [heard.append], log, active="uploading every 10 s",
                           idle="no uploads until a print starts (UPLOAD_IDLE_INTERVAL=0)", beacon=beacon,
                           clock=Clock())


def lines(caplog):
    return [f"{r.levelname} {r.getMessage()}" for r in caplog.records if r.name == "follower-test"]


def test_fail_open_is_said_once_while_the_source_is_away_and_the_return_is_followed(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="follower-test")
    heard = []
    standin = MoonrakerStandin().start()
    port = standin.port
    follower = follower_for(MoonrakerSource(standin.url), heard, tmp_path)
    follower.step()
    standin.set_print_state("printing")
    follower.step()
    follower.step()
    standin.stop()
    for _ in range(3):
        follower.step()
    with MoonrakerStandin(port=port) as back:
        follower.step()
        back.set_print_state("printing")
        follower.step()
    assert heard == [Printer.IDLE, Printer.PRINTING, Printer.UNKNOWN, Printer.IDLE, Printer.PRINTING]
    assert lines(caplog) == [
        "INFO printer state: idle (Moonraker print_stats.state 'standby'): no uploads until a print starts "
        "(UPLOAD_IDLE_INTERVAL=0)",
        "INFO printer state: printing (Moonraker print_stats.state 'printing'): uploading every 10 s",
        f"WARNING printer state unknown (the Moonraker gate at http://127.0.0.1:{port} refused the connection: is "
        "moonraker-gate running?): uploading every 10 s until it is back",
        "INFO printer state: idle (Moonraker print_stats.state 'standby'): one last picture, then no uploads "
        "until a print starts (UPLOAD_IDLE_INTERVAL=0)",
        "INFO printer state: printing (Moonraker print_stats.state 'printing'): uploading every 10 s",
    ]


class _Buggy:
    def __init__(self):
        self.reads = 0

    def read(self):
        self.reads += 1
        raise KeyError("a bug")

    def close(self):
        pass


def test_a_bug_in_the_source_is_logged_once_with_its_traceback_and_fails_open(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="follower-test")
    heard = []
    source = _Buggy()
    follower = follower_for(source, heard, tmp_path)
    follower._poll = 0.01
    loop = threading.Thread(target=follower.run)
    loop.start()
    try:
        while source.reads < 5:
            threading.Event().wait(0.01)
    finally:
        follower.stop()
        loop.join(5)
    assert not loop.is_alive() and heard == [Printer.UNKNOWN]
    [error] = [r for r in caplog.records if r.name == "follower-test"]
    assert error.levelname == "ERROR" and error.exc_info[0] is KeyError
    assert error.getMessage().startswith("printer state unknown (internal error KeyError at ")
    assert error.getMessage().endswith("'a bug'): uploading every 10 s until it is back")
