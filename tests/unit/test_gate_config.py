"""The gate's settings: defaults, and a one-line error for each bad value."""

import pytest

from appliance.envparse import ConfigError, HttpUrl
from moonraker_gate.__main__ import looks_up_addresses_only, on_loopback
from moonraker_gate.config import Config, load

URL_FORM = "expected http://host[:port] or https://host[:port]"


def test_defaults():
    assert load({}) == Config(moonraker=HttpUrl("http", "127.0.0.1", 7125), socket="/run/gate/gate.sock",
                              max_message=262144, connect_timeout=5.0, allowed_origins=(), max_sessions=10,
                              max_sessions_per_client=3, health_file="/tmp/gate-health")


@pytest.mark.parametrize("url, upstream", [
    ("http://127.0.0.1:7125", "ws://127.0.0.1:7125/websocket"),
    ("http://printer.local:7125/", "ws://printer.local:7125/websocket"),
    ("https://printer.local", "wss://printer.local:443/websocket"),
    ("http://printer", "ws://printer:80/websocket"),
    ("HTTP://Printer:8080", "ws://printer:8080/websocket"),
    ("http://[::1]:7125", "ws://[::1]:7125/websocket"),
    ("  http://moonraker:7125  ", "ws://moonraker:7125/websocket"),
])
def test_the_websocket_url_is_derived_from_moonraker_url(url, upstream):
    assert load({"MOONRAKER_URL": url}).upstream_websocket == upstream


@pytest.mark.parametrize("url", ["ftp://printer:7125", "printer:7125", "http://", "http://:7125", "http://printer:99999",
                                 "http://printer:port", "http://printer:", "http://printer/moonraker",
                                 "http://printer:7125/websocket", "http://printer?x=1", "http://printer#x",
                                 "http://user:pw@printer", "http://prin ter", "ws://printer:7125"])
def test_a_bad_moonraker_url_is_one_line_naming_it(url):
    with pytest.raises(ConfigError) as error:
        load({"MOONRAKER_URL": url})
    assert str(error.value) == f"MOONRAKER_URL={url!r} is invalid: {URL_FORM}"


@pytest.mark.parametrize("name, value", [("GATE_MAX_MESSAGE", "100"), ("GATE_MAX_MESSAGE", "1e6"),
                                         ("GATE_CONNECT_TIMEOUT", "0"), ("GATE_CONNECT_TIMEOUT", "nan"),
                                         ("GATE_CONNECT_TIMEOUT", "600"), ("GATE_MAX_SESSIONS", "0"),
                                         ("GATE_MAX_SESSIONS", "101"), ("GATE_MAX_SESSIONS_PER_CLIENT", "x"),
                                         ("GATE_SOCKET", "gate.sock")])
def test_a_bad_value_is_one_line_naming_it(name, value):
    with pytest.raises(ConfigError) as error:
        load({name: value})
    assert str(error.value).startswith(f"{name}={value!r} is ")
    assert "\n" not in str(error.value)


def test_numbers_are_read():
    config = load({"GATE_MAX_MESSAGE": "1048576", "GATE_CONNECT_TIMEOUT": "2.5", "GATE_MAX_SESSIONS": "40",
                   "GATE_MAX_SESSIONS_PER_CLIENT": "40"})
    assert (config.max_message, config.connect_timeout, config.max_sessions, config.max_sessions_per_client) == (
        1048576, 2.5, 40, 40)


def test_more_per_client_than_in_total_is_refused():
    with pytest.raises(ConfigError) as error:
        load({"GATE_MAX_SESSIONS": "2"})
    assert str(error.value) == ("GATE_MAX_SESSIONS_PER_CLIENT=3 is out of range: expected at most "
                                "GATE_MAX_SESSIONS (2)")


def test_allowed_origins_are_read_in_their_normal_form():
    config = load({"ALLOWED_ORIGINS": "http://Fluidd.lan, https://mainsail.example:8443  http://192.168.1.5:80/"
                                      " http://fluidd.lan:80"})
    assert config.allowed_origins == ("http://fluidd.lan:80", "https://mainsail.example:8443", "http://192.168.1.5:80")


@pytest.mark.parametrize("entry", ["*", "fluidd.lan", "http://fluidd.lan/app", "ws://fluidd.lan", "http://a:b@x",
                                   "null", "http://fluidd.lan?x"])
def test_a_bad_origin_is_one_line_naming_the_entry(entry):
    with pytest.raises(ConfigError) as error:
        load({"ALLOWED_ORIGINS": f"http://ok.lan {entry}"})
    assert str(error.value) == (f"ALLOWED_ORIGINS entry {entry!r} is invalid: expected http://host[:port] or "
                                "https://host[:port], as a browser's address bar shows it")


@pytest.mark.parametrize("url, addresses_only, loopback", [
    ("http://127.0.0.1:7125", True, True), ("http://localhost:7125", True, True), ("http://[::1]:7125", True, True),
    ("http://192.168.1.20:7125", True, False), ("http://printer.local:7125", False, False)])
def test_an_address_needs_no_dns_and_loopback_is_self_checked(url, addresses_only, loopback):
    config = load({"MOONRAKER_URL": url})
    assert (looks_up_addresses_only(config), on_loopback(config)) == (addresses_only, loopback)
