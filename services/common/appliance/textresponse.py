"""Small, complete WSGI responses: one line of text/plain (an error, a refusal), or a JSON document.

Every one has Content-Length and forbids caching; HEAD gets the headers without the body.
"""

import json
from typing import Any, Callable, Iterable, List, Mapping, Tuple

NO_CACHE = (
    ("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0"),
    ("Pragma", "no-cache"),
)

Header = Tuple[str, str]


def body(environ: Mapping, start_response: Callable, status: str, data: bytes, content_type: str,
         *extra_headers: Header) -> List[bytes]:
    start_response(status, [
        ("Content-Type", content_type),
        ("Content-Length", str(len(data))),
        *NO_CACHE,
        *extra_headers,
    ])
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [data]


def text(environ: Mapping, start_response: Callable, status: str, line: str, *extra_headers: Header) -> List[bytes]:
    """One line of text/plain, e.g. text(environ, start_response, "404 Not Found", "no such camera")."""
    return body(environ, start_response, status, (line + "\n").encode(), "text/plain; charset=utf-8",
                *extra_headers)


def json_document(environ: Mapping, start_response: Callable, status: str, document: Any,
                  *extra_headers: Header) -> List[bytes]:
    return body(environ, start_response, status, (json.dumps(document) + "\n").encode(),
                "application/json; charset=utf-8", *extra_headers)


def method_not_allowed(environ: Mapping, start_response: Callable, allowed: Iterable[str] = ("GET", "HEAD"),
                       ) -> List[bytes]:
    allowed = tuple(allowed)
    return text(environ, start_response, "405 Method Not Allowed",
                f"{environ.get('REQUEST_METHOD')} is not allowed here: use {' or '.join(allowed)}",
                ("Allow", ", ".join(allowed)))


def unavailable(environ: Mapping, start_response: Callable, line: str, retry_after: int = 1) -> List[bytes]:
    return text(environ, start_response, "503 Service Unavailable", line, ("Retry-After", str(retry_after)))
