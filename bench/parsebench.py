"""Frame extraction: MB/s of the frame server's FrameSplitter over a recorded feed, beside two bare scans.

The issue's ceiling is a bare bytes.find of the EOI marker. CPython's find of that two-byte
needle is slow on JPEG data, so a second, faster ceiling is shown too: find of the marker's
last byte (a memchr) and a look at the byte before it.
"""

import socket
import time

from frameserver.feedreader import READ_SIZE
from jpegframes.splitter import FrameSplitter

EOI = b"\xff\xd9"


def record(port: int, frames: int, timeout: float = 60.0) -> bytes:
    """The first `frames` whole frames a feed sends, exactly as they came off the socket."""
    data = bytearray()
    seen = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        while seen < frames:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError(f"the feed hung up after {seen} frames")
            seen += (data[-1:] + chunk[:1] == EOI) + chunk.count(EOI)
            data += chunk
    return bytes(data[:_end_of_frame(data, frames)])


def _end_of_frame(data: bytes, frames: int) -> int:
    pos = 0
    for _ in range(frames):
        pos = data.index(EOI, pos) + 2
    return pos


def splitter_pass(recording: bytes, chunk: int) -> tuple:
    """(seconds, frames) for one FrameSplitter over the recording, fed in reads of `chunk` bytes."""
    reads = [recording[i:i + chunk] for i in range(0, len(recording), chunk)]
    splitter = FrameSplitter()
    count = 0
    started = time.perf_counter()
    for read in reads:
        count += len(splitter.feed(read))
    return time.perf_counter() - started, count


def scan_pass(recording: bytes) -> tuple:
    """(seconds, frames) for the bare ceiling: bytes.find of every EOI over the whole recording at once."""
    find = recording.find
    count = 0
    started = time.perf_counter()
    pos = find(EOI)
    while pos >= 0:
        count += 1
        pos = find(EOI, pos + 2)
    return time.perf_counter() - started, count


def fast_scan_pass(recording: bytes) -> tuple:
    """(seconds, frames) for the faster ceiling: find of every D9, counted where an FF comes before it."""
    find = recording.find
    count = 0
    started = time.perf_counter()
    pos = find(b"\xd9", 1)
    while pos >= 0:
        if recording[pos - 1] == 0xFF:
            count += 1
        pos = find(b"\xd9", pos + 1)
    return time.perf_counter() - started, count


def measure(recording: bytes, rounds: int) -> dict:
    """Best of `rounds` for each; MB/s is 10^6 bytes per second; ratios are over the issue's ceiling (scan)."""
    megabytes = len(recording) / 1e6
    scan = min(scan_pass(recording) for _ in range(rounds))
    fast = min(fast_scan_pass(recording) for _ in range(rounds))
    result = {"megabytes": megabytes, "frames": scan[1], "scan_mb_s": megabytes / scan[0],
              "fast_scan_mb_s": megabytes / fast[0], "fast_scan_frames": fast[1], "splitter": []}
    for chunk in (READ_SIZE, 16 * 1024):
        seconds, count = min(splitter_pass(recording, chunk) for _ in range(rounds))
        result["splitter"].append({"read_bytes": chunk, "mb_s": megabytes / seconds, "frames": count,
                                   "ratio": scan[0] / seconds, "fast_ratio": fast[0] / seconds,
                                   "us_per_frame": seconds / count * 1e6})
    return result
