"""One camera's stream handler in-process, writing to a real socket as it does under gunicorn.

The WSGI call gets the server's end of a socket pair as `gunicorn.socket`; the test reads the other
end byte for byte, so what it sees is exactly what a client would.
"""

import logging
import socket

import gevent
import pytest
from gevent import socket as gsocket

from frameserver import mjpegstream
from frameserver.config import load
from frameserver.framestore import FrameStore
from frameserver.mjpegstream import NO_SIGNAL_JPEG, SEND_BUFFER, UNIX_SEND_BUFFER, StreamHandler
from standins.scripted_feed import frame_number, make_frame


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="test-frameserver")
    return logging.getLogger("test-frameserver")


def tcp_pair():
    """(server's end, client's end) of a loopback TCP connection, as a client's is under gunicorn."""
    with gsocket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client_end = gsocket.create_connection(listener.getsockname())
        server_end, _ = listener.accept()
    return server_end, client_end


class Client:
    """Calls the handler like gunicorn does (the first item of the body through the server, the rest
    written by the handler itself) and reads the bytes from the client's end."""

    def __init__(self, handler, protocol="HTTP/1.1", query="", tcp=False):
        self.server_end, self.client_end = tcp_pair() if tcp else gsocket.socketpair()
        self.statuses = []
        environ = {"REQUEST_METHOD": "GET", "QUERY_STRING": query, "SERVER_PROTOCOL": protocol,
                   "REMOTE_ADDR": "192.0.2.7", "gunicorn.socket": self.server_end}
        self.body = handler(environ, lambda status, headers: self.statuses.append(status))
        self.ended = None
        self.serving = gevent.spawn(self._serve, protocol != "HTTP/1.0")
        self.buf = b""

    def _serve(self, chunked):
        try:
            for item in self.body:  # gunicorn's loop: only the opening comes this way
                self.server_end.sendall(mjpegstream.chunk(item) if chunked else item)
        except OSError as error:
            self.ended = error
        finally:
            self.body.close()

    def read_exactly(self, count):
        while len(self.buf) < count:
            data = self.client_end.recv(1 << 20)
            assert data, "the stream ended"
            self.buf += data
        data, self.buf = self.buf[:count], self.buf[count:]
        return data

    def read_line(self):
        while b"\r\n" not in self.buf:
            data = self.client_end.recv(1 << 20)
            assert data, "the stream ended"
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def chunk(self):
        size = int(self.read_line(), 16)
        data = self.read_exactly(size)
        assert self.read_exactly(2) == b"\r\n"
        return data

    def part(self, chunked=True):
        """The next part's JPEG, checking its framing on the way: in chunked mode, one part is one chunk."""
        if not chunked:
            head = b"\r\n".join(self.read_line() for _ in range(4)) + b"\r\n"
            length = int(head.split(b"\r\n")[1].split(b": ")[1])
            raw = head + self.read_exactly(length + 2 + len(mjpegstream.OPENING))
        else:
            raw = self.chunk()
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"Content-Type: image/jpeg" and lines[2].startswith(b"X-Timestamp: ")
        length = int(lines[1].split(b": ")[1])
        assert rest[length:] == b"\r\n" + mjpegstream.OPENING
        return rest[:length]

    def close(self):
        self.client_end.close()
        self.serving.join(timeout=20)
        self.server_end.close()


def handler_for(store, log, **settings):
    return StreamHandler(store, load({key.upper(): str(value) for key, value in settings.items()}), log)


def test_each_part_is_one_chunk_with_the_frame_untouched_for_every_client(log):
    store = FrameStore()
    handler = handler_for(store, log)
    clients = [Client(handler) for _ in range(3)]
    for client in clients:
        assert client.statuses == ["200 OK"]
        assert client.chunk() == mjpegstream.OPENING
        assert client.part() == NO_SIGNAL_JPEG
    assert handler.clients == 3
    frame = store.publish(make_frame(1))
    for client in clients:
        assert client.part() == frame.data
    for client in clients:
        client.close()
    assert handler.clients == 0


def test_an_http_1_0_client_gets_the_parts_without_chunks(log):
    store = FrameStore()
    store.publish(make_frame(1))
    client = Client(handler_for(store, log), protocol="HTTP/1.0")
    assert client.read_exactly(len(mjpegstream.OPENING)) == mjpegstream.OPENING
    assert frame_number(client.part(chunked=False)) == 1
    client.close()


