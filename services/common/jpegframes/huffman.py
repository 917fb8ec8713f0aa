"""Give a JPEG without Huffman tables the standard ones, as a UVC webcam's MJPEG frames need.

Many UVC cameras send "Motion-JPEG" frames with no DHT segment: the AVI MJPEG format leaves out
the tables and lets the decoder assume those of the JPEG standard (ITU T.81 Annex K.3), which is
what such cameras code with. Browsers built on libjpeg guess them, Safari/iOS and others do not.
Inserting the standard tables before SOS makes each frame a baseline JPEG every decoder reads;
the coded data is untouched, so the pixels are the camera's own.
"""

from jpegframes.markers import SOS, header_segments

DHT = 0xC4


def _table(table_class: int, table_id: int, counts: bytes, values: bytes) -> bytes:
    assert len(counts) == 16 and sum(counts) == len(values)
    return bytes((table_class << 4 | table_id,)) + counts + values


_DC_VALUES = bytes(range(12))
_AC_LUMINANCE_VALUES = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f0"
    "2433627282090a161718191a25262728292a3435363738393a434445464748494a"
    "535455565758595a636465666768696a737475767778797a838485868788898a"
    "92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6"
    "c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa")
_AC_CHROMINANCE_VALUES = bytes.fromhex(
    "000102031104052131061241510761711322328108144291a1b1c109233352f0"
    "156272d10a162434e125f11718191a262728292a35363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a828384858687"
    "88898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3"
    "c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa")

# One DHT segment holding the four tables of Annex K.3: DC and AC for luminance (id 0) and
# chrominance (id 1).
_TABLES = b"".join((
    _table(0, 0, bytes((0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)), _DC_VALUES),
    _table(1, 0, bytes((0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D)), _AC_LUMINANCE_VALUES),
    _table(0, 1, bytes((0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0)), _DC_VALUES),
    _table(1, 1, bytes((0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77)), _AC_CHROMINANCE_VALUES),
))
STANDARD_DHT = bytes((0xFF, DHT, (len(_TABLES) + 2) >> 8, (len(_TABLES) + 2) & 0xFF)) + _TABLES


def has_huffman_tables(frame: bytes) -> bool:
    """True when a DHT segment comes before the frame's SOS."""
    return any(segment.marker == DHT for segment in header_segments(frame))


def with_huffman_tables(frame: bytes) -> bytes:
    """`frame` itself when its header has a DHT segment (or no SOS to put one before); else the
    same JPEG with the standard tables inserted just before SOS."""
    for segment in header_segments(frame):
        if segment.marker == DHT:
            return frame
        if segment.marker == SOS:
            at = segment.start - 4  # the SOS marker and its length
            return frame[:at] + STANDARD_DHT + frame[at:]
    return frame
