"""One client's websocket session: Moonraker's messages relayed to the client untouched, the client's
passed through the filter, at most MAX_AWAITING calls unanswered, the client pinged every
PING_INTERVAL and dropped when it has sent nothing, not even a pong, for twice that (a phone gone
without a goodbye would hold its slot for good); when either side ends, the other is closed too.
`run()` returns why the session ended, for its log line."""

import time
from typing import Callable, Tuple

import gevent

from .rpcfilter import answered, busy, check
from .websocketio import Closed, Websocket

MAX_AWAITING = 64  # calls sent to Moonraker whose answers the client has not been handed yet
PING_INTERVAL = 30.0  # seconds
STOPPING = (1001, "the gate is stopping")


class Session:
    def __init__(self, client: Websocket, upstream: Websocket, max_message: int, denied: Callable[[str], None],
                 failed: Callable[[str, BaseException], None], ping_interval: float = PING_INTERVAL):
        self.client = client
        self.ping_interval = ping_interval
        self.upstream = upstream
        self.max_message = max_message
        self.awaiting = 0
        self._denied = denied  # called with each method the filter refused
        self._failed = failed  # called with a direction's name and an unexpected error

    def run(self) -> str:
        directions = [gevent.spawn(self._guarded, "client to Moonraker", self._client_to_moonraker),
                      gevent.spawn(self._guarded, "Moonraker to client", self._moonraker_to_client),
                      gevent.spawn(self._guarded, "pinging the client", self._keep_alive)]
        why, close = "the gate is stopping", STOPPING  # unless a direction ends before the gate kills this
        try:
            why, close = gevent.wait(directions, count=1)[0].value
        finally:
            gevent.killall(directions)
            self.client.close(*close)
            self.upstream.close(1000, "")
            gevent.joinall([gevent.spawn(self.client.finish), gevent.spawn(self.upstream.finish)])
        return why

    def _guarded(self, name: str, direction: Callable[[], None]) -> Tuple[str, Tuple[int, str]]:
        """Why the direction ended and the close frame the client gets; an unexpected error ends the
        session, never the gate."""
        try:
            direction()
        except Closed as ended:
            if ended.side is self.upstream:
                return str(ended), (1001, "Moonraker closed the connection")
            return str(ended), (1000, "")
        except Exception as error:
            self._failed(name, error)
            return f"the gate failed relaying {name}: {type(error).__name__}", (1011, "internal error")
        raise AssertionError("a direction returned")  # each loops until its websocket ends

    def _client_to_moonraker(self) -> None:
        while True:
            verdict = check(self.client.receive(), self.max_message)
            for method in verdict.denied:
                self._denied(method)
            if verdict.too_big:
                self.client.close(1009, "message too big")
                raise Closed(f"the client sent a message over {self.max_message} bytes (closed with 1009)",
                             self.client)
            if verdict.forward is not None:
                if self.awaiting + len(verdict.awaiting) <= MAX_AWAITING:
                    self.awaiting += len(verdict.awaiting)
                    self.upstream.send(verdict.forward)
                else:
                    refusal = busy(verdict, MAX_AWAITING)
                    if refusal is not None:
                        self.client.send(refusal)
            if verdict.reply is not None:
                self.client.send(verdict.reply)

    def _keep_alive(self) -> None:
        while True:
            gevent.sleep(self.ping_interval)
            silent = time.monotonic() - self.client.last_heard
            if silent > 2 * self.ping_interval:
                raise Closed(f"the client sent nothing, not even a pong, for {silent:.0f} s", self.client)
            self.client.ping()

    def _moonraker_to_client(self) -> None:
        while True:
            message = self.upstream.receive()
            self.client.send(message)
            if self.awaiting:
                self.awaiting = max(0, self.awaiting - answered(message))
