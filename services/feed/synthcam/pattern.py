"""The synthetic camera's picture: its camera's number and name on top, colour bars, a bar moving
down them, the frame number and time.

Cheap enough for a Raspberry Pi: the picture is JPEG-coded with a restart marker after every
row of 16-pixel blocks, and each such row is coded on its own. So the still parts are drawn and
coded once, the moving bar is one pre-coded row put in another place each frame, and only the
text band at the bottom is drawn (from glyphs rendered once) and coded per frame. Splicing the
rows gives the same bytes as coding the whole picture.
"""

import io
import re
import time
from typing import List, Tuple

from PIL import Image, ImageDraw, ImageFont

from jpegframes.markers import EOI, SOS, SYNTHETIC_MARK, header_segments, with_comment

ROW = 16  # 4:2:0 chroma subsampling: the encoder codes the picture in rows 16 pixels high
_RESTART = re.compile(rb"\xff[\xd0-\xd7]")
_RST = [bytes((0xFF, 0xD0 + n)) for n in range(8)]
_BARS = ((192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192), (192, 0, 0), (0, 0, 192))
_BAND = (16, 16, 16)
_BAND_SHARE = 0.22  # of the picture's height, for the frame number and the time
_LABEL_SHARE = 0.1  # of the picture's height, for the camera's number and name
_WIDEST_LINE = "0000-00-00 00:00:00"
_CHARACTERS = "frame 0123456789-:"


def encode_rows(image: Image.Image, quality: int) -> Tuple[bytes, List[bytes]]:
    """JPEG-code `image`: (the header up to and including SOS, the coded data of each row)."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, subsampling=2, restart_marker_rows=1)
    data = out.getvalue()
    sos_end = next(seg.end for seg in header_segments(data) if seg.marker == SOS)
    return data[:sos_end], _RESTART.split(data[sos_end:-2])


def join_rows(header: bytes, rows: List[bytes]) -> bytes:
    """The JPEG made of `header` and the rows' coded data, with restart markers between them."""
    parts = [header]
    for index, row in enumerate(rows[:-1]):
        parts += (row, _RST[index % 8])
    parts += (rows[-1], EOI)
    return b"".join(parts)


class Pattern:
    """Frame after frame of the test pattern of camera `camera` called `name`, as JPEG bytes."""

    def __init__(self, width: int, height: int, quality: int, camera: int = 1, name: str = ""):
        rows = -(-height // ROW)
        band_rows = min(rows, max(1, round(rows * _BAND_SHARE)))
        label_rows = max(1, round(rows * _LABEL_SHARE)) if rows - band_rows >= 3 else 0
        self._bar_first = label_rows
        self._bar_rows = rows - band_rows - label_rows  # the bar sweeps the rows between label and band
        band_top = (label_rows + self._bar_rows) * ROW
        self._quality = quality
        self._camera = camera
        still = _still(width, height, band_top)
        if label_rows:
            _label(still, label_rows * ROW, f"camera {camera}: {name}" if name else f"camera {camera}")
        self._header, self._rows = encode_rows(still, quality)
        self._band = still.crop((0, band_top, width, height))
        bar = Image.linear_gradient("L").rotate(90).resize((width, ROW)).convert("RGB")
        self._bar = encode_rows(bar, quality)[1][0]
        font = _font(height - band_top, width)
        self._glyphs = {char: _glyph(font, char) for char in _CHARACTERS}
        _, top, _, bottom = font.getbbox("0")
        pitch = (bottom - top) * 7 // 5
        first = (height - band_top - pitch - (bottom - top)) // 2 - top
        self._tops = (first, first + pitch)
        self._left = (width - int(font.getlength(_WIDEST_LINE))) // 2

    def frame(self, number: int, wallclock: float) -> bytes:
        """Frame `number` showing the wall-clock time `wallclock` (epoch seconds)."""
        band = self._band.copy()
        now = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wallclock))
        for line, top in zip((f"frame {number}", now), self._tops):
            left = self._left
            for char in line:
                mask, advance = self._glyphs[char]
                band.paste((255, 255, 255), (int(left), top), mask)
                left += advance
        rows = self._rows[:self._bar_first + self._bar_rows] + encode_rows(band, self._quality)[1]
        if self._bar_rows:
            rows[self._bar_first + number % self._bar_rows] = self._bar
        mark = SYNTHETIC_MARK + b" frame=%d t=%.6f camera=%d" % (number, wallclock, self._camera)
        return join_rows(with_comment(self._header, mark), rows)


def _still(width: int, height: int, band_top: int) -> Image.Image:
    """Colour bars above a dark band."""
    image = Image.new("RGB", (width, height), _BAND)
    if band_top:
        draw = ImageDraw.Draw(image)
        for index, colour in enumerate(_BARS):
            left, right = index * width // len(_BARS), (index + 1) * width // len(_BARS)
            draw.rectangle((left, 0, right - 1, band_top - 1), fill=colour)
    return image


def _label(image: Image.Image, height: int, text: str) -> None:
    """`text` in white on a dark strip `height` pixels high across the top of `image`."""
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width - 1, height - 1), fill=_BAND)
    size = max(4, int(height * 0.7))
    font = ImageFont.load_default(size=size)
    while size > 4 and font.getlength(text) > image.width * 0.96:
        size = max(4, int(size * image.width * 0.96 / font.getlength(text)))
        font = ImageFont.load_default(size=size)
    draw.text((image.width // 50, height // 2), text, font=font, fill=(255, 255, 255), anchor="lm")


def _font(band_height: int, width: int):
    """The largest font whose two lines of text fit the band."""
    per_point = ImageFont.load_default(size=100).getlength(_WIDEST_LINE) / 100
    return ImageFont.load_default(size=max(4, int(min(band_height * 0.42, width * 0.92 / per_point))))


def _glyph(font, char: str):
    """(a white-on-black mask of `char` placed on its line as the font would, its advance)."""
    _, _, right, bottom = font.getbbox(char)
    mask = Image.new("L", (max(1, right), max(1, bottom)))
    ImageDraw.Draw(mask).text((0, 0), char, font=font, fill=255)
    return mask, font.getlength(char)
