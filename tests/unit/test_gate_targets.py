"""Which raw request targets the gate relays, in what form, and that nginx's list is the gate's."""

import re

import pytest

import nginxconf
from moonraker_gate.allowlist import ALLOWED_PATHS, DENIED_PATHS, DENIED_PREFIXES
from moonraker_gate.targets import check, is_websocket

from integration.test_gate_http import BYPASSES


@pytest.mark.parametrize("target", BYPASSES + ["/server/files/gcodes/%ff.png", "/server/files/gcodes/a%2",
                                               "/server/files/gcodes/a%zz", "/server/files/gcodes/a%00b",
                                               "/server/files/gcodes/a%3fb", "/server/files/gcodes/a%7f",
                                               "/server/files/gcodes/.",
                                               "/server/files/gcodes/x/.", "server/info", "/server/info\x00",
                                               "/server/files/gcodes/a b.png", "/server/info?x#y"])
def test_a_target_not_in_canonical_form_is_refused(target):
    decision = check(target)
    assert decision.status != 200 and decision.upstream == ""
    if "#" in target or "%" in target.split("?")[0] or ".." in target or "//" in target or "\\" in target:
        assert decision.status == 400 and decision.line.startswith("bad path: ")


@pytest.mark.parametrize("path", sorted(ALLOWED_PATHS))
def test_an_allowed_path_goes_as_it_came_with_its_query(path):
    assert check(path).upstream == path
    assert check(path + "?filename=My%20Benchy.gcode&x").upstream == path + "?filename=My%20Benchy.gcode&x"


@pytest.mark.parametrize("raw, upstream", [
    ("/server/files/gcodes/.thumbs/a-300x300.png", "/server/files/gcodes/.thumbs/a-300x300.png"),
    ("/server/files/gcodes/My%20Benchy.gcode", "/server/files/gcodes/My%20Benchy.gcode"),
    ("/server/files/gcodes/caf%c3%a9.png", "/server/files/gcodes/caf%C3%A9.png"),
    ("/server/files/gcodes/a+b(1),c.png", "/server/files/gcodes/a%2Bb%281%29%2Cc.png"),
    ("/server/files/gcodes/sub/a.png?cacheBust=1", "/server/files/gcodes/sub/a.png?cacheBust=1"),
])
def test_a_gcodes_file_goes_in_its_canonical_encoding(raw, upstream):
    assert check(raw).upstream == upstream


def test_denied_and_unknown_paths():
    for path in DENIED_PATHS | {p + "/x" for p in DENIED_PREFIXES}:
        assert check(path).status == 403, path
    for path in ("/", "/server", "/server/files/gcodes/", "/printer/gcode/script", "/server/info/", "/gate/status"):
        assert check(path).status == 404, path


def test_the_websocket_path():
    assert is_websocket("/websocket") and is_websocket("/websocket?token=abc")
    assert not any(is_websocket(t) for t in ("/websocket/", "/websocket#x", "/websocket?x#y", "/webs%6fcket",
                                             "//websocket"))


def nginx_moonraker_locations():
    text = nginxconf.render(nginxconf.load({}), nginxconf.TEMPLATE.read_text())
    return re.findall(r"location ~ (\S+) \{\n(?:(?!\n        \}).)*proxy_pass http://gate;", text, re.S)


def test_nginx_relays_exactly_the_gates_paths():
    exact, gcodes = nginx_moonraker_locations()
    assert {p for p in ALLOWED_PATHS if re.search(exact, p)} == ALLOWED_PATHS
    for path in DENIED_PATHS | {"/server/files/gcodes", "/server/infos", "/printer/gcode/script"}:
        assert not re.search(exact, path)
    assert re.search(gcodes, "/server/files/gcodes/a.png") and not re.search(gcodes, "/server/files/gcodes/")
