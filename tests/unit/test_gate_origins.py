"""Which Origin headers the gate accepts: none, the door's own, or one of ALLOWED_ORIGINS."""

import pytest

from moonraker_gate.origins import accepted, normal

LISTED = ("http://fluidd.lan:80", "https://mainsail.example:8443")


@pytest.mark.parametrize("origin, scheme, host", [
    (None, "http", "pi:7126"), (None, "http", None),
    ("http://pi:7126", "http", "pi:7126"), ("http://PI:7126", "http", "pi:7126"), ("http://pi", "http", "pi:80"),
    ("http://pi:80", "http", "pi"), ("http://[fd00::5]:7126", "http", "[fd00::5]:7126"),
    ("http://fluidd.lan", "http", "pi:7126"), ("https://mainsail.example:8443", "http", "pi:7126"),
])
def test_accepted(origin, scheme, host):
    assert accepted(origin, scheme, host, LISTED)


@pytest.mark.parametrize("origin, scheme, host", [
    ("http://evil.example", "http", "pi:7126"), ("http://pi:7127", "http", "pi:7126"),
    ("https://pi:7126", "http", "pi:7126"), ("http://pi.evil.example:7126", "http", "pi:7126"),
    ("null", "http", "pi:7126"), ("", "http", "pi:7126"), ("http://pi:7126/", "http", "pi:7126"),
    ("http://pi:7126", "http", None), ("http://fluidd.lan:8080", "http", "pi:7126"),
    ("https://mainsail.example", "http", "pi:7126"), ("http://user@pi:7126", "http", "pi:7126"),
    ("http://pi:99999", "http", "pi:99999"), ("javascript:alert(1)", "http", "pi:7126"),
])
def test_refused(origin, scheme, host):
    assert not accepted(origin, scheme, host, LISTED)


def test_the_normal_form_writes_the_port():
    assert normal("HTTPS://Example.COM") == "https://example.com:443"
    assert normal("http://[::1]") == "http://[::1]:80"
    assert normal("null") is None
