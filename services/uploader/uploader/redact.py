"""Keeps secrets out of text and out of every log line; `hint` is all of a secret a line may show."""

import logging
from typing import Iterable


def hint(secret: str) -> str:
    """How a secret appears in logs and in the state: its last 4 characters, and only when it is long."""
    if not secret:
        return "(none)"
    return "…" + secret[-4:] if len(secret) >= 12 else "…"


class Redactor(logging.Filter):
    """Replaces each secret with a placeholder; as a logging filter, in whole formatted records."""

    def __init__(self, secrets: Iterable[str], placeholder: str = "[secret]"):
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
        self._placeholder = placeholder

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, self._placeholder)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self(record.stack_info)
        return True
