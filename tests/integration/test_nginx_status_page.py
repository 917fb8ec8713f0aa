"""The status page and /status.json through the rendered nginx.conf, run by a real nginx."""

import shutil

import pytest
import requests

from integration.test_nginx_gate import gate, upstream  # noqa: F401 (fixtures)
import nginxconf

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (tests/run installs it)")


def test_the_page_is_nginxs_own_file_with_a_strict_policy(gate, upstream):  # noqa: F811
    url = gate()
    response = requests.get(url + "/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.content == nginxconf.STATUS_PAGE.read_bytes()
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy and "img-src 'self' data:" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    assert requests.head(url + "/", timeout=5).status_code == 200
    assert requests.post(url + "/", timeout=5).status_code == 405
    for path in ("/status.html", "/index.html", "/nginxconf.py", "/nginx.conf.template"):
        assert requests.get(url + path, timeout=5).status_code == 404, path
    assert upstream.seen == []


def test_status_json_goes_to_the_frame_server_with_the_allowlist_nginx_enforces(gate, upstream):  # noqa: F811
    url = gate(ALLOWED_CIDRS="127.0.0.1/32, 192.168.1.0/24")
    response = requests.get(url + "/status.json", headers={"X-Door-Allowed-Networks": "0.0.0.0/0"}, timeout=5)
    assert response.status_code == 200 and response.text == "upstream /status.json"
    ((method, path, headers),) = upstream.seen
    assert (method, path) == ("GET", "/status.json")
    assert headers["X-Door-Allowed-Networks"] == "127.0.0.1/32 192.168.1.0/24"
    assert headers["X-Real-IP"] == "127.0.0.1"


def test_a_stranger_gets_neither(gate, upstream):  # noqa: F811
    url = gate(ALLOWED_CIDRS="192.0.2.0/24")
    for path in ("/", "/status.json"):
        assert requests.get(url + path, timeout=5).status_code == 403
    assert upstream.seen == []
