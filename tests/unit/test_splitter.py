import io
import random
import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from jpegframes.markers import EOI, SOI, SOS, header_segments, with_comment
from jpegframes.splitter import FrameSplitter


def jpeg(size, quality, seed=0, **options):
    """A real JPEG of a gradient with some noise in it, so the coded data holds stuffed FF 00."""
    width, height = size
    noise = Image.frombytes("RGB", size, random.Random(seed).randbytes(width * height * 3))
    image = Image.blend(Image.linear_gradient("L").resize(size).convert("RGB"), noise, 0.3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, **options)
    return out.getvalue()


def exif_with_thumbnail(thumbnail):
    """An APP1 EXIF payload whose IFD1 carries `thumbnail`, as cameras write it."""
    ifd0 = struct.pack("<HI", 0, 14)  # no entries; IFD1 follows at offset 14
    data_at = 14 + 2 + 2 * 12 + 4
    ifd1 = struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, data_at)
    ifd1 += struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail)) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1 + thumbnail


def with_fill_bytes(frame):
    """The same JPEG with fill bytes (FF) before its DQT, SOS and EOI markers."""
    out, pos = bytearray(), 0
    for segment in header_segments(frame):
        marker_at = segment.start - 4
        if frame[marker_at + 1] in (0xDB, SOS):
            out += frame[pos:marker_at] + b"\xff\xff\xff"
            pos = marker_at
    out += frame[pos:-2] + b"\xff\xff" + frame[-2:]
    return bytes(out)


def sos_end(frame):
    return next(s.end for s in header_segments(frame) if s.marker == SOS)


THUMBNAIL = jpeg((32, 24), 60, seed=9)
FRAMES = {
    "tiny": jpeg((16, 16), 95),
    "plain": jpeg((64, 48), 75),
    "noisy": jpeg((160, 120), 92, seed=1),
    "lowq": jpeg((96, 64), 8, seed=2),
    "rst_blocks": jpeg((64, 48), 80, seed=3, restart_marker_blocks=1),
    "rst_rows": jpeg((80, 64), 60, seed=4, restart_marker_rows=1),
    "progressive": jpeg((64, 48), 70, seed=5, progressive=True),
    "exif": jpeg((96, 72), 85, seed=6, exif=exif_with_thumbnail(THUMBNAIL)),
    "fill": with_fill_bytes(jpeg((48, 48), 50, seed=7)),
}
NAMES = sorted(FRAMES)


def split_all(data, chunk_size=None, max_frame_bytes=8 * 1024 * 1024):
    splitter = FrameSplitter(max_frame_bytes)
    size = chunk_size or max(1, len(data))
    frames = []
    for start in range(0, len(data), size):
        frames += splitter.feed(data[start:start + size])
    return frames, splitter


def test_the_sample_frames_are_valid_jpegs_with_the_features_under_test():
    for frame in FRAMES.values():
        Image.open(io.BytesIO(frame)).load()
    exif = FRAMES["exif"]
    assert exif.count(SOI) == 2 and exif.find(EOI) < len(exif) - 2  # a naive EOI search cuts it short
    assert THUMBNAIL in exif
    for name in ("rst_blocks", "rst_rows"):
        assert any(bytes((0xFF, m)) in FRAMES[name][sos_end(FRAMES[name]):] for m in range(0xD0, 0xD8))
    assert b"\xff\xff\xff\xdb" in FRAMES["fill"] and FRAMES["fill"].endswith(b"\xff\xff\xff\xd9")
    assert FRAMES["progressive"].count(b"\xff\xda") > 1
    assert b"\xff\xff\xff" in FRAMES["lowq"][:sos_end(FRAMES["lowq"])]  # quantisation tables full of 255
    assert b"\xff\x00" in FRAMES["noisy"]


@pytest.mark.parametrize("name", NAMES)
def test_each_kind_of_frame_comes_out_whole(name):
    frame = FRAMES[name]
    frames, splitter = split_all(frame)
    assert frames == [frame]
    assert (splitter.dropped, splitter.discarded_bytes) == (0, 0)


def test_back_to_back_frames_come_out_in_order():
    stream = [FRAMES[name] for name in NAMES] * 2
    frames, splitter = split_all(b"".join(stream))
    assert frames == stream
    assert (splitter.dropped, splitter.discarded_bytes) == (0, 0)


