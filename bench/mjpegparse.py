"""Reads an HTTP response carrying multipart/x-mixed-replace MJPEG incrementally, at little cost per byte.

Bytes are handed over as ranges of the caller's receive buffer. Only the small pieces (the
response head, chunk-size lines, part headers and the first bytes of each part) are copied;
the rest of a part is skipped by its Content-Length. Handles chunked and plain bodies, and
any split of the data into reads.
"""

import re
from typing import Callable, Optional

MAX_HEAD = 16384
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$")
_X_TIMESTAMP = re.compile(rb"(?im)^x-timestamp:[ \t]*(\d+(?:\.\d*)?)[ \t]*\r?$")
_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3})")
_BOUNDARY = re.compile(rb'(?i)boundary="?([^";\r\n]+)')


class StreamError(ValueError):
    """The response is not a well-formed MJPEG stream."""


class MjpegResponse:
    """Feed it a response's bytes with feed(buf, start, end); on_part(first bytes, X-Timestamp) is called as each
    part ends, the X-Timestamp header's value in epoch seconds, None when the part has none.

    `keep` is how many of a part's first bytes on_part gets. `status` is set once the response
    head is read; `ended` once a chunked body has ended, or at once for a status other than 200.
    """

    def __init__(self, on_part: Callable[[bytes, Optional[float]], None], keep: int = 64):
        self.status: Optional[int] = None
        self.ended = False
        self.parts = 0
        self._on_part = on_part
        self._keep = keep
        self._head = bytearray()  # the response head, then each part's headers, while they come in
        self._in_head = True
        self._chunked = False
        self._marker = b""
        self._chunk_left = 0
        self._line = bytearray()
        self._body_left = 0
        self._first = bytearray()
        self._stamp: Optional[float] = None

    def feed(self, buf, start: int, end: int) -> None:
        if self._in_head:
            start = self._response_head(buf, start, end)
            if start < 0:
                return
        if self.ended:
            return
        if self._chunked:
            self._dechunk(buf, start, end)
        else:
            self._multipart(buf, start, end)

    def _take_head(self, buf, start: int, end: int) -> int:
        """Add to _head up to its blank line; the offset just past that line, or -1 when it has not come yet."""
        head = self._head
        while start < end:
            old = len(head)
            take = min(end - start, 512)
            head += buf[start:start + take]
            found = head.find(b"\r\n\r\n", max(0, old - 3))
            if found >= 0:
                del head[found:]
                return start + found + 4 - old
            if len(head) > MAX_HEAD:
                raise StreamError(f"no end of headers within {MAX_HEAD} bytes")
            start += take
        return -1

    def _response_head(self, buf, start: int, end: int) -> int:
        pos = self._take_head(buf, start, end)
        if pos < 0:
            return -1
        head = bytes(self._head)
        self._head.clear()
        self._in_head = False
        status = _STATUS.match(head)
        if not status:
            raise StreamError(f"not an HTTP response: {head[:40]!r}")
        self.status = int(status[1])
        lowered = head.lower()
        self._chunked = b"transfer-encoding: chunked" in lowered
        if self.status != 200:
            self.ended = True  # an error page, not a stream
            return pos
        boundary = _BOUNDARY.search(head)
        if not boundary or b"multipart/x-mixed-replace" not in lowered:
            raise StreamError("the response is not multipart/x-mixed-replace")
        self._marker = b"--" + boundary[1]
        return pos

    def _dechunk(self, buf, pos: int, end: int) -> None:
        while pos < end and not self.ended:
            if self._chunk_left:
                take = min(self._chunk_left, end - pos)
                self._multipart(buf, pos, pos + take)
                pos += take
                self._chunk_left -= take
                continue
            newline = buf.find(b"\n", pos, end)
            if newline < 0:
                self._line += buf[pos:end]
                if len(self._line) > 1024:
                    raise StreamError("a chunk-size line is too long")
                return
            self._line += buf[pos:newline]
            pos = newline + 1
            line = self._line.strip()
            self._line.clear()
            if not line:  # the CRLF that ends a chunk's data
                continue
            try:
                size = int(line.split(b";")[0], 16)
            except ValueError:
                raise StreamError(f"bad chunk size {bytes(line[:20])!r}") from None
            if size == 0:
                self.ended = True
            self._chunk_left = size

    def _multipart(self, buf, pos: int, end: int) -> None:
        first = self._first
        while pos < end:
            if self._body_left:
                take = min(self._body_left, end - pos)
                need = self._keep - len(first)
                if need > 0:
                    first += buf[pos:pos + min(need, take)]
                pos += take
                self._body_left -= take
                if not self._body_left:
                    self._part_done()
                continue
            after = self._take_head(buf, pos, end)
            if after < 0:
                return
            pos = after
            head = bytes(self._head)
            self._head.clear()
            if self._marker not in head:
                raise StreamError(f"a part does not start with its boundary: {head[:60]!r}")
            length = _CONTENT_LENGTH.search(head)
            if not length:
                raise StreamError(f"a part has no Content-Length: {head[:120]!r}")
            self._body_left = int(length[1])
            stamp = _X_TIMESTAMP.search(head)
            self._stamp = float(stamp[1]) if stamp else None
            if not self._body_left:
                self._part_done()

    def _part_done(self) -> None:
        self.parts += 1
        first = bytes(self._first)
        self._first.clear()
        self._on_part(first, self._stamp)
