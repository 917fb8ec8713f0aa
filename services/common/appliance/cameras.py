"""The camera slots 1 to 4, read from the environment and checked once: the one parser feed, http
and uploader share, and the one home of every camera default.

Camera 1 is the appliance's first camera and keeps its original variables (`FEED_SOURCE`,
`CAMERA_WIDTH`, ..., `PRUSA_CONNECT_TOKEN`, `UPLOAD_INTERVAL`, plus `CAMERA_DEVICE`); it is
always on. Cameras 2 to 4 take the same names with a prefix (`CAMERA2_SOURCE`,
`CAMERA2_WIDTH`, ..., `CAMERA2_PRUSA_CONNECT_TOKEN`); an empty `CAMERA<N>_SOURCE` means off.

Each service asks for the groups of settings it uses and receives only those: the feed the
capture settings, the uploader the upload settings, every service the source and the name. A
setting of a group it asks for is checked (range, form, a device or token given twice, a
setting for a camera that is off); one it does not ask for is never read, so the compose file
need not hand the feed container a Prusa Connect token.
"""

import os
import re
import shlex
from typing import Iterator, Mapping, NamedTuple, Optional, Tuple

from .envparse import ConfigError, Env, repr_without

SLOTS = (1, 2, 3, 4)
SOURCES = ("rpicam", "usb", "synthetic")
CAMERA1_SOURCES = ("auto",) + SOURCES  # auto: the Pi camera where the image has rpicam-vid, else synthetic
FEED_PORT_BASE = 9000  # camera N is served by the feed container on TCP port 9000 + N - 1
MIN_UPLOAD_INTERVAL = 10.0  # Prusa Connect takes at most one image per 10 s; faster ones are dropped
RPICAM_INDEXES = 8  # rpicam-vid --camera takes 0 to 7 (rpicam-vid --list-cameras shows them)
FINGERPRINT_PATTERN = r"[A-Za-z0-9._-]{16,128}"
FINGERPRINT_FORM = "16 to 128 characters from A-Z a-z 0-9 . _ -"
_USB_DEVICE = r"/dev/(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._:+@/-]+"
_USB_DEVICE_FORM = "a device path such as /dev/v4l/by-id/usb-…-video-index0"
_NAME = r"[^\x00-\x1f\x7f]{1,64}"

CAPTURE_FIELDS = ("device", "width", "height", "fps", "quality", "extra_args")
UPLOAD_FIELDS = ("token", "fingerprint", "upload_interval")


def variable(number: int, setting: str) -> str:
    """The environment variable of camera `number`'s `setting` (a field name below)."""
    if number == 1:
        first = {"source": "FEED_SOURCE", "token": "PRUSA_CONNECT_TOKEN",
                 "fingerprint": "PRUSA_CONNECT_FINGERPRINT", "upload_interval": "UPLOAD_INTERVAL"}
        return first.get(setting, "CAMERA_" + setting.upper())
    connect = {"token": "PRUSA_CONNECT_TOKEN", "fingerprint": "PRUSA_CONNECT_FINGERPRINT"}
    return f"CAMERA{number}_" + connect.get(setting, setting.upper())


def default_name(number: int) -> str:
    return "Printer camera" if number == 1 else f"Printer camera {number}"


class Capture(NamedTuple):
    """What the feed needs to run a camera."""
    device: str  # rpicam: the camera index ("0" when unset); usb: the device path; synthetic: ""
    width: int
    height: int
    fps: int
    quality: int  # JPEG quality of rpicam and synthetic; a USB camera sends its own JPEGs
    extra_args: Tuple[str, ...]  # appended to the rpicam-vid or v4l2-ctl command line


class Upload(NamedTuple):
    """What the uploader needs for a camera's Prusa Connect schedule."""
    token: str  # empty: this camera does not upload; never in the repr
    fingerprint: str  # empty: generated once and kept in the uploader's state volume
    interval: float  # seconds, at least MIN_UPLOAD_INTERVAL

    def __repr__(self) -> str:
        return repr_without(self, ("token",))


class Camera(NamedTuple):
    number: int
    source: str  # camera 1 may be "auto"; cameras 2 to 4 are one of SOURCES
    name: str
    capture: Optional[Capture] = None  # present when asked for (capture=True)
    upload: Optional[Upload] = None  # present when asked for (upload=True)

    @property
    def feed_port(self) -> int:
        return FEED_PORT_BASE + self.number - 1

    def variable(self, setting: str) -> str:
        return variable(self.number, setting)


class Cameras:
    """The enabled cameras in slot order (camera 1 always among them), and lines worth a warning.

    A plain class, not a NamedTuple: iterating over it and its length are its cameras'.
    """

    def __init__(self, enabled: Tuple[Camera, ...], warnings: Tuple[str, ...] = ()):
        self.enabled = enabled
        self.warnings = warnings

    def __iter__(self) -> Iterator[Camera]:
        return iter(self.enabled)

    def __len__(self) -> int:
        return len(self.enabled)

    def get(self, number: int) -> Optional[Camera]:
        return next((camera for camera in self.enabled if camera.number == number), None)

    @property
    def numbers(self) -> Tuple[int, ...]:
        return tuple(camera.number for camera in self.enabled)


