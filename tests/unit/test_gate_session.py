"""A session's own logic between two scripted websocket ends: how it ends, what it closes, the bound
on unanswered calls, and that an unexpected error ends the session and nothing more."""

import json
import time

import gevent
from gevent.queue import Queue

from moonraker_gate.session import MAX_AWAITING, Session
from moonraker_gate.websocketio import Closed


class ScriptedEnd:
    """A websocket end that hands out what is put in `incoming` (an exception is raised), waiting for more."""

    def __init__(self, name, incoming):
        self.name = name
        self.incoming = Queue()
        for item in incoming:
            self.incoming.put(item)
        self.sent = []
        self.pings = 0
        self.closed = None
        self.finished = False
        self.last_heard = time.monotonic()

    def ping(self):
        self.pings += 1

    def receive(self):
        item = self.incoming.get()
        self.last_heard = time.monotonic()
        if isinstance(item, BaseException):
            raise item
        return item

    def send(self, message):
        self.sent.append(message)

    def close(self, code, reason):
        self.closed = self.closed or (code, reason)

    def finish(self):
        self.finished = True


def call(n, method="server.info"):
    return json.dumps({"jsonrpc": "2.0", "method": method, "id": n})


def run(client_incoming, upstream_incoming, failures=None):
    client, upstream = ScriptedEnd("the client", client_incoming), ScriptedEnd("Moonraker", upstream_incoming)
    session = Session(client, upstream, 262144, lambda method: None,
                      lambda where, error: failures.append((where, error)) if failures is not None else None)
    return session.run(), client, upstream


def test_an_unexpected_error_ends_the_session_with_1011_and_is_reported():
    failures = []
    error = ValueError("a bug")
    why, client, upstream = run([call(1), error], [], failures)
    assert why == "the gate failed relaying client to Moonraker: ValueError"
    assert failures == [("client to Moonraker", error)]
    assert client.closed == (1011, "internal error") and upstream.closed == (1000, "")
    assert client.finished and upstream.finished
    assert upstream.sent == [call(1).replace(" ", "")]


def test_the_side_that_ended_decides_the_clients_close_frame():
    client, upstream = ScriptedEnd("the client", []), ScriptedEnd("Moonraker", [])
    upstream.incoming.put(Closed("Moonraker closed the connection (1001)", upstream))
    why = Session(client, upstream, 262144, lambda method: None, lambda where, error: None).run()
    assert why == "Moonraker closed the connection (1001)"
    assert client.closed == (1001, "Moonraker closed the connection")
    client, upstream = ScriptedEnd("the client", []), ScriptedEnd("Moonraker", [])
    client.incoming.put(Closed("the client went away", client))
    assert Session(client, upstream, 262144, lambda method: None, lambda where, error: None).run() == \
        "the client went away"
    assert (client.closed, upstream.closed) == ((1000, ""), (1000, ""))


def test_calls_beyond_the_bound_are_answered_by_the_gate_and_not_sent():
    calls = [call(n) for n in range(MAX_AWAITING + 6)]
    client, upstream = ScriptedEnd("the client", calls), ScriptedEnd("Moonraker", [])
    session = Session(client, upstream, 262144, lambda method: None, lambda where, error: None)
    runner = gevent.spawn(session.run)
    gevent.sleep(0.05)
    assert len(upstream.sent) == MAX_AWAITING
    assert [json.loads(reply)["id"] for reply in client.sent] == list(range(MAX_AWAITING, MAX_AWAITING + 6))
    assert all(json.loads(reply)["error"]["code"] == -32000 for reply in client.sent)
    # Moonraker answers one: one more call may go.
    upstream.incoming.put(json.dumps({"jsonrpc": "2.0", "result": "ok", "id": 0}))
    gevent.sleep(0.05)
    client.incoming.put(call("after"))
    gevent.sleep(0.05)
    assert upstream.sent[-1] == call("after").replace(" ", "")
    assert session.awaiting == MAX_AWAITING
    runner.kill()
    assert client.closed == (1001, "the gate is stopping")


def test_a_client_that_sends_nothing_not_even_a_pong_is_dropped():
    client, upstream = ScriptedEnd("the client", []), ScriptedEnd("Moonraker", [])
    session = Session(client, upstream, 262144, lambda method: None, lambda where, error: None, ping_interval=0.05)
    started = time.monotonic()
    why = session.run()
    assert why.startswith("the client sent nothing, not even a pong, for ")
    assert client.pings in (1, 2) and 0.1 <= time.monotonic() - started < 1
    assert upstream.closed == (1000, "")


def test_a_client_that_answers_stays():
    client, upstream = ScriptedEnd("the client", []), ScriptedEnd("Moonraker", [])
    session = Session(client, upstream, 262144, lambda method: None, lambda where, error: None, ping_interval=0.05)
    runner = gevent.spawn(session.run)
    for n in range(10):  # its pongs, as the reader would see them
        gevent.sleep(0.04)
        client.last_heard = time.monotonic()
    assert not runner.dead and client.pings >= 5
    runner.kill()
