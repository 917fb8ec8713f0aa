"""Bounded calls: a value, the call's own error, a deadline, or an immediate cancel."""

import threading

import pytest

from uploader.transfer import Calls, Cancelled, DeadlineExceeded


def test_a_finished_call_returns_its_value_or_raises_its_error():
    calls = Calls()
    assert calls.run(lambda abandoned: 42, timeout=5) == 42
    with pytest.raises(ZeroDivisionError):
        calls.run(lambda abandoned: 1 / 0, timeout=5)


def test_a_call_past_its_deadline_is_abandoned():
    calls = Calls()
    release = threading.Event()
    with pytest.raises(DeadlineExceeded):
        calls.run(lambda abandoned: release.wait(30), timeout=0.05)
    release.set()
    assert calls.run(lambda abandoned: "next call still works", timeout=5) == "next call still works"


def test_cancel_wakes_the_waiting_caller_at_once_and_refuses_new_calls():
    calls = Calls()
    started = threading.Event()
    outcome = []

    def caller():
        try:
            calls.run(lambda abandoned: (started.set(), threading.Event().wait(30)), timeout=30)
        except Cancelled:
            outcome.append("cancelled")

    thread = threading.Thread(target=caller)
    thread.start()
    assert started.wait(10)
    calls.cancel()
    thread.join(10)
    assert outcome == ["cancelled"]
    with pytest.raises(Cancelled):
        calls.run(lambda abandoned: 1, timeout=5)


def test_the_abandoned_call_is_told():
    calls = Calls()
    told = threading.Event()
    reached = threading.Event()

    def work(abandoned):
        reached.set()
        if abandoned.wait(30):
            told.set()

    with pytest.raises(DeadlineExceeded):
        calls.run(work, timeout=0.05)
    assert reached.wait(10) and told.wait(10)
