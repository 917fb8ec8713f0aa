"""Walk a JPEG's marker segments without decoding it.

A JPEG is SOI, then length-prefixed segments (APPn, DQT, SOFn, DHT, COM, ...), then SOS and
entropy-coded data, then EOI. Everything here reads only the header segments, so it is cheap
and never touches the image data.
"""

from typing import Iterator, NamedTuple, Optional, Tuple

SOI = b"\xff\xd8"
EOI = b"\xff\xd9"
SOS = 0xDA
COM = 0xFE
# SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, with no length field.
STANDALONE = frozenset([0x01, *range(0xD0, 0xD8)])
# The synthetic camera starts a COM segment with this, so a test pattern is never taken for the printer.
SYNTHETIC_MARK = b"synthetic-camera"


class Segment(NamedTuple):
    marker: int
    start: int  # offset of the payload, just after the two length bytes
    end: int  # offset just past the payload


def header_segments(data: bytes, pos: int = 2) -> Iterator[Segment]:
    """Yield the segments from `pos` (just after SOI) up to and including SOS.

    Stops quietly where the data ends or stops looking like a JPEG header;
    callers decide what a short walk means.
    """
    size = len(data)
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in STANDALONE:
            pos += 2
            continue
        if marker in (0xD8, 0xD9, 0x00):
            return
        length = (data[pos + 2] << 8) | data[pos + 3]
        if length < 2 or pos + 2 + length > size:
            return
        yield Segment(marker, pos + 4, pos + 2 + length)
        if marker == SOS:
            return
        pos += 2 + length


def has_complete_header(data: bytes) -> bool:
    """True when the data starts with SOI and its header segments run whole up to SOS."""
    if not data.startswith(SOI):
        return False
    return any(seg.marker == SOS for seg in header_segments(data))


def is_complete_jpeg(data: bytes) -> bool:
    """SOI, a whole header up to SOS, and EOI as the last two bytes."""
    return len(data) >= 4 and data.endswith(EOI) and has_complete_header(data)


def dimensions(data: bytes) -> Optional[Tuple[int, int]]:
    """(width, height) from the SOF segment, or None when there is none."""
    if not data.startswith(SOI):
        return None
    for seg in header_segments(data):
        if seg.marker in SOF_MARKERS and seg.end - seg.start >= 5:
            height = (data[seg.start + 1] << 8) | data[seg.start + 2]
            width = (data[seg.start + 3] << 8) | data[seg.start + 4]
            return width, height
    return None


def comments(data: bytes) -> list:
    """The payloads of the COM segments in the header, in order."""
    if not data.startswith(SOI):
        return []
    return [bytes(data[s.start:s.end]) for s in header_segments(data) if s.marker == COM]


def with_comment(data: bytes, text: bytes) -> bytes:
    """The same JPEG with a COM segment holding `text` inserted right after SOI."""
    if not data.startswith(SOI):
        raise ValueError("not a JPEG: no SOI at the start")
    if len(text) > 0xFFFF - 2:
        raise ValueError("a JPEG comment holds at most 65533 bytes")
    length = len(text) + 2
    return SOI + bytes((0xFF, COM, length >> 8, length & 0xFF)) + text + data[2:]


def is_synthetic(data: bytes) -> bool:
    """True when the frame carries the synthetic camera's COM mark."""
    return any(text.startswith(SYNTHETIC_MARK) for text in comments(data))