def test_garbage_between_frames_is_skipped_and_counted():
    garbage = [b"HTTP/1.1 200 OK\r\n\r\n", b"\xff\xd9\xff", b"\x00" * 1000, b"\xff\xff\xff", b"\xd8\xd9\xda"]
    a, b = FRAMES["exif"], FRAMES["rst_rows"]
    data = garbage[0] + a + garbage[1] + b + garbage[2] + a + garbage[3] + b + garbage[4]
    for chunk_size in (None, 1, 7, 100):
        frames, splitter = split_all(data, chunk_size)
        assert frames == [a, b, a, b]
        splitter.reset()
        assert splitter.discarded_bytes == sum(map(len, garbage))
        assert splitter.dropped == 0


def test_a_stream_of_only_garbage_gives_nothing():
    frames, splitter = split_all(bytes(range(256)).replace(b"\xff", b"") * 100, 64)
    assert frames == []
    assert splitter.discarded_bytes == 255 * 100


@pytest.mark.parametrize("name", NAMES)
def test_a_frame_cut_short_in_its_coded_data_is_dropped_and_the_next_one_kept(name):
    cut, b, c = FRAMES[name], FRAMES["plain"], FRAMES["exif"]
    for end in range(sos_end(cut), len(cut) - 1):
        frames, splitter = split_all(cut[:end] + b + c)
        assert frames == [b, c], end
        assert splitter.dropped == 1


# Frames whose successor's own header has no long runs of FF (which look like fill bytes).
@pytest.mark.parametrize("cut_name", ["plain", "rst_rows", "noisy"])
@pytest.mark.parametrize("next_name", ["plain", "exif", "rst_blocks"])
def test_a_frame_cut_short_anywhere_in_its_header_is_dropped_and_the_next_one_kept(cut_name, next_name):
    cut, b, c = FRAMES[cut_name], FRAMES[next_name], FRAMES["tiny"]
    # A segment length cut in half can point up to 64 KiB on: what follows must arrive to show it.
    tail = bytes(70000)
    for end in range(2, sos_end(cut)):
        frames, splitter = split_all(cut[:end] + b + c + tail)
        assert frames == [b, c], end
        assert splitter.dropped == 1, end


def test_a_frame_cut_right_after_its_exif_block_is_dropped_and_the_next_one_kept():
    cut, b = FRAMES["exif"], FRAMES["plain"]
    app1_end = next(s.end for s in header_segments(cut) if s.marker == 0xE1)
    for end in (app1_end, app1_end + 1, sos_end(cut)):
        frames, splitter = split_all(cut[:end] + b + b)
        assert frames == [b, b], end
        assert splitter.dropped == 1


def test_a_frame_with_a_broken_header_is_dropped_and_the_next_one_kept():
    a, b = FRAMES["plain"], FRAMES["rst_rows"]
    broken = [SOI + b"\x00\x01\x02", SOI + b"\xff\xe0\x00\x01", SOI + b"\xff\xd9", SOI + b"\xff\xda\x00\x01" + a[4:]]
    for bad in broken:
        frames, splitter = split_all(bad + b + a)
        assert frames == [b, a], bad
        assert splitter.dropped == 1


def test_reset_forgets_the_partial_frame_and_counts_it():
    a, b = FRAMES["rst_rows"], FRAMES["exif"]
    for cut in (1, 40, sos_end(a) - 3, sos_end(a) + 10, len(a) - 1):
        splitter = FrameSplitter()
        assert splitter.feed(a[:cut]) == []
        splitter.reset()
        # The rest of the old frame arrives on the new connection: it is garbage now.
        assert splitter.feed(a[cut:] + b) == [b]
        assert splitter.dropped == (0 if cut == 1 else 1)
        assert splitter.feed(a) == [a]


def test_reset_between_frames_drops_nothing():
    splitter = FrameSplitter()
    assert splitter.feed(FRAMES["plain"] + b"\xff") == [FRAMES["plain"]]
    splitter.reset()
    assert (splitter.dropped, splitter.discarded_bytes) == (0, 1)
    assert splitter.feed(FRAMES["tiny"]) == [FRAMES["tiny"]]


