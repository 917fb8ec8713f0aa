"""Cut a byte stream of back-to-back JPEGs (as rpicam-vid writes them) into whole frames.

From each SOI the header is walked segment by segment using the length fields, so an APP1
carrying an EXIF thumbnail (its own SOI..EOI) stays inside its frame. After SOS, in the
entropy-coded data, FF is only ever followed by 00, a fill FF or RST0..7, so FF D9 is the EOI
and FF D8 means the frame was cut short and a new one began there.

Scan offsets survive between feed() calls, so a frame read in many small pieces costs no more
to find than one read whole, and the buffer never holds much more than max_frame_bytes plus
one read.
"""

import re

from jpegframes.markers import SOI, SOS, STANDALONE

# The only markers that matter inside entropy-coded data: SOI (cut short) and EOI (the end).
_SOI_OR_EOI = re.compile(rb"\xff[\xd8\xd9]")
_FILL = re.compile(rb"\xff+")

# How many SOIs inside one header are tried as the start of a frame that was cut short there.
# Real headers embed one or two JPEGs (an EXIF thumbnail, an MPF preview); the bound keeps a
# hostile header from costing more than a few walks.
_LOOK_BACK = 4

_SEEK, _HEADER, _ENTROPY = range(3)
_MORE, _BAD, _AT_SOS, _AT_SOI = range(4)


def _walk(buf, pos: int, size: int, resync: int):
    """Follow the header segments of buf[:size] from the marker at `pos`.

    Returns (outcome, pos, resync): _AT_SOS or _AT_SOI with pos at that marker, _BAD with pos
    where the header broke, or _MORE with pos where the data ran out; resync is the offset
    just after the marker of the last segment stepped over.
    """
    while pos + 2 <= size:
        if buf[pos] != 0xFF:
            return _BAD, pos, resync
        marker = buf[pos + 1]
        if marker == 0xFF:  # fill bytes: the last FF of the run starts the marker
            pos = _FILL.match(buf, pos, size).end() - 1
        elif marker in STANDALONE:
            pos += 2
        elif marker == SOS:
            return _AT_SOS, pos, resync
        elif marker == 0xD8:
            return _AT_SOI, pos, resync
        elif marker in (0xD9, 0x00):
            return _BAD, pos, resync
        elif pos + 4 > size:
            break
        else:
            length = (buf[pos + 2] << 8) | buf[pos + 3]
            if length < 2:
                return _BAD, pos, resync
            resync = pos + 2
            pos += 2 + length
    return _MORE, pos, resync


