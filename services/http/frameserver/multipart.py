"""The bytes of a multipart/x-mixed-replace MJPEG stream."""

from .responses import stamp

BOUNDARY = "frameserver-mjpeg-boundary"
CONTENT_TYPE = "multipart/x-mixed-replace; boundary=" + BOUNDARY
OPENING = b"--" + BOUNDARY.encode() + b"\r\n"
# Each part ends with the next part's boundary line, so a client that waits for it (Firefox) shows the
# part at once. Chromium waits for the next part's headers as well: see stream.REPAINT.
_CLOSING = b"\r\n" + OPENING


def part(jpeg: bytes, timestamp: float) -> bytes:
    """One part: headers, the JPEG as is, and the boundary line that completes it."""
    head = ("Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Timestamp: %s\r\n\r\n"
            % (len(jpeg), stamp(timestamp))).encode()
    return b"".join((head, jpeg, _CLOSING))
