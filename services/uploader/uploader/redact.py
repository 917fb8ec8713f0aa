"""Keeps a secret out of text and out of every log line."""

import logging


class Redactor(logging.Filter):
    """Replaces the secret with a placeholder; as a logging filter, in whole formatted records."""

    def __init__(self, secret: str, placeholder: str = "[token]"):
        super().__init__()
        self._secret = secret
        self._placeholder = placeholder

    def __call__(self, text: str) -> str:
        if not self._secret:
            return text
        return text.replace(self._secret, self._placeholder)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self(record.stack_info)
        return True
