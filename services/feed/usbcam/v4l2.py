"""What v4l2-ctl is told and what it answers, as pure functions: the capture command line, the
parse of `--list-formats-ext`, and the check that the camera offers the MJPEG mode asked for.

v4l2-ctl (Debian's v4l-utils) streams the camera's own buffers to stdout with mmap I/O, so each
buffer is one JPEG exactly as the camera coded it: no decoding, no encoding, no library to bind.
"""

import re
from typing import List, NamedTuple, Sequence, Tuple

MJPEG_FOURCCS = ("MJPG", "JPEG")  # JPEG: the same stream under the older fourcc some cameras report
BUFFERS = 4  # mmap buffers: enough that a slow moment on the Pi never stalls the camera


class ModeError(Exception):
    """The camera cannot deliver what the settings ask for; str(error) is the one line to print."""


class Sizes(NamedTuple):
    """Frame sizes of one `Size:` line: one size (discrete) or a range on a step grid."""
    min_width: int
    min_height: int
    max_width: int
    max_height: int
    step_width: int = 1
    step_height: int = 1

    def holds(self, width: int, height: int) -> bool:
        return (self.min_width <= width <= self.max_width and self.min_height <= height <= self.max_height
                and (width - self.min_width) % self.step_width == 0
                and (height - self.min_height) % self.step_height == 0)

    def __str__(self) -> str:
        if (self.min_width, self.min_height) == (self.max_width, self.max_height):
            return f"{self.min_width}x{self.min_height}"
        return f"{self.min_width}x{self.min_height} to {self.max_width}x{self.max_height}"


class Mode(NamedTuple):
    """One size line of a format and the frame rates offered at it, each (lowest fps, highest fps)."""
    sizes: Sizes
    rates: Tuple[Tuple[float, float], ...]

    def offers(self, width: int, height: int, fps: float) -> bool:
        return self.sizes.holds(width, height) and any(low - 0.5 <= fps <= high + 0.5 for low, high in self.rates)

    def __str__(self) -> str:
        rates = ", ".join(f"{high:g}" if low == high else f"{low:g}-{high:g}" for low, high in self.rates)
        return f"{self.sizes} at {rates or '?'} fps"


class Format(NamedTuple):
    fourcc: str
    description: str
    modes: Tuple[Mode, ...]


def capture_command(v4l2_ctl: str, device: str, width: int, height: int, fps: int,
                    extra_args: Sequence[str] = ()) -> List[str]:
    """v4l2-ctl setting the MJPEG mode and streaming the camera's buffers to stdout until stopped
    (`--stream-to=-` also silences its progress output)."""
    return [v4l2_ctl, "--device", device,
            f"--set-fmt-video=width={width},height={height},pixelformat=MJPG", f"--set-parm={fps}",
            *extra_args, f"--stream-mmap={BUFFERS}", "--stream-to=-"]


def list_formats_command(v4l2_ctl: str, device: str) -> List[str]:
    return [v4l2_ctl, "--device", device, "--list-formats-ext"]


_FORMAT = re.compile(r"\s*\[\d+\]: '(?P<fourcc>[^']{1,4})' \((?P<description>.*)\)\s*$")
_SIZE = re.compile(r"\s*Size: (?P<kind>Discrete|Stepwise|Continuous) (?P<w>\d+)x(?P<h>\d+)"
                   r"(?: - (?P<w2>\d+)x(?P<h2>\d+))?(?: with step (?P<sw>\d+)/(?P<sh>\d+))?\s*$")
_RATE = re.compile(r"\s*Interval: (?:Discrete|Stepwise|Continuous) .*\((?P<low>[\d.]+)(?:-(?P<high>[\d.]+))? fps\)\s*$")


def parse_formats(listing: str) -> List[Format]:
    """The formats, sizes and rates in the output of `v4l2-ctl --list-formats-ext`."""
    formats: List[list] = []  # [fourcc, description, [[sizes, [rates]], ...]]
    for line in listing.splitlines():
        if match := _FORMAT.match(line):
            formats.append([match["fourcc"].strip(), match["description"], []])
        elif (match := _SIZE.match(line)) and formats:
            width, height = int(match["w"]), int(match["h"])
            sizes = Sizes(width, height, int(match["w2"] or width), int(match["h2"] or height),
                          max(1, int(match["sw"] or 1)), max(1, int(match["sh"] or 1)))
            formats[-1][2].append([sizes, []])
        elif (match := _RATE.match(line)) and formats and formats[-1][2]:
            low, high = float(match["low"]), float(match["high"] or match["low"])
            formats[-1][2][-1][1].append((min(low, high), max(low, high)))
    return [Format(fourcc, description, tuple(Mode(sizes, tuple(rates)) for sizes, rates in modes))
            for fourcc, description, modes in formats]


def mjpeg_modes(formats: Sequence[Format]) -> Tuple[Mode, ...]:
    return tuple(mode for fmt in formats if fmt.fourcc in MJPEG_FOURCCS for mode in fmt.modes)


def check_mode(formats: Sequence[Format], device: str, width: int, height: int, fps: int,
               settings: str, source_variable: str) -> None:
    """ModeError unless the camera offers MJPEG at width x height and fps.

    `settings` names the variables asked (e.g. "CAMERA2_WIDTH/HEIGHT/FPS"), `source_variable` the
    camera's source variable, so the line says what to change.
    """
    if not formats:
        raise ModeError(f"{device} lists no video formats: it is not a capture device (a webcam has "
                        "several nodes; use the one whose /dev/v4l/by-id name ends in video-index0)")
    modes = mjpeg_modes(formats)
    if not modes:
        offered = ", ".join(f"{fmt.fourcc} ({fmt.description})" for fmt in formats)
        raise ModeError(f"{device} offers no MJPEG, only {offered}: the appliance passes a camera's own "
                        f"JPEGs through and never encodes; use a webcam that offers MJPEG (most UVC webcams do), "
                        f"or set {source_variable}=rpicam for a Pi camera")
    if not any(mode.offers(width, height, fps) for mode in modes):
        raise ModeError(f"{settings}={width}x{height} at {fps} fps is not an MJPEG mode of {device}; it offers "
                        + "; ".join(str(mode) for mode in modes))
