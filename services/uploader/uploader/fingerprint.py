"""Each camera's fingerprint: the configured one, or one generated once and kept in the state directory.

Prusa Connect binds a camera token to the first fingerprint used with it, so the stored one must
never change by accident: it is written atomically and an unreadable or invalid file stops the
service instead of being replaced. Camera 1's file is `fingerprint`, the one the uploader kept
before it knew more than one camera, so an upgrade keeps it; camera N's is `cameraN-fingerprint`.
"""

import contextlib
import os
import re
import uuid
from typing import Callable, NamedTuple

from appliance.cameras import FINGERPRINT_PATTERN, Camera


class FingerprintError(Exception):
    """The fingerprint cannot be read or stored; str(error) is the one line to print."""


class Fingerprint(NamedTuple):
    value: str
    origin: str  # "configured", "stored" or "new"
    path: str  # where the stored one lives ("" when configured)


def file_name(number: int) -> str:
    return "fingerprint" if number == 1 else f"camera{number}-fingerprint"


def resolve(camera: Camera, state_dir: str, generate: Callable[[], str] = lambda: str(uuid.uuid4())) -> Fingerprint:
    """The camera's configured fingerprint, else its stored one, else a new one stored in `state_dir`."""
    variable = camera.variable("fingerprint")
    if camera.upload.fingerprint:
        return Fingerprint(camera.upload.fingerprint, "configured", "")
    path = os.path.join(state_dir, file_name(camera.number))
    try:
        with open(path, encoding="ascii") as file:
            stored = file.read().strip()
    except (FileNotFoundError, NotADirectoryError):
        stored = None
    except (OSError, UnicodeDecodeError) as error:
        raise FingerprintError(f"cannot read the stored camera fingerprint {path}: {_reason(error)}") from None
    if stored is not None:
        if not re.fullmatch(FINGERPRINT_PATTERN, stored):
            raise FingerprintError(
                f"{path} does not hold a valid camera fingerprint; set {variable} to the one "
                "the camera was added with, or delete the file to generate a new one (and re-add the camera "
                "in Prusa Connect)")
        return Fingerprint(stored, "stored", path)
    value = generate()
    try:
        _write_atomically(state_dir, path, value)
    except OSError as error:
        raise FingerprintError(
            f"cannot store a new camera fingerprint in STATE_DIR={state_dir}: {_reason(error)}; mount a "
            f"writable volume there or set {variable}") from None
    return Fingerprint(value, "new", path)


def _write_atomically(directory: str, path: str, value: str) -> None:
    os.makedirs(directory, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, value.encode("ascii") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or type(error).__name__
