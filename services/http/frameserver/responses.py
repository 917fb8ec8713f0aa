"""Headers and small plain-text responses shared by the raw WSGI handlers."""

NO_CACHE = (
    ("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0"),
    ("Pragma", "no-cache"),
)
GET_OR_HEAD = ("GET", "HEAD")


def stamp(timestamp: float) -> str:
    """X-Timestamp's value: epoch seconds with microseconds."""
    return "%.6f" % timestamp


def text(environ, start_response, status: str, line: str, *extra_headers):
    """A one-line text/plain response (no body for HEAD)."""
    body = (line + "\n").encode()
    start_response(status, [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *NO_CACHE,
        *extra_headers,
    ])
    return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]


def method_not_allowed(environ, start_response):
    return text(environ, start_response, "405 METHOD NOT ALLOWED",
                f"{environ['REQUEST_METHOD']} is not allowed here: use GET or HEAD", ("Allow", "GET, HEAD"))


def unavailable(environ, start_response, line: str, retry_after: int = 1):
    return text(environ, start_response, "503 SERVICE UNAVAILABLE", line, ("Retry-After", str(retry_after)))