class FrameSplitter:
    """Feed it socket reads; it returns the complete frames, byte-for-byte, in order."""

    def __init__(self, max_frame_bytes: int = 8 * 1024 * 1024):
        if max_frame_bytes < 4:
            raise ValueError("max_frame_bytes must be at least 4")
        self.max_frame_bytes = max_frame_bytes
        self.dropped = 0  # frames dropped: oversize, cut short or with a broken header
        self.discarded_bytes = 0  # bytes skipped while looking for the next SOI
        self._buf = bytearray()
        self._state = _SEEK
        self._pos = 0  # next offset of _buf to look at; a frame being read starts at 0
        self._resync = 2  # where to look for the next SOI if this frame's header breaks
        self._skipping = False  # the frame is oversize: counted, and its bytes thrown away as read

    def reset(self) -> None:
        """Forget any partial frame (the connection dropped); a frame cut short counts as dropped."""
        if self._state == _SEEK:
            self.discarded_bytes += len(self._buf)
            self._start(_SEEK, len(self._buf))
        else:
            self._drop(_SEEK, len(self._buf))

    def feed(self, data: bytes) -> list[bytes]:
        """Append one read from the socket; return the frames it completed."""
        self._buf += data
        frames = []
        while True:
            if self._state == _SEEK:
                more = self._seek()
            elif self._state == _HEADER:
                more = self._header()
            else:
                more = self._entropy(frames)
            if not more:
                break
        if self._state != _SEEK:
            self._bound()
        return frames

    def _start(self, state: int, offset: int) -> None:
        """Throw away the bytes before `offset` and carry on in `state` from there."""
        del self._buf[:offset]
        self._state = state
        self._pos = 2 if state == _HEADER else 0
        self._resync = 2

    def _drop(self, state: int, offset: int) -> None:
        """The current frame is unusable: count it (once) and go on from `offset`."""
        if self._skipping:
            self._skipping = False
        else:
            self.dropped += 1
        self._start(state, offset)

    def _seek(self) -> bool:
        """Skip to the next SOI; False when there is none yet."""
        buf = self._buf
        found = buf.find(SOI)
        if found < 0:
            keep = 1 if buf[-1:] == b"\xff" else 0
            self.discarded_bytes += len(buf) - keep
            del buf[:len(buf) - keep]
            return False
        self.discarded_bytes += found
        self._start(_HEADER, found)
        return True

    def _header(self) -> bool:
        """Walk the header up to SOS; False when more data is needed."""
        buf = self._buf
        size = len(buf)
        outcome, pos, self._resync = _walk(buf, self._pos, size, self._resync)
        self._pos = pos
        if outcome == _MORE:
            return False
        if outcome == _AT_SOI:  # cut short, and the walk landed on the next frame
            self._drop(_HEADER, self._outermost(pos, self._resync))
            return True
        if outcome == _BAD:
            # Cut short or corrupt: a new frame may have begun inside the last segment.
            self._drop(_SEEK, self._resync)
            return True
        if pos + 4 > size:
            return False
        end = pos + 2 + ((buf[pos + 2] << 8) | buf[pos + 3])
        if end < pos + 4:
            self._drop(_SEEK, self._resync)
            return True
        if end > size:
            return False
        cut = self._cut_at(pos, end)
        if cut:
            self._drop(_HEADER, cut)
            return True
        # The scan starts on SOS's last byte (never FF) to catch an SOI that straddles its end.
        self._pos = end - 1
        self._state = _ENTROPY
        return True

    def _cut_at(self, sos: int, end: int) -> int:
        """Where a new frame begins inside this header, as when this one was cut short; else 0.

        A frame cut short inside a segment swallows the next frame's start: the segment's
        length then points into that frame, and the walk goes on through its header. So an
        SOI here whose own header walk meets this SOS is where a frame began. An SOS segment
        never holds an SOI.
        """
        buf = self._buf
        found = buf.find(SOI, sos + 2, end)
        if found >= 0:
            return found
        found = buf.rfind(SOI, 2, sos)
        for _ in range(_LOOK_BACK):
            if found < 0:
                break
            outcome, pos, _ = _walk(buf, found + 2, sos + 2, 0)
            if outcome == _AT_SOS and pos == sos:
                return self._outermost(found, 2)
            found = buf.rfind(SOI, 2, found)
        return 0

    def _outermost(self, start: int, low: int) -> int:
        """The frame start at `start`, or an earlier one from `low` on whose header holds it.

        The walk of a frame cut short can land on the SOI of the next frame's EXIF thumbnail.
        """
        buf = self._buf
        found = buf.rfind(SOI, low, start)
        for _ in range(_LOOK_BACK):
            if found < 0:
                break
            outcome, pos, _ = _walk(buf, found + 2, start, 0)
            if outcome == _MORE and pos > start:
                start = found
            found = buf.rfind(SOI, low, found)
        return start

    def _entropy(self, frames: list) -> bool:
        """Find the frame's end and emit it; False when more data is needed."""
        buf = self._buf
        found = _SOI_OR_EOI.search(buf, self._pos)
        if found is None:
            self._pos = max(self._pos, len(buf) - 1)
            return False
        if found[0] == SOI:
            self._drop(_HEADER, found.start())
            return True
        end = found.end()
        if self._skipping:
            self._skipping = False
        elif end > self.max_frame_bytes:
            self.dropped += 1
        else:
            with memoryview(buf) as view:
                frames.append(bytes(view[:end]))
        self._start(_SEEK, end)
        return True

    def _bound(self) -> None:
        """Keep an oversize frame from growing the buffer: count it and discard what was read."""
        buf = self._buf
        if not self._skipping:
            if len(buf) <= self.max_frame_bytes:
                return
            self.dropped += 1
            self._skipping = True
        cut = min(self._pos, len(buf))
        del buf[:cut]
        self._pos -= cut
        self._resync = 0
