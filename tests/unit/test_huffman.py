"""jpegframes.huffman: a frame without Huffman tables, as UVC webcams send them, made decodable."""

import io

import pytest
from PIL import Image

from jpegframes.huffman import DHT, STANDARD_DHT, has_huffman_tables, with_huffman_tables
from jpegframes.markers import header_segments, is_complete_jpeg
from standins.uvc_capture import photo, without_dht


def pixels(frame):
    with Image.open(io.BytesIO(frame)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


@pytest.mark.parametrize("options", [{"subsampling": 2}, {"subsampling": 0}, {"subsampling": 1},
                                     {"subsampling": 2, "restart_marker_rows": 1}])
def test_a_frame_without_tables_decodes_to_the_original_pixels_once_they_are_inserted(options):
    original = photo(**options)
    stripped = without_dht(original)
    assert not has_huffman_tables(stripped)
    fixed = with_huffman_tables(stripped)
    assert has_huffman_tables(fixed) and is_complete_jpeg(fixed)
    assert len(fixed) == len(stripped) + len(STANDARD_DHT)
    # Inserted tables override any a decoder would assume, so a wrong table would show here.
    assert pixels(fixed) == pixels(original)


def test_a_greyscale_frame_uses_the_luminance_tables():
    original = photo()
    grey = io.BytesIO()
    Image.open(io.BytesIO(original)).convert("L").save(grey, "JPEG", quality=70)
    assert pixels(with_huffman_tables(without_dht(grey.getvalue()))) == pixels(grey.getvalue())


def test_the_tables_go_just_before_sos_and_nothing_else_moves():
    stripped = without_dht(photo())
    fixed = with_huffman_tables(stripped)
    markers = [segment.marker for segment in header_segments(fixed)]
    assert markers[-2:] == [DHT, 0xDA]
    assert fixed.replace(STANDARD_DHT, b"", 1) == stripped


def test_a_frame_with_its_own_tables_is_left_byte_for_byte():
    optimized = photo(optimize=True)  # its own, non-standard tables: replacing them would ruin it
    assert with_huffman_tables(optimized) is optimized


def test_bytes_without_a_whole_header_are_left_alone():
    header_only = photo()[:40]
    assert with_huffman_tables(header_only) is header_only
    assert with_huffman_tables(b"") == b""
