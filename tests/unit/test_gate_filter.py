"""The gate's decision about each client message, without sockets."""

import json

import pytest
from hypothesis import given, settings, strategies as st

from moonraker_gate.allowlist import ALLOWED_METHODS
from moonraker_gate.rpcfilter import Verdict, answered, busy, check

MAX = 262144
CONTROLS = ["printer.gcode.script", "printer.print.start", "printer.emergency_stop", "machine.reboot",
            "server.files.delete_file"]


def call(method, call_id=1, **params):
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": call_id})


def denial(method, call_id):
    return {"jsonrpc": "2.0", "error": {"code": -32601, "message": f"read-only bridge: {method} is not allowed"},
            "id": call_id}


@pytest.mark.parametrize("method", sorted(ALLOWED_METHODS))
def test_every_allowlisted_method_passes_unchanged(method):
    message = call(method, 7, objects={"print_stats": None})
    verdict = check(message, MAX)
    assert json.loads(verdict.forward) == json.loads(message)
    assert (verdict.reply, verdict.too_big, verdict.denied) == (None, False, ())


@pytest.mark.parametrize("method", CONTROLS + ["server.some_future_feature.start", "printer.firmware_restart"])
def test_every_other_method_is_answered_by_the_gate_and_not_forwarded(method):
    verdict = check(call(method, 42, script="G28"), MAX)
    assert verdict.forward is None
    assert verdict.reply == ('{"jsonrpc":"2.0","error":{"code":-32601,"message":"read-only bridge: '
                             f'{method} is not allowed"}},"id":42}}')
    assert verdict.denied == (method,)


@pytest.mark.parametrize("method", ["Printer.Info", " printer.info", "printer.info ", "printer.info\u0000",
                                    "printer.objects.list.x", "printer"])
def test_near_misses_of_allowed_names_are_denied(method):
    verdict = check(call(method), MAX)
    assert verdict.forward is None
    assert json.loads(verdict.reply) == denial(method, 1)


@pytest.mark.parametrize("call_id", ["abc", 0, -3, 2.5, None, {"odd": [1]}])
def test_the_denial_carries_the_calls_own_id(call_id):
    assert json.loads(check(call("machine.reboot", call_id), MAX).reply) == denial("machine.reboot", call_id)


def test_a_denied_notification_is_dropped_without_a_reply():
    message = json.dumps({"jsonrpc": "2.0", "method": "printer.emergency_stop"})
    assert check(message, MAX) == Verdict(denied=("printer.emergency_stop",))


def test_an_allowed_notification_is_forwarded():
    message = json.dumps({"jsonrpc": "2.0", "method": "server.info"})
    assert json.loads(check(message, MAX).forward) == json.loads(message)


def test_a_mixed_batch_forwards_the_allowed_calls_as_a_batch_and_answers_the_rest_in_one_array():
    batch = [
        {"jsonrpc": "2.0", "method": "server.info", "id": 1},
        {"jsonrpc": "2.0", "method": "printer.gcode.script", "params": {"script": "G28"}, "id": 2},
        {"jsonrpc": "2.0", "method": "printer.objects.list"},
        {"jsonrpc": "2.0", "method": "machine.reboot"},
        {"jsonrpc": "2.0", "id": 5},
        7,
        {"jsonrpc": "2.0", "method": "printer.info", "id": 6},
    ]
    verdict = check(json.dumps(batch), MAX)
    assert json.loads(verdict.forward) == [batch[0], batch[2], batch[6]]
    assert json.loads(verdict.reply) == [
        denial("printer.gcode.script", 2),
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": 5},
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
    ]
    assert verdict.denied == ("printer.gcode.script", "machine.reboot")


def test_an_allowed_batch_is_forwarded_whole_even_with_one_call():
    batch = [{"jsonrpc": "2.0", "method": "printer.info", "id": 1}]
    verdict = check(json.dumps(batch), MAX)
    assert json.loads(verdict.forward) == batch
    assert verdict.reply is None


def test_a_batch_of_denied_notifications_gets_nothing_at_all():
    batch = [{"jsonrpc": "2.0", "method": "machine.reboot"}, {"jsonrpc": "2.0", "method": "machine.shutdown"}]
    assert check(json.dumps(batch), MAX) == Verdict(denied=("machine.reboot", "machine.shutdown"), batch=True)


def test_an_empty_batch_is_an_invalid_request():
    assert json.loads(check("[]", MAX).reply) == {"jsonrpc": "2.0", "error": {"code": -32600,
                                                                            "message": "Invalid Request"}, "id": None}


@pytest.mark.parametrize("message", ["{", "", "   ", "nul", "{'method': 'server.info'}", '{"method":"server.info",}',
                                     b"\xff\xfe{}", "[" * 100000, '{"a":' * 50000])
def test_what_is_not_json_gets_a_parse_error_with_id_null(message):
    verdict = check(message, MAX)
    assert verdict.reply == '{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}'
    assert (verdict.forward, verdict.too_big) == (None, False)


@pytest.mark.parametrize("message", ["42", '"server.info"', "null", "true", '{"jsonrpc":"2.0"}', '{"method":null}',
                                     '{"method":["server.info"]}'])
