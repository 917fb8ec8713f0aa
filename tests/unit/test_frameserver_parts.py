"""The pieces a stream is made of: multipart framing, the no-signal picture, and ?fps=N."""

import io
import math

import pytest
from PIL import Image

from frameserver import multipart
from frameserver.nosignal import NO_SIGNAL_JPEG
from frameserver.stream import min_interval
from jpegframes.markers import dimensions, is_complete_jpeg


def test_no_signal_picture_is_a_valid_jpeg():
    assert is_complete_jpeg(NO_SIGNAL_JPEG)
    assert dimensions(NO_SIGNAL_JPEG) == (640, 360)
    image = Image.open(io.BytesIO(NO_SIGNAL_JPEG))
    image.load()  # decodes the whole picture, so a damaged file fails here
    assert (image.format, image.size) == ("JPEG", (640, 360))
    assert len(NO_SIGNAL_JPEG) < 64 * 1024


def test_a_part_is_headers_the_jpeg_untouched_and_the_next_boundary_line():
    jpeg = b"\xff\xd8 any bytes at all, even --frameserver \xff\xd9"
    part = multipart.part(jpeg, 1700000000.25)
    assert part == (b"Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Timestamp: 1700000000.250000\r\n\r\n"
                    % len(jpeg) + jpeg + b"\r\n--" + multipart.BOUNDARY.encode() + b"\r\n")


def test_the_stream_opens_with_the_boundary_named_in_its_content_type():
    assert multipart.CONTENT_TYPE == "multipart/x-mixed-replace; boundary=" + multipart.BOUNDARY
    assert multipart.OPENING == b"--" + multipart.BOUNDARY.encode() + b"\r\n"


@pytest.mark.parametrize("query, interval", [
    ("", 0.0),
    ("cacheBust=123", 0.0),
    ("fps=5", 0.2),
    ("fps=0.5", 2.0),
    ("fps=1000", 0.001),
    ("x=1&fps=10&y=2", 0.1),
    ("fps=abc&fps=4", 0.25),  # the last one counts
])
def test_fps_sets_the_least_time_between_parts(query, interval):
    assert math.isclose(min_interval(query), interval)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "", "nan", "inf", "1001", "1e9", "5fps"])
def test_a_bad_fps_is_one_line_naming_it(value):
    with pytest.raises(ValueError) as caught:
        min_interval("fps=" + value)
    message = str(caught.value)
    assert message.startswith(f"fps={value!r} is invalid: expected a number of frames per second")
    assert "\n" not in message


def test_a_long_bad_fps_is_cut_short_in_the_message():
    with pytest.raises(ValueError) as caught:
        min_interval("fps=" + "9" * 5000)
    assert len(str(caught.value)) < 200
