"""What a UVC webcam's MJPEG stream looks like, made from real JPEGs: frames without Huffman tables
(the AVI MJPEG form most webcams send), and the ways a USB capture goes wrong (a frame cut short,
padding after a frame)."""

import io

from PIL import Image

from jpegframes.huffman import DHT
from jpegframes.markers import header_segments, with_comment

MARK = b"uvc-frame "


def photo(width=160, height=120, seed=0, **options) -> bytes:
    """A baseline JPEG of a busy picture, coded by libjpeg with the standard tables (no optimize)."""
    image = Image.effect_mandelbrot((width, height), (-2.0 + seed * 0.1, -1.2, 1.0, 1.2), 60).convert("RGB")
    noise = Image.effect_noise((width, height), 60).convert("RGB")
    out = io.BytesIO()
    Image.blend(image, noise, 0.3).save(out, "JPEG", quality=85, **options)
    return out.getvalue()


def without_dht(frame: bytes) -> bytes:
    """The same bytes with every DHT segment cut out, as a UVC camera sends its frames."""
    cuts = [(segment.start - 4, segment.end) for segment in header_segments(frame) if segment.marker == DHT]
    assert cuts, "the original has DHT segments"
    kept, at = [], 0
    for start, end in cuts:
        kept.append(frame[at:start])
        at = end
    return b"".join(kept) + frame[at:]


def webcam_frames(count: int, width=160, height=120):
    """`count` (original, as the webcam sends it) pairs; each frame's COM says `uvc-frame <n>`."""
    pairs = []
    for number in range(1, count + 1):
        original = with_comment(photo(width, height, seed=number), MARK + str(number).encode())
        pairs.append((original, without_dht(original)))
    return pairs