def test_json_that_is_not_a_call_is_an_invalid_request_with_id_null(message):
    assert json.loads(check(message, MAX).reply) == {
        "jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}
    assert check(message, MAX).forward is None


def test_a_call_without_a_method_is_invalid_with_its_own_id():
    for message, call_id in (('{"jsonrpc":"2.0","id":3}', 3), ('{"method":5,"id":"x"}', "x")):
        assert json.loads(check(message, MAX).reply)["id"] == call_id
        assert json.loads(check(message, MAX).reply)["error"]["code"] == -32600


def test_moonraker_receives_exactly_what_was_checked():
    # Python's json keeps the last of duplicate keys; what goes on is re-serialised from that.
    smuggled = '{"jsonrpc":"2.0","method":"printer.gcode.script","method":"printer.info","id":1}'
    forwarded = check(smuggled, MAX).forward
    pairs = json.loads(forwarded, object_pairs_hook=list)
    assert [key for key, _ in pairs].count("method") == 1
    assert "gcode" not in forwarded
    assert check('{ "method" : "server.info", "params": {"a": "\\u00e9\\n"}, "id": 1 }', MAX).forward == (
        '{"method":"server.info","params":{"a":"\\u00e9\\n"},"id":1}')


def test_binary_frames_are_read_as_utf8_text():
    verdict = check(call("server.info").encode(), MAX)
    assert json.loads(verdict.forward)["method"] == "server.info"


def test_the_size_limit_counts_utf8_bytes():
    padding = MAX - len(call("server.info", 1, pad=""))
    exactly = call("server.info", 1, pad="x" * padding)
    assert len(exactly.encode()) == MAX
    assert check(exactly, MAX).forward is not None
    assert check(call("server.info", 1, pad="x" * (padding + 1)), MAX) == Verdict(too_big=True)
    wide = json.dumps({"method": "server.info", "params": {"pad": "\u20ac" * (MAX // 3)}}, ensure_ascii=False)
    assert len(wide) < MAX < len(wide.encode())
    assert check(wide, MAX) == Verdict(too_big=True)
    assert check(b" " * (MAX + 1), MAX) == Verdict(too_big=True)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=8)
methods = st.sampled_from(sorted(ALLOWED_METHODS)) | st.sampled_from(CONTROLS) | st.text(max_size=30)
calls = st.fixed_dictionaries({"jsonrpc": st.just("2.0"), "method": methods},
                              optional={"id": st.integers() | st.text(max_size=5) | st.none(), "params": json_values})
messages = calls | st.lists(calls | json_values, max_size=6) | json_values


@settings(max_examples=300, deadline=None)
@given(messages)
def test_only_allowed_calls_ever_reach_moonraker_and_every_call_with_an_id_is_answered(message):
    verdict = check(json.dumps(message), MAX)
    forwarded = [] if verdict.forward is None else json.loads(verdict.forward)
    replies = [] if verdict.reply is None else json.loads(verdict.reply)
    forwarded, replies = (forwarded if isinstance(forwarded, list) else [forwarded],
                          replies if isinstance(replies, list) else [replies])
    assert all(isinstance(c, dict) and c["method"] in ALLOWED_METHODS for c in forwarded)
    elements = message if isinstance(message, list) and message else [message]
    silent = [c for c in elements if isinstance(c, dict) and isinstance(c.get("method"), str)
              and c["method"] not in ALLOWED_METHODS and "id" not in c]
    assert len(forwarded) + len(replies) == len(elements) - len(silent)


@settings(max_examples=300, deadline=None)
@given(st.text() | st.binary())
def test_any_text_gets_a_verdict(message):
    assert isinstance(check(message, MAX), Verdict)


def test_forwarded_calls_with_ids_await_an_answer():
    assert check(call("server.info", 7), MAX).awaiting == (7,)
    assert check(json.dumps({"jsonrpc": "2.0", "method": "server.info"}), MAX).awaiting == ()
    batch = [{"jsonrpc": "2.0", "method": "server.info", "id": 1}, {"jsonrpc": "2.0", "method": "printer.info"},
             {"jsonrpc": "2.0", "method": "machine.reboot", "id": 3}, {"jsonrpc": "2.0", "method": "printer.info", "id": 4}]
    verdict = check(json.dumps(batch), MAX)
    assert (verdict.awaiting, verdict.batch) == ((1, 4), True)


def test_busy_answers_each_forwarded_call_in_the_shape_it_came():
    single = json.loads(busy(check(call("server.info", 7), MAX), 64))
    assert single["id"] == 7 and single["error"]["code"] == -32000
    assert "64 calls already await Moonraker's answer" in single["error"]["message"]
    batch = [{"jsonrpc": "2.0", "method": "server.info", "id": 1}, {"jsonrpc": "2.0", "method": "printer.info", "id": 2}]
    assert [reply["id"] for reply in json.loads(busy(check(json.dumps(batch), MAX), 64))] == [1, 2]
    assert busy(check(json.dumps({"jsonrpc": "2.0", "method": "server.info"}), MAX), 64) is None


@pytest.mark.parametrize("message, count", [
    ('{"jsonrpc": "2.0", "result": {"a": 1}, "id": 3}', 1),
    ('{"jsonrpc": "2.0", "error": {"code": -1, "message": "x"}, "id": 3}', 1),
    ('[{"jsonrpc": "2.0", "result": 1, "id": 1}, {"jsonrpc": "2.0", "result": 2, "id": 2}]', 2),
    ('{"jsonrpc": "2.0", "method": "notify_status_update", "params": [{"id": 1}]}', 0),
    ('{"jsonrpc": "2.0", "method": "notify_gcode_response", "params": ["ok"]}', 0),
    ('not json "id"', 0), (b'{"id": 1}', 0),
])
def test_answered_counts_the_replies_in_a_message_from_moonraker(message, count):
    assert answered(message) == count
