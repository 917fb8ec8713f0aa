"""What Moonraker's and PrusaLink's answers mean for the uploads: printing, idle, or unknown (fail open)."""

import json

import pytest

from uploader.printerstate import moonraker_reading, prusalink_reading
from uploader.schedule import Printer

FIX = "set PRUSALINK_USER and PRUSALINK_PASSWORD"


def moonraker(state):
    return json.dumps({"result": {"eventtime": 1.0, "status": {"print_stats": {"state": state}}}}).encode()


def prusalink(state):
    return json.dumps({"printer": {"state": state}}).encode()


@pytest.mark.parametrize("state, printer", [
    ("printing", Printer.PRINTING), ("paused", Printer.PRINTING), ("standby", Printer.IDLE),
    ("complete", Printer.IDLE), ("cancelled", Printer.IDLE), ("error", Printer.IDLE),
])
def test_moonraker_printing_or_paused_is_printing(state, printer):
    reading = moonraker_reading(200, moonraker(state))
    assert reading.printer is printer and reading.text == f"Moonraker print_stats.state {state!r}"


@pytest.mark.parametrize("state, printer", [
    ("PRINTING", Printer.PRINTING), ("PAUSED", Printer.PRINTING), ("ATTENTION", Printer.PRINTING),
    ("BUSY", Printer.PRINTING), ("IDLE", Printer.IDLE), ("READY", Printer.IDLE), ("FINISHED", Printer.IDLE),
    ("STOPPED", Printer.IDLE), ("ERROR", Printer.IDLE),
])
def test_prusalink_printing_paused_attention_and_busy_are_printing(state, printer):
    reading = prusalink_reading(200, prusalink(state), FIX)
    assert reading.printer is printer and reading.text == f"PrusaLink printer.state {state!r}"


@pytest.mark.parametrize("status, body, cause", [
    (503, b'{"error": {"code": 503, "message": "Klippy Host not connected"}}',
     "Moonraker answered HTTP 503: Klippy Host not connected"),
    (502, b"moonraker unreachable\n", "Moonraker answered HTTP 502: moonraker unreachable"),
    (200, b"<html>", "Moonraker's answer has no print_stats.state"),
    (200, b'{"result": {"status": {}}}', "Moonraker's answer has no print_stats.state"),
    (200, b'{"result": []}', "Moonraker's answer has no print_stats.state"),
    (200, moonraker(7), "Moonraker's answer has no print_stats.state"),
    (200, moonraker("warming"), "Moonraker reported an unknown print_stats.state 'warming'"),
])
def test_a_moonraker_answer_that_is_no_state_is_unknown(status, body, cause):
    reading = moonraker_reading(status, body)
    assert (reading.printer, reading.text) == (Printer.UNKNOWN, cause)


@pytest.mark.parametrize("status, body, cause", [
    (401, b"", f"PrusaLink refused the credentials (HTTP 401): {FIX}"),
    (403, b"", f"PrusaLink refused the credentials (HTTP 403): {FIX}"),
    (500, b"", "PrusaLink answered HTTP 500"),
    (200, b"[]", "PrusaLink's answer has no printer.state"),
    (200, prusalink("SLEEPING"), "PrusaLink reported an unknown printer.state 'SLEEPING'"),
])
def test_a_prusalink_answer_that_is_no_state_is_unknown(status, body, cause):
    reading = prusalink_reading(status, body, FIX)
    assert (reading.printer, reading.text) == (Printer.UNKNOWN, cause)


def test_readings_of_one_state_and_cause_are_the_same_kind():
    assert moonraker_reading(200, moonraker("printing")).kind == moonraker_reading(200, moonraker("printing")).kind
    assert moonraker_reading(200, moonraker("printing")).kind != moonraker_reading(200, moonraker("paused")).kind
    assert moonraker_reading(503, b"").kind != moonraker_reading(502, b"").kind
