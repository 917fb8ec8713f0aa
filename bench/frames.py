"""The bench's pictures: real JPEGs made once with Pillow, and the stamp each sent frame carries.

A stamp is a COM segment right after SOI, `bench-frame <number> <send time, epoch ns>`. The
frame server relays frames byte for byte, so a client reads from a part's first bytes which
frame it got and when the feed sent it.
"""

import io
import re
from pathlib import Path
from typing import List, Optional, Tuple

from jpegframes.markers import with_comment

QUALITY = 80
VARIANTS = 8  # distinct pictures, sent in turn
STAMP = b"bench-frame "
HEAD_BYTES = 64  # a stamped frame's first bytes hold the whole stamp
_STAMPED = re.compile(rb"\xff\xd8\xff\xfe..bench-frame (\d+) (\d+)", re.DOTALL)


def size_of(text: str) -> Tuple[int, int]:
    """(width, height) from `1280x720`; ValueError if it is not that form."""
    width, sep, height = text.partition("x")
    if not (sep and width.isdigit() and height.isdigit() and 16 <= int(width) <= 8192 and 16 <= int(height) <= 8192):
        raise ValueError(f"{text!r} is not a picture size such as 1280x720")
    return int(width), int(height)


def pictures(width: int, height: int, cache: Path) -> List[bytes]:
    """VARIANTS JPEGs of a busy scene at quality 80; made on first use, then read from `cache`."""
    paths = [cache / f"scene-{width}x{height}-q{QUALITY}-{n}.jpg" for n in range(VARIANTS)]
    if not all(path.exists() for path in paths):
        cache.mkdir(parents=True, exist_ok=True)
        for n, path in enumerate(paths):
            out = io.BytesIO()
            _scene(width, height, n).save(out, "JPEG", quality=QUALITY)
            path.with_suffix(".tmp").write_bytes(out.getvalue())
            path.with_suffix(".tmp").replace(path)
    return [path.read_bytes() for path in paths]


def _scene(width: int, height: int, variant: int):
    """Gradients, fractal detail, outlined boxes with text and sensor-like noise: sized like a camera's frames."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    base = Image.merge("RGB", (
        Image.linear_gradient("L").resize((width, height)),
        Image.radial_gradient("L").resize((width, height)),
        Image.linear_gradient("L").rotate(90).resize((width, height)),
    ))
    detail = Image.effect_mandelbrot((width, height), (-2.1 + 0.05 * variant, -1.2, 0.9, 1.2), 120).convert("RGB")
    image = Image.blend(base, detail, 0.4)
    draw = ImageDraw.Draw(image)
    for i in range(40):
        x, y = (i * 97 + variant * 13) % width, (i * 53) % height
        draw.rectangle((x, y, x + width // 12, y + height // 20), outline=(200, 40 + i * 5 % 200, 30), width=3)
        draw.text((x + 4, y + 4), f"layer {i} T={200 + i}C", fill=(255, 255, 255))
    image = image.filter(ImageFilter.GaussianBlur(1))
    noise = Image.effect_noise((width, height), 5).convert("RGB")
    return ImageChops.add(image, noise, scale=1.0, offset=-128)


def stamp(jpeg: bytes, number: int, sent_ns: int) -> bytes:
    return with_comment(jpeg, b"%s%d %d" % (STAMP, number, sent_ns))


def read_stamp(head: bytes) -> Optional[Tuple[int, int]]:
    """(frame number, send time in ns) from a stamped frame's first HEAD_BYTES bytes; None for any other picture."""
    found = _STAMPED.match(head)
    return (int(found[1]), int(found[2])) if found else None