def load(environ: Mapping[str, str], *, capture: bool = False, upload: bool = False) -> Cameras:
    """Every enabled camera, with the groups of settings asked for; ConfigError on any bad one."""
    env = Env(environ)
    read = ("name",) + (CAPTURE_FIELDS if capture else ()) + (UPLOAD_FIELDS if upload else ())
    cameras, warnings = [], []
    for number in SLOTS:
        source = _source(env, number)
        if source is None:
            _refuse_settings_of_an_off_camera(env, number, read)
            continue
        name = env.str(variable(number, "name"), default_name(number), pattern=_NAME,
                       form="1 to 64 printable characters")
        camera_capture = _capture(env, number, source) if capture else None
        camera_upload = _upload(env, number, warnings) if upload else None
        cameras.append(Camera(number, source, name, camera_capture, camera_upload))
    if capture:
        _refuse_shared_devices(cameras)
    if upload:
        _refuse_shared(cameras, "token", "the same token", "each camera in Prusa Connect has its own token")
        _refuse_shared(cameras, "fingerprint", "the same fingerprint",
                       "Prusa Connect binds each camera's token to its own fingerprint")
    return Cameras(tuple(cameras), tuple(warnings))


def _source(env: Env, number: int) -> Optional[str]:
    if number == 1:
        return env.choice(variable(1, "source"), "auto", CAMERA1_SOURCES)
    value = env.str(variable(number, "source"), "")
    if not value:
        return None
    return env.choice(variable(number, "source"), "", SOURCES)


def _refuse_settings_of_an_off_camera(env: Env, number: int, read: Tuple[str, ...]) -> None:
    source = variable(number, "source")
    for setting in read:
        name = variable(number, setting)
        raw = env.secret(name)
        if raw:
            shown = name if setting == "token" else f"{name}={raw!r}"
            raise ConfigError(f"{shown} is set but camera {number} is off ({source} is empty): set {source} to "
                              f"{', '.join(SOURCES)}, or leave {name} empty")


def _capture(env: Env, number: int, source: str) -> Capture:
    extra_name = variable(number, "extra_args")
    extra = env.str(extra_name, "")
    try:
        extra_args = tuple(shlex.split(extra))
    except ValueError as error:
        raise ConfigError(f"{extra_name}={extra!r} is invalid: {error}") from None
    return Capture(
        device=_device(env, number, source),
        width=env.int(variable(number, "width"), 1280, minimum=16, maximum=4096),
        height=env.int(variable(number, "height"), 720, minimum=16, maximum=4096),
        fps=env.int(variable(number, "fps"), 15, minimum=1, maximum=120),
        quality=env.int(variable(number, "quality"), 80, minimum=1, maximum=100),
        extra_args=extra_args,
    )


def _device(env: Env, number: int, source: str) -> str:
    name = variable(number, "device")
    if source in ("rpicam", "auto"):
        return str(env.int(name, 0, minimum=0, maximum=RPICAM_INDEXES - 1))
    if source == "usb":
        device = env.str(name, "", pattern=_USB_DEVICE, form=_USB_DEVICE_FORM)
        if not device:
            raise ConfigError(f"{name} is empty but {variable(number, 'source')}=usb needs it: expected "
                              f"{_USB_DEVICE_FORM}")
        return os.path.normpath(device)
    return ""  # the synthetic camera has no device; a CAMERA_DEVICE left from another source is not used


def _refuse_shared_devices(cameras) -> None:
    claimed = {}
    for camera in cameras:
        kind = "usb" if camera.source == "usb" else "rpicam" if camera.source in ("rpicam", "auto") else None
        if kind is None:
            continue
        key = (kind, camera.capture.device)
        owner = claimed.setdefault(key, camera)
        if owner is not camera:
            what = f"Pi camera {camera.capture.device}" if kind == "rpicam" else camera.capture.device
            fix = ("give each Pi camera its own index (rpicam-vid --list-cameras shows them)" if kind == "rpicam"
                   else "each camera needs its own device")
            raise ConfigError(f"{camera.variable('device')}={camera.capture.device!r} is invalid: {what} is "
                              f"already camera {owner.number}'s ({owner.variable('device')}); {fix}")


def _upload(env: Env, number: int, warnings: list) -> Upload:
    token_name = variable(number, "token")
    token = env.secret(token_name)
    if token and not re.fullmatch(r"[!-~]+", token):
        raise ConfigError(f"{token_name} is invalid: expected the token Prusa Connect shows for the "
                          "camera (printable characters, no spaces)")
    interval_name = variable(number, "upload_interval")
    interval = env.float(interval_name, MIN_UPLOAD_INTERVAL, minimum=0, maximum=86400)
    if interval < MIN_UPLOAD_INTERVAL:
        warnings.append(f"{interval_name}={interval:g} is under Prusa Connect's limit of one image "
                        f"per {MIN_UPLOAD_INTERVAL:g} s: using {MIN_UPLOAD_INTERVAL:g}")
        interval = MIN_UPLOAD_INTERVAL
    return Upload(
        token=token,
        fingerprint=env.str(variable(number, "fingerprint"), "", pattern=FINGERPRINT_PATTERN,
                            form=FINGERPRINT_FORM),
        interval=interval,
    )


def _refuse_shared(cameras, setting: str, what: str, why: str) -> None:
    seen = {}
    for camera in cameras:
        value = getattr(camera.upload, setting)
        if not value:
            continue
        owner = seen.setdefault(value, camera)
        if owner is not camera:
            raise ConfigError(f"{camera.variable(setting)} is invalid: it is {what} as {owner.variable(setting)} "
                              f"(camera {owner.number}); {why}")
