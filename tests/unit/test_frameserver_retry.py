"""How the feed reader spaces its reconnect attempts and keeps a retry storm out of the log."""

from frameserver.feedreader import Backoff
from frameserver.feedreader import RepeatedFailures


def test_backoff_starts_quick_doubles_and_is_capped():
    backoff = Backoff()
    delays = [backoff.next() for _ in range(10)]
    assert delays[0] <= 0.2
    assert delays[:6] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0]
    assert max(delays) == 2.0
    assert all(a <= b for a, b in zip(delays, delays[1:]))


def test_backoff_starts_over_after_a_good_connection():
    backoff = Backoff(first=0.05, cap=1.0)
    for _ in range(8):
        backoff.next()
    assert backoff.next() == 1.0
    backoff.reset()
    assert backoff.next() == 0.05


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_first_failure_is_logged_and_its_repeats_only_once_a_minute():
    clock = Clock()
    failures = RepeatedFailures(every=60, clock=clock)
    assert failures.failed("Connection refused") == 1
    logged = []
    for attempt in range(2, 101):
        clock.now += 2
        count = failures.failed("Connection refused")
        if count is not None:
            logged.append(count)
    assert logged == [31, 61, 91]  # every 60 s of 2 s retries, counting all failures in a row


def test_a_new_kind_of_failure_is_logged_at_once():
    clock = Clock()
    failures = RepeatedFailures(every=60, clock=clock)
    assert failures.failed("Connection refused") == 1
    assert failures.failed("Connection refused") is None
    assert failures.failed("timed out") == 3
    assert failures.failed("Connection refused") is None
    assert failures.failed("timed out") is None


def test_a_success_reports_the_failures_before_it_and_starts_over():
    clock = Clock()
    failures = RepeatedFailures(every=60, clock=clock)
    for _ in range(5):
        failures.failed("Connection refused")
    assert failures.succeeded() == 5
    assert failures.succeeded() == 0
    assert failures.failed("Connection refused") == 1
