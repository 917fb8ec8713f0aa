import re

import pytest

import nginxconf
from appliance.envparse import ConfigError


def test_defaults_allow_loopback_and_private_ranges_only():
    config = nginxconf.load({})
    assert config.allowed_cidrs == ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                    "::1/128", "fc00::/7", "fe80::/10")
    text = nginxconf.render(config, nginxconf.TEMPLATE.read_text())
    allow_lines = [line.strip() for line in text.splitlines() if line.strip().startswith(("allow ", "deny "))]
    assert allow_lines == [f"allow {c};" for c in config.allowed_cidrs] + ["deny all;"]
    assert re.search(r"@[A-Z_]+@", text.split("\n", 2)[2]) is None


def test_commas_spaces_and_host_bits_are_accepted():
    config = nginxconf.load({"ALLOWED_CIDRS": "192.168.1.7/24,  10.1.2.3 fd00::1/64"})
    assert config.allowed_cidrs == ("192.168.1.0/24", "10.1.2.3/32", "fd00::/64")


@pytest.mark.parametrize("value, named", [("10.0.0.0/8 300.1.1.1", "'300.1.1.1'"), ("10.0.0.0/33", "'10.0.0.0/33'"),
                                          ("lan", "'lan'")])
def test_an_invalid_entry_is_refused_by_name(value, named):
    with pytest.raises(ConfigError) as error:
        nginxconf.load({"ALLOWED_CIDRS": value})
    assert named in str(error.value) and "ALLOWED_CIDRS" in str(error.value)
    assert "\n" not in str(error.value)


def test_access_log_is_off_unless_asked_for():
    template = nginxconf.TEMPLATE.read_text()
    assert "access_log off;" in nginxconf.render(nginxconf.load({}), template)
    assert "access_log /dev/stdout;" in nginxconf.render(nginxconf.load({"NGINX_ACCESS_LOG": "on"}), template)
    with pytest.raises(ConfigError):
        nginxconf.load({"NGINX_ACCESS_LOG": "yes"})


def test_nginx_names_no_host_the_frame_server_and_the_gate_are_unix_sockets():
    text = nginxconf.render(nginxconf.load({}), nginxconf.TEMPLATE.read_text())
    assert "resolver" not in text and "proxy_pass http://$" not in text
    assert "server unix:/run/http/frameserver.sock max_fails=0;" in text
    assert "server unix:/run/gate/gate.sock max_fails=0;" in text
    assert text.count("proxy_pass http://gate;") == 3
