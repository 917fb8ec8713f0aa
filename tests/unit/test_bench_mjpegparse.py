"""bench/mjpegparse.py: each part's first bytes and X-Timestamp, however the response is split into reads."""

import pytest

from bench.mjpegparse import MjpegResponse, StreamError

HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=b0undary\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n")


def _part(body: bytes, stamp: bytes = b"") -> bytes:
    headers = b"Content-Type: image/jpeg\r\nContent-Length: %d\r\n" % len(body)
    if stamp:
        headers += b"X-Timestamp: " + stamp + b"\r\n"
    return b"--b0undary\r\n" + headers + b"\r\n" + body + b"\r\n"


def _chunked(*pieces: bytes) -> bytes:
    return b"".join(b"%X\r\n%s\r\n" % (len(piece), piece) for piece in pieces)


def _parse(data: bytes, read: int):
    got = []
    response = MjpegResponse(lambda first, stamp: got.append((first, stamp)), keep=4)
    buf = bytearray(data)
    for start in range(0, len(buf), read):
        response.feed(buf, start, min(len(buf), start + read))
    return response, got


@pytest.mark.parametrize("read", [1, 7, 4096])
def test_every_part_comes_with_its_first_bytes_and_its_x_timestamp(read):
    data = HEAD + _chunked(_part(b"\xff\xd8first", b"1700000000.250000"), _part(b"\xff\xd8other"),
                           _part(b"\xff\xd8third", b"1700000001.5"))
    response, got = _parse(data, read)
    assert response.status == 200 and response.parts == 3
    assert got == [(b"\xff\xd8fi", 1700000000.25), (b"\xff\xd8ot", None), (b"\xff\xd8th", 1700000001.5)]


def test_a_part_without_content_length_is_refused():
    data = HEAD + _chunked(b"--b0undary\r\nContent-Type: image/jpeg\r\n\r\nxx\r\n")
    with pytest.raises(StreamError):
        _parse(data, 4096)