@pytest.mark.parametrize("chunk_size", [None, 1, 10, 333])
def test_an_oversize_frame_is_dropped_and_the_next_one_kept(chunk_size):
    big, small = FRAMES["noisy"], FRAMES["plain"]
    padded = with_comment(small, b"x" * 3000)  # oversize while still in the header
    limit = 2000
    assert len(big) > limit and len(small) <= limit
    frames, splitter = split_all(small + big + small + padded + FRAMES["exif"] + small, chunk_size, limit)
    assert frames == [small, small, small]
    assert splitter.dropped == 3


def test_the_size_limit_is_inclusive():
    frame = FRAMES["exif"]
    assert split_all(frame, 100, len(frame))[0] == [frame]
    frames, splitter = split_all(frame, 100, len(frame) - 1)
    assert frames == [] and splitter.dropped == 1


def test_every_read_boundary_gives_the_same_frames():
    a, b = FRAMES["exif"], FRAMES["rst_rows"]
    data = b"\xff\x00junk\xff" + a + b"\xff\xd9" + b
    for cut in range(len(data) + 1):
        splitter = FrameSplitter()
        assert splitter.feed(data[:cut]) + splitter.feed(data[cut:]) == [a, b], cut
    frames, _ = split_all(data, 1)
    assert frames == [a, b]


def _peak_memory(chunks, limit):
    splitter = FrameSplitter(limit)
    tracemalloc.start()
    try:
        for chunk in chunks:
            assert splitter.feed(chunk) == []
        return tracemalloc.get_traced_memory()[1], splitter
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("stream", ["no SOI", "SOI then garbage", "coded data without end",
                                    "endless header", "fill bytes", "segment chain swallowing SOIs"])
def test_memory_stays_bounded_whatever_the_feed_sends(stream):
    chunk_size, limit, chunks = 16384, 64 * 1024, 24  # six times the limit
    noise = random.Random(1).randbytes(chunk_size).replace(b"\xff", b"\x7f")
    body = {
        "no SOI": noise,
        "SOI then garbage": noise,
        "coded data without end": noise,
        "endless header": b"\xff\xe1\x00\x06abcd" * (chunk_size // 8),
        "fill bytes": b"\xff" * chunk_size,
        "segment chain swallowing SOIs": b"\xff\xe0\x00\x04\xff\xd8" * (chunk_size // 6),
    }[stream]
    start = {"no SOI": b"", "coded data without end": SOI + b"\xff\xda\x00\x02"}.get(stream, SOI)
    peak, splitter = _peak_memory([start] + [body] * chunks, limit)
    assert peak < limit + 3 * chunk_size
    assert splitter.dropped <= 1 or stream == "segment chain swallowing SOIs"
    # And it still finds the next good frame.
    assert splitter.feed(bytes(70000) + FRAMES["plain"]) == [FRAMES["plain"]]


garbage = st.one_of(st.binary(max_size=300),
                    st.lists(st.sampled_from(b"\xff\xd8\xd9\xda\x00\xe1\x01"), max_size=40).map(bytes),
                    ).map(lambda g: g.replace(SOI, b"\xff\x00"))


@st.composite
def streams(draw):
    """(chunks, expected frames, frames cut short, garbage bytes) of a random stream."""
    parts, expected, cut, junk = [], [], 0, 0
    for _ in range(draw(st.integers(0, 6))):
        g = draw(garbage)
        parts.append(g)
        junk += len(g)
        if draw(st.booleans()):
            short = FRAMES[draw(st.sampled_from(NAMES))]
            parts.append(short[:draw(st.integers(sos_end(short), len(short) - 1))])
            cut += 1
        frame = FRAMES[draw(st.sampled_from(NAMES))]
        parts.append(frame)
        expected.append(frame)
    tail = draw(garbage)
    parts.append(tail)
    data = b"".join(parts)
    bounds = sorted(draw(st.lists(st.integers(0, len(data)), max_size=20)))
    chunks = [data[i:j] for i, j in zip([0] + bounds, bounds + [len(data)])]
    return chunks, expected, cut, junk + len(tail)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_random_garbage_frames_cuts_and_reads_give_exactly_the_good_frames(case):
    chunks, expected, cut, junk = case
    splitter = FrameSplitter()
    frames = []
    for chunk in chunks:
        frames += splitter.feed(chunk)
    assert frames == expected
    splitter.reset()
    assert splitter.dropped == cut
    assert splitter.discarded_bytes == junk


def test_max_frame_bytes_must_hold_a_jpeg():
    with pytest.raises(ValueError):
        FrameSplitter(3)
