import io
import random

import pytest
from PIL import Image

from jpegframes.markers import comments, dimensions, is_synthetic
from jpegframes.splitter import FrameSplitter
from synthcam.pattern import ROW, Pattern, encode_rows, join_rows

T = 1_700_000_000.25


def noisy(size, seed=0):
    width, height = size
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(width * height * 3))


def whole(image, quality):
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, subsampling=2, restart_marker_rows=1)
    return out.getvalue()


def decode(frame):
    image = Image.open(io.BytesIO(frame))
    image.load()
    return image


@pytest.mark.parametrize("size, quality", [((64, 48), 80), ((100, 37), 30), ((16, 16), 95), ((333, 70), 60)])
def test_rows_joined_again_give_the_whole_picture_coded_at_once(size, quality):
    image = noisy(size)
    header, rows = encode_rows(image, quality)
    assert len(rows) == -(-size[1] // ROW)
    assert join_rows(header, rows) == whole(image, quality)


@pytest.mark.parametrize("height", [64, 70])
def test_each_row_is_coded_on_its_own(height):
    # What the pattern relies on: a strip of rows coded alone gives those rows' bytes in the whole.
    image = noisy((120, height), seed=1)
    _, rows = encode_rows(image, 75)
    _, middle = encode_rows(image.crop((0, ROW, 120, 3 * ROW)), 75)
    _, last = encode_rows(image.crop((0, 3 * ROW, 120, height)), 75)
    assert middle == rows[1:3]
    assert last == rows[3:]


@pytest.mark.parametrize("size", [(1280, 720), (320, 240), (16, 16), (100, 37), (4096, 16), (16, 200)])
def test_frames_are_valid_jpegs_of_the_configured_size(size):
    pattern = Pattern(*size, quality=80)
    for number in (1, 2, 99):
        frame = pattern.frame(number, T + number)
        assert dimensions(frame) == size
        assert decode(frame).size == size


def test_each_frame_carries_the_synthetic_mark_with_its_camera_number_and_time():
    frame = Pattern(320, 240, 70, camera=3, name="Bed").frame(123, T)
    assert is_synthetic(frame)
    assert comments(frame) == [b"synthetic-camera frame=123 t=1700000000.250000 camera=3"]


def label(frame):
    return decode(frame).crop((0, 0, 320, 2 * ROW)).convert("L")


def test_the_top_shows_the_cameras_number_and_name_so_cameras_can_be_told_apart():
    first = label(Pattern(320, 240, 90, camera=1, name="Nozzle").frame(1, T))
    assert sum(1 for level in first.getdata() if level > 128) > 200  # white text on the dark strip
    assert label(Pattern(320, 240, 90, camera=2, name="Nozzle").frame(1, T)).tobytes() != first.tobytes()
    assert label(Pattern(320, 240, 90, camera=1, name="Bed").frame(1, T)).tobytes() != first.tobytes()
    assert label(Pattern(320, 240, 90, camera=1, name="Nozzle").frame(9, T + 5)).tobytes() == first.tobytes()


def test_frames_survive_the_frame_splitter_whole():
    pattern = Pattern(200, 120, 85)
    frames = [pattern.frame(n, T + n / 15) for n in range(1, 6)]
    splitter = FrameSplitter()
    data = b"".join(frames)
    out = []
    for start in range(0, len(data), 1000):
        out += splitter.feed(data[start:start + 1000])
    assert out == frames


def bar_row(image):
    """The 16-pixel row where the bar is: near white at the right edge, where the still bar is blue."""
    rows = [y // ROW for y in range(image.height) if min(image.getpixel((image.width - 2, y))) > 200]
    assert rows, "no bar in the picture"
    return rows[len(rows) // 2]


def test_the_bar_moves_down_one_row_per_frame_and_wraps():
    pattern = Pattern(320, 240, 90)  # 15 rows: 2 for the label, 10 for the bar, 3 for the text band
    rows = [bar_row(decode(pattern.frame(number, T))) for number in range(1, 14)]
    assert rows == [3, 4, 5, 6, 7, 8, 9, 10, 11, 2, 3, 4, 5]


def band(frame):
    image = decode(frame)
    return image.crop((0, image.height - 3 * ROW, image.width, image.height)).convert("L")


def test_the_text_band_shows_the_number_and_the_time():
    pattern = Pattern(320, 240, 90)
    first = band(pattern.frame(1, T))
    assert sum(1 for level in first.getdata() if level > 128) > 500  # white text on the dark band
    assert band(pattern.frame(2, T)).tobytes() != first.tobytes()  # another number
    assert band(pattern.frame(1, T + 1)).tobytes() != first.tobytes()  # another second
    assert band(pattern.frame(1, T + 0.5)).tobytes() == first.tobytes()  # same second, same number


def test_the_still_part_does_not_change_between_frames():
    pattern = Pattern(320, 240, 90)
    a, b = decode(pattern.frame(1, T)), decode(pattern.frame(5, T + 7))
    for row in (0, 1, 5, 9, 10):  # away from the bar in each (rows 3 and 7) and the band's edge
        box = (0, row * ROW, 320, (row + 1) * ROW)
        assert a.crop(box).tobytes() == b.crop(box).tobytes(), row
