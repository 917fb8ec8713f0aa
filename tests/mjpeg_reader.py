"""Reads a multipart/x-mixed-replace MJPEG stream part by part, as a test client."""

from typing import BinaryIO, Dict, Iterator, Tuple


def boundary_of(content_type: str) -> bytes:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip('"').encode()
    raise ValueError(f"no boundary in {content_type!r}")


def read_parts(stream: BinaryIO, boundary: bytes) -> Iterator[Tuple[Dict[str, str], bytes]]:
    """Yield (headers, body) for each part; bodies are read by their Content-Length."""
    marker = b"--" + boundary
    while True:
        line = stream.readline()
        if not line:
            return
        if line.strip() != marker:
            continue
        headers = {}
        while True:
            line = stream.readline()
            if not line:
                return
            if line in (b"\r\n", b"\n"):
                break
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        body = stream.read(length)
        if len(body) < length:
            return
        yield headers, body
