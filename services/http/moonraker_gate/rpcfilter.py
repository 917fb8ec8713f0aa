"""What the gate does with one websocket message from a client: pure JSON-RPC decisions, no sockets.

A call of an allowlisted method goes to Moonraker re-serialised from what was parsed, so Moonraker
receives exactly what was checked (no parser differences, duplicate keys or odd encodings get
through). The gate answers everything else itself:

- a call of any other method: -32601 "read-only bridge: <method> is not allowed" with the call's id;
  the same call without an id (a notification) is dropped without a reply;
- text that is not JSON (or not UTF-8, or nested too deeply to handle): -32700 with id null;
- JSON that is not a call (no string "method", not an object, an empty batch): -32600 with the
  call's id when it has one, else null;
- a batch (array): checked element by element. The allowed calls go to Moonraker as one batch, whose
  reply array comes back from Moonraker; the gate's own errors for the rest go to the client at once
  as a second array. A client may therefore get two arrays for one batch; each reply carries its id.
- more than `max_bytes` of UTF-8: the connection is closed with 1009 (message too big).

Calls Moonraker has not answered yet are bounded per session (the session counts them with
`awaiting` and `answered`): a message whose calls would take the count above the bound is not
sent, and each of its calls with an id gets -32000 from the gate instead (`busy`). A client that
sends without reading the answers therefore piles up at most that many in Moonraker.
"""

import json
from typing import Any, List, NamedTuple, Optional, Tuple, Union

from .allowlist import ALLOWED_METHODS

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
NOT_ALLOWED = -32601  # JSON-RPC's "method not found", what Moonraker answers for a method it lacks
BUSY = -32000  # JSON-RPC's first "server error": the call was not sent, try again later


class Verdict(NamedTuple):
    forward: Optional[str] = None  # text to send to Moonraker
    reply: Optional[str] = None  # the gate's own answer to the client
    too_big: bool = False  # close the client's connection with 1009
    denied: Tuple[str, ...] = ()  # the refused methods, for the log
    awaiting: Tuple[Any, ...] = ()  # the ids of the forwarded calls, each to be answered by Moonraker
    batch: bool = False  # `forward` is a batch (its answer is an array)


def check(message: Union[str, bytes], max_bytes: int, allowed: frozenset = ALLOWED_METHODS) -> Verdict:
    """The gate's decision about one complete message from the client."""
    if isinstance(message, str):
        size = len(message.encode("utf-8", "surrogatepass"))
    else:
        size = len(message)
    if size > max_bytes:
        return Verdict(too_big=True)
    try:
        text = message if isinstance(message, str) else message.decode("utf-8")
        parsed = json.loads(text)
        if isinstance(parsed, list):
            return _batch(parsed, allowed)
        return _single(parsed, allowed)
    except (ValueError, RecursionError):
        return Verdict(reply=_dump(_error(PARSE_ERROR, "Parse error", None)))


def _single(call: Any, allowed: frozenset) -> Verdict:
    if not _is_call(call):
        return Verdict(reply=_dump(_invalid(call)))
    method = call["method"]
    if method in allowed:
        return Verdict(forward=_dump(call), awaiting=(call["id"],) if "id" in call else ())
    if "id" not in call:
        return Verdict(denied=(method,))
    return Verdict(reply=_dump(_not_allowed(call)), denied=(method,))


def _batch(calls: List[Any], allowed: frozenset) -> Verdict:
    if not calls:
        return Verdict(reply=_dump(_error(INVALID_REQUEST, "Invalid Request", None)))
    passed, errors, denied = [], [], []
    for call in calls:
        if not _is_call(call):
            errors.append(_invalid(call))
        elif call["method"] in allowed:
            passed.append(call)
        else:
            denied.append(call["method"])
            if "id" in call:
                errors.append(_not_allowed(call))
    return Verdict(forward=_dump(passed) if passed else None, reply=_dump(errors) if errors else None,
                   denied=tuple(denied), awaiting=tuple(call["id"] for call in passed if "id" in call), batch=True)


def busy(verdict: Verdict, limit: int) -> Optional[str]:
    """The gate's answer to the forwarded calls of `verdict` when they are not sent because `limit`
    calls already await Moonraker's answer; None when none of them has an id."""
    if not verdict.awaiting:
        return None
    errors = [_error(BUSY, f"read-only bridge: {limit} calls already await Moonraker's answer; "
                           "this one was not sent, read the answers first", call_id) for call_id in verdict.awaiting]
    return _dump(errors if verdict.batch else errors[0])


def answered(message: Union[str, bytes]) -> int:
    """How many calls a message from Moonraker answers: 1 for a reply, n for an array of n replies,
    0 for a notification or anything else."""
    if isinstance(message, bytes) or '"id"' not in message:
        return 0  # every reply carries "id"; notifications (most of the traffic) need no parsing
    try:
        parsed = json.loads(message)
    except (ValueError, RecursionError):
        return 0
    replies = parsed if isinstance(parsed, list) else [parsed]
    return sum(1 for reply in replies if isinstance(reply, dict) and "id" in reply and "method" not in reply)


def _is_call(call: Any) -> bool:
    return isinstance(call, dict) and isinstance(call.get("method"), str)


def _not_allowed(call: dict) -> dict:
    return _error(NOT_ALLOWED, f"read-only bridge: {call['method']} is not allowed", call["id"])


def _invalid(call: Any) -> dict:
    return _error(INVALID_REQUEST, "Invalid Request", call.get("id") if isinstance(call, dict) else None)


def _error(code: int, message: str, call_id: Any) -> dict:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": call_id}


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