@pytest.mark.parametrize("tcp, bound", [(True, SEND_BUFFER), (False, UNIX_SEND_BUFFER)], ids=["tcp", "nginx's unix"])
def test_the_send_buffer_is_bounded(log, tcp, bound):
    client = Client(handler_for(FrameStore(), log), tcp=tcp)
    client.chunk()
    # Linux doubles what it is asked for, for its own bookkeeping, and never autotunes it again.
    assert bound <= client.server_end.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) <= 2 * bound
    client.close()


class FailingOnceStore(FrameStore):
    """A frame store (the handler's input) that fails once when asked a frame's age (for the second
    part, a repeat), the way an unexpected bug would."""

    def __init__(self):
        super().__init__()
        self.asked = 0

    def age(self, frame):
        self.asked += 1
        if self.asked == 2:
            raise ValueError("a bug behind the store")
        return super().age(frame)


def test_an_unexpected_error_is_logged_with_its_traceback_and_the_stream_goes_on(log, caplog):
    store = FailingOnceStore()
    store.publish(make_frame(1))
    client = Client(handler_for(store, log, stream_keepalive=0.05))
    assert client.chunk() == mjpegstream.OPENING
    assert frame_number(client.part()) == 1
    gevent.sleep(0.3)
    store.publish(make_frame(2))
    while (number := frame_number(client.part())) == 1:
        pass
    assert number == 2
    assert client.ended is None
    failed = [record for record in caplog.records if "failed" in record.getMessage()]
    assert [record.getMessage() for record in failed] == ["stream to 192.0.2.7: making the next part failed; trying again"]
    assert failed[0].exc_info[0] is ValueError
    client.close()


def test_a_client_that_accepts_nothing_is_dropped_after_the_idle_timeout(log, caplog):
    store = FrameStore()
    store.publish(make_frame(1, pad=200000))
    handler = handler_for(store, log, stream_idle_timeout=0.5, stream_keepalive=0.05)
    client = Client(handler)
    client.serving.join(timeout=20)
    assert isinstance(client.ended, BrokenPipeError)
    assert handler.clients == 0
    assert "stream client 192.0.2.7 dropped: it accepted no data for 0.5 s" in caplog.text
    client.close()


def test_a_client_that_hangs_up_ends_its_stream_at_once(log):
    store = FrameStore()
    store.publish(make_frame(1))
    handler = handler_for(store, log, stream_keepalive=60)
    client = Client(handler)
    client.chunk()
    client.part()
    client.client_end.shutdown(socket.SHUT_WR)  # no write is due for a minute
    client.serving.join(timeout=20)
    assert str(client.ended) == "[Errno 32] stream client hung up"
    assert handler.clients == 0
    client.close()


def test_a_part_larger_than_the_socket_takes_at_once_arrives_whole_then_the_next(log):
    store = FrameStore()
    store.publish(make_frame(1))
    client = Client(handler_for(store, log, stream_keepalive=60))
    assert client.chunk() == mjpegstream.OPENING
    assert frame_number(client.part()) == 1
    gevent.sleep(0.05)  # the client waits for a newer frame
    big = store.publish(make_frame(2, pad=1500000))  # far more than the send buffer: begun, then finished
    assert client.part() == big.data
    following = store.publish(make_frame(3))
    assert client.part() == following.data
    client.close()


def test_a_frame_no_part_can_be_made_of_is_logged_and_the_stream_goes_on_with_the_next(log, caplog):
    store = FrameStore()
    store.publish(make_frame(1))
    client = Client(handler_for(store, log, stream_keepalive=0.05))
    assert client.chunk() == mjpegstream.OPENING
    assert frame_number(client.part()) == 1
    gevent.sleep(0.02)  # parked: the feed reader's greenlet writes the next part itself
    store.publish("not a JPEG's bytes")  # what a bug upstream might hand over
    gevent.sleep(0.2)
    good = store.publish(make_frame(2))
    while (data := client.part()) != good.data:
        assert frame_number(data) == 1  # at most the last good picture again, never a broken part
    assert client.ended is None
    failed = [record for record in caplog.records if "failed" in record.getMessage()]
    assert failed[0].getMessage() == "stream to the parked clients: making the next part failed; trying again"
    assert failed[0].exc_info[0] is TypeError
    client.close()
