"""Short, secret-free descriptions of why an HTTP exchange got no answer."""

import socket
import ssl
from typing import Iterator

import requests
import urllib3.exceptions


def describe(error: BaseException, host: str, connect_timeout: float, total_timeout: float) -> str:
    """One line naming the cause; never the exception's own text, which may quote a request."""
    chain = list(_chain(error))
    if _has(chain, urllib3.exceptions.NameResolutionError, socket.gaierror):
        return f"DNS lookup failed for {host}"
    if _has(chain, ConnectionRefusedError):
        return f"connection refused by {host}"
    # Not urllib3's ConnectTimeoutError: its NewConnectionError, any failed connect, derives from it.
    if _has(chain, requests.exceptions.ConnectTimeout):
        return f"no connection to {host} within {connect_timeout:g} s"
    for link in chain:
        if isinstance(link, ssl.SSLError):
            return f"TLS error with {host}: {link.reason or type(link).__name__}"
    if _has(chain, requests.exceptions.SSLError, ssl.CertificateError):
        return f"TLS error with {host}"
    if _has(chain, requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return timed_out(host, total_timeout)
    if _has(chain, requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.ProtocolError, ConnectionError):
        return f"connection closed by {host} before a complete answer"
    return f"request to {host} failed ({type(error).__name__})"


def timed_out(host: str, total_timeout: float) -> str:
    return f"no complete answer from {host} within {total_timeout:g} s"


def _has(chain, *kinds) -> bool:
    return any(isinstance(link, kinds) for link in chain)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and every error it wraps (requests -> urllib3 -> socket)."""
    seen = set()
    pending = [error]
    while pending:
        link = pending.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        reason = getattr(link, "reason", None)
        wrapped = [arg for arg in link.args if isinstance(arg, BaseException)]
        pending.extend([link.__cause__, link.__context__, *wrapped])
        if isinstance(reason, BaseException):
            pending.append(reason)
