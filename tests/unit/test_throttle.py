"""Which repeated events get a log line."""

from appliance.throttle import Throttle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_first_event_of_a_key_is_logged_then_one_line_per_interval_with_the_count_held_back():
    clock = Clock()
    throttle = Throttle(interval=60, clock=clock)
    assert throttle.admit("machine.reboot") == 0
    assert [throttle.admit("machine.reboot") for _ in range(4)] == [None] * 4
    clock.now += 59.9
    assert throttle.admit("machine.reboot") is None
    clock.now += 0.1
    assert throttle.admit("machine.reboot") == 5
    assert throttle.admit("machine.reboot") is None
    clock.now += 60
    assert throttle.admit("machine.reboot") == 1


def test_keys_are_counted_apart():
    clock = Clock()
    throttle = Throttle(interval=60, clock=clock)
    assert throttle.admit("a") == 0
    assert throttle.admit("b") == 0
    assert throttle.admit("a") is None
    clock.now += 60
    assert throttle.admit("b") == 0
    assert throttle.admit("a") == 1


def test_invented_keys_cannot_grow_the_table_or_the_log():
    clock = Clock()
    throttle = Throttle(interval=60, keys=3, clock=clock)
    assert [throttle.admit(f"m{n}") for n in range(3)] == [0, 0, 0]
    lines = [throttle.admit(f"x{n}") for n in range(1000)]
    assert lines[0] == 0 and lines[1:] == [None] * 999  # the new keys share one entry
    assert len(throttle._entries) == 4
    clock.now += 60
    assert throttle.admit("fresh") == 0  # stale keys are forgotten to make room
    assert throttle.admit("m0") == 0
    assert len(throttle._entries) <= 4
