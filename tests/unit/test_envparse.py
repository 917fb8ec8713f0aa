"""The shared setting parsers: host names and URLs (the typed numbers are covered by each service's config tests)."""

import pytest

from appliance.envparse import ConfigError, Env, HttpUrl, is_host


@pytest.mark.parametrize("host", ["feed", "camera-feed.local", "http", "a" * 63, "host.docker.internal",
                                  "127.0.0.1", "::1", "fd00::12:1", "FEED", "x1.example.com"])
def test_hosts_accepted(host):
    assert is_host(host)
    assert Env({"FEED_HOST": host}).host("FEED_HOST", "feed") == host


@pytest.mark.parametrize("host", ["feed host", "-feed", "feed-", "feed/9000", "feed:9000", "feed_cam", "[::1]",
                                  "a" * 64, "a..b", ".feed", "::g", "fe ed\n", ("a." * 127) + "ab"])
def test_hosts_refused_with_one_line_naming_the_variable(host):
    assert not is_host(host)
    with pytest.raises(ConfigError) as error:
        Env({"FEED_HOST": host}).host("FEED_HOST", "feed")
    assert str(error.value).startswith("FEED_HOST=")
    assert str(error.value).endswith("expected a host name or IP address, without a port")
    assert "\n" not in str(error.value)


def test_an_empty_or_blank_host_is_unset():
    assert Env({}).host("FEED_HOST", "feed") == "feed"
    assert Env({"FEED_HOST": " "}).host("FEED_HOST", "feed") == "feed"
    assert Env({"FEED_HOST": " 10.0.0.2 "}).host("FEED_HOST", "feed") == "10.0.0.2"


def test_a_bare_url_by_default():
    env = Env({"U": "https://Printer.local:7125/"})
    assert env.http_url("U", "http://x") == HttpUrl("https", "printer.local", 7125, "", "")
    assert Env({"U": "http://[::1]"}).http_url("U", "http://x").netloc == "[::1]:80"
    assert Env({}).http_url("U", "http://host.docker.internal:7125").url == "http://host.docker.internal:7125"


@pytest.mark.parametrize("value", ["ftp://x", "x", "http://u:p@x", "http://x/path", "http://x?q", "http://x/?q=1",
                                   "http://x#f", "http://x:", "http://x:99999", "http://feed_cam", "http://a b"])
def test_bare_urls_refused(value):
    with pytest.raises(ConfigError) as error:
        Env({"U": value}).http_url("U", "http://x")
    assert str(error.value) == f"U={value!r} is invalid: expected http://host[:port] or https://host[:port]"


def test_a_path_and_a_query_where_allowed():
    env = Env({"U": "http://http:8081/webcam2/snapshot.jpg?x=1"})
    url = env.http_url("U", "http://x", path=True, query=True)
    assert (url.host, url.port, url.path, url.query) == ("http", 8081, "/webcam2/snapshot.jpg", "x=1")
    assert url.url == "http://http:8081/webcam2/snapshot.jpg?x=1"
    with pytest.raises(ConfigError) as error:
        env.http_url("U", "http://x", path=True)
    assert "expected http://host[:port][/path] or https://host[:port][/path]" in str(error.value)
    assert Env({"U": "https://connect.prusa3d.com/api"}).http_url("U", "", path=True).url == (
        "https://connect.prusa3d.com:443/api")
    for value in ["http://u@x/p", "http://x/p#f", "http://x/a b"]:
        with pytest.raises(ConfigError):
            Env({"U": value}).http_url("U", "http://x", path=True, query=True)
