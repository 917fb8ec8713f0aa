"""The built-in picture a stream shows while there is no live frame."""

from pathlib import Path

NO_SIGNAL_JPEG = Path(__file__).with_name("nosignal.jpg").read_bytes()
