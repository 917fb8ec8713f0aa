"""The gate's settings: defaults, the derived websocket URL, and a one-line error for each bad value."""

import pytest

from appliance.envparse import ConfigError
from moonraker_gate.config import Config, load

URL_FORM = "expected http://host[:port] or https://host[:port]"


def test_defaults():
    assert load({}) == Config(upstream_url="ws://host.docker.internal:7125/websocket", port=8082,
                              max_message=262144, connect_timeout=5.0)


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
    assert load({"MOONRAKER_URL": url}).upstream_url == upstream


@pytest.mark.parametrize("url", ["ftp://printer:7125", "printer:7125", "http://", "http://:7125", "http://printer:99999",
                                 "http://printer:port", "http://printer:", "http://printer/moonraker",
                                 "http://printer:7125/websocket", "http://printer?x=1", "http://printer#x",
                                 "http://user:pw@printer", "http://prin ter", "ws://printer:7125"])
def test_a_bad_moonraker_url_is_one_line_naming_it(url):
    with pytest.raises(ConfigError) as error:
        load({"MOONRAKER_URL": url})
    assert str(error.value) == f"MOONRAKER_URL={url!r} is invalid: {URL_FORM}"


@pytest.mark.parametrize("name, value", [("GATE_PORT", "0"), ("GATE_PORT", "http"), ("GATE_MAX_MESSAGE", "100"),
                                         ("GATE_MAX_MESSAGE", "1e6"), ("GATE_CONNECT_TIMEOUT", "0"),
                                         ("GATE_CONNECT_TIMEOUT", "nan"), ("GATE_CONNECT_TIMEOUT", "600")])
def test_a_bad_number_is_one_line_naming_it(name, value):
    with pytest.raises(ConfigError) as error:
        load({name: value})
    assert str(error.value).startswith(f"{name}={value!r} is ")
    assert "\n" not in str(error.value)


def test_numbers_are_read():
    config = load({"GATE_PORT": "9000", "GATE_MAX_MESSAGE": "1048576", "GATE_CONNECT_TIMEOUT": "2.5"})
    assert (config.port, config.max_message, config.connect_timeout) == (9000, 1048576, 2.5)
