"""An unexpected error in a request ends that request with 500 and one traceback a minute, never the gate."""

import logging

from moonraker_gate.config import load
from moonraker_gate.gate import Gate
from moonraker_gate.selfcheck import SelfCheck


def test_an_unexpected_error_is_a_500_and_its_traceback_is_logged_once(caplog):
    log = logging.getLogger("gate-test")
    gate = Gate(load({}), log, SelfCheck(None, log))
    answers = []
    broken = {"gate.target": "/server/info", "REQUEST_METHOD": "GET", "HTTP_ORIGIN": object()}  # not a string
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            body = gate(dict(broken), lambda status, headers: answers.append(status))
            assert b"".join(body) == b"the gate failed: see its log\n"
    assert answers == ["500 Internal Server Error"] * 3
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert errors[0].getMessage().startswith("unexpected error in GET /server/info")
