"""Which changes of state and which repeated failures deserve a log line."""

from appliance.statelog import RepeatedFailures, StateLog


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_a_state_gets_a_line_when_it_changes_not_when_it_repeats():
    state = StateLog()
    assert [state.changed(s) for s in ["down", "down", "down", None, None, "down", "full", "full"]] == [
        True, False, False, True, False, True, True, False]
    assert state.state == "full"


def test_the_initial_state_is_not_a_change():
    state = StateLog(initial=False)
    assert state.changed(False) is False  # e.g. a health file written fine from the start
    assert state.changed(True) is True
    assert state.changed(False) is True  # ...and its recovery


def test_each_reason_is_logged_when_first_seen_then_once_a_minute_with_the_count_so_far():
    clock = Clock()
    failures = RepeatedFailures(every=60, clock=clock)
    assert failures.failed("connection refused") == 1
    assert failures.failed("connection refused") is None
    assert failures.failed("timed out") == 3  # a new reason: a line at once
    clock.now += 60
    assert failures.failed("connection refused") == 4
    assert failures.count == 4


def test_a_success_tells_how_many_failures_it_ended_and_starts_a_new_run():
    clock = Clock()
    failures = RepeatedFailures(every=60, clock=clock)
    assert failures.succeeded() == 0  # nothing failed: nothing to tell
    failures.failed("refused")
    failures.failed("refused")
    assert failures.succeeded() == 2
    assert failures.succeeded() == 0
    assert failures.failed("refused") == 1  # logged again at once, though within the minute
