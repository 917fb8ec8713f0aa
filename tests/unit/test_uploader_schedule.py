"""The pure schedule, on a virtual clock: fixed rate, the 10 s floor, backoff with jitter, the 5 minute retry,
recovery."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from uploader.schedule import NEVER, Pace, Printer, Schedule


def run(schedule, pace, duration=0.5, late=0.0, uploaded=True):
    """One cycle that starts `late` seconds after its due time and lasts `duration`; the next due time."""
    started = schedule.due + late
    return schedule.next(pace, started=started, now=started + duration, uploaded=uploaded)


def test_fixed_rate_does_not_drift_with_upload_time():
    schedule = Schedule(30, start=1000.0)
    dues = [run(schedule, Pace.NORMAL, duration=d) for d in (0.2, 3.0, 7.5, 0.1)]
    assert dues == [1030.0, 1060.0, 1090.0, 1120.0]


def test_the_floor_counts_from_the_end_of_the_previous_upload():
    schedule = Schedule(10, start=1000.0)
    assert run(schedule, Pace.NORMAL, duration=0.25) == 1010.25
    assert run(schedule, Pace.NORMAL, duration=2.0) == 1022.25
    assert run(schedule, Pace.NORMAL, duration=0.0) == 1032.25


def test_an_interval_longer_than_the_floor_plus_an_upload_keeps_its_cadence():
    schedule = Schedule(12, start=0.0)
    assert [run(schedule, Pace.NORMAL, duration=1.5) for _ in range(3)] == [12.0, 24.0, 36.0]
    assert run(schedule, Pace.NORMAL, duration=3.0) == 36.0 + 3.0 + 10


def test_a_longer_interval_is_kept():
    schedule = Schedule(30, start=0.0)
    assert [run(schedule, Pace.NORMAL) for _ in range(3)] == [30.0, 60.0, 90.0]


def test_an_interval_under_the_floor_is_raised():
    schedule = Schedule(2, start=0.0)
    assert [run(schedule, Pace.NORMAL, duration=0.0) for _ in range(3)] == [10.0, 20.0, 30.0]


def test_an_overrunning_cycle_skips_missed_ticks_instead_of_bursting():
    schedule = Schedule(10, start=0.0)
    assert run(schedule, Pace.SKIP, duration=24.0, uploaded=False) == 30.0


def test_a_late_start_never_brings_two_uploads_closer_than_10_s():
    schedule = Schedule(10, start=0.0)
    started = 2.5  # the wait woke 2.5 s late on a loaded machine
    due = schedule.next(Pace.NORMAL, started=started, now=started + 0.3, uploaded=True)
    assert due == started + 0.3 + 10


def test_skipped_cycles_keep_the_rate_and_do_not_count_as_uploads():
    schedule = Schedule(10, start=0.0)
    assert run(schedule, Pace.SKIP, uploaded=False) == 10.0
    assert run(schedule, Pace.SKIP, uploaded=False) == 20.0
    assert run(schedule, Pace.NORMAL) == 30.5


def backoff_delays(schedule, count):
    delays = []
    for _ in range(count):
        started = schedule.due
        delays.append(round(schedule.next(Pace.BACKOFF, started=started, now=started, uploaded=False) - started))
    return delays


def test_backoff_doubles_from_the_interval_with_jitter_up_to_five_minutes():
    lows = Schedule(10, start=0.0, random=lambda: 0.0)
    highs = Schedule(10, start=0.0, random=lambda: 0.999999)
    assert backoff_delays(lows, 8) == [10, 10, 20, 40, 80, 150, 150, 150]
    assert backoff_delays(highs, 8) == [10, 20, 40, 80, 160, 300, 300, 300]
    assert backoff_delays(lows, 10_000)[-1] == 150 and backoff_delays(highs, 10_000)[-1] == 300


def test_backoff_counts_from_the_end_of_the_failed_cycle_and_recovers_on_first_success():
    schedule = Schedule(10, start=0.0, random=lambda: 1.0)
    assert run(schedule, Pace.BACKOFF, duration=15.0) == 15.0 + 10
    assert run(schedule, Pace.BACKOFF, duration=1.0) == 25.0 + 1 + 20
    assert run(schedule, Pace.BACKOFF, duration=1.0) == 46.0 + 1 + 40
    assert schedule.failures == 3
    assert run(schedule, Pace.NORMAL) == 87.5 + 10
    assert schedule.failures == 0
    assert run(schedule, Pace.BACKOFF) == 98.0 + 10  # a new outage starts again from the interval


def test_a_skip_during_backoff_keeps_the_failure_count():
    schedule = Schedule(10, start=0.0, random=lambda: 1.0)
    run(schedule, Pace.BACKOFF)
    run(schedule, Pace.SKIP, uploaded=False)
    assert schedule.failures == 1
    started = schedule.due
    assert schedule.next(Pace.BACKOFF, started=started, now=started, uploaded=True) == started + 20


def test_refused_credentials_retry_every_five_minutes():
    schedule = Schedule(10, start=0.0)
    assert run(schedule, Pace.SLOW, duration=0.5) == 300.5
    assert run(schedule, Pace.SLOW, duration=0.5) == 601.0
    assert run(schedule, Pace.NORMAL) == 611.5


paces = st.lists(st.tuples(st.sampled_from(list(Pace)), st.floats(0, 40), st.floats(0, 5), st.floats(0, 1)),
                    max_size=60)


@given(interval=st.floats(0, 120), cycles=paces)
def test_no_upload_ever_starts_less_than_10_s_after_the_previous_one_ended_and_nothing_bursts(interval, cycles):
    randoms = iter([c[3] for c in cycles])
    schedule = Schedule(interval, start=0.0, random=lambda: next(randoms))
    uploads = []  # (start, end)
    for pace, duration, late, _ in cycles:
        started = schedule.due + late
        uploaded = pace is not Pace.SKIP
        if uploaded:
            uploads.append((started, started + duration))
        due = schedule.next(pace, started=started, now=started + duration, uploaded=uploaded)
        assert due >= started + duration  # never in the past: no burst of catch-up cycles
    assert all(start - previous_end >= 10 - 1e-9 for (_, previous_end), (start, _) in zip(uploads, uploads[1:]))


# UPLOAD_WHEN=printing: the printer's state sets the pace.

def printing_schedule(idle_interval=0.0, interval=10):
    return Schedule(interval, start=0.0, idle_interval=idle_interval, random=lambda: 1.0)


def upload(schedule, duration=0.5, pace=Pace.NORMAL):
    """Run the cycle that is due (it must be due at all); (its start, the next due time)."""
    started = schedule.due
    assert started != NEVER
    return started, schedule.next(pace, started=started, now=started + duration, uploaded=pace is not Pace.SKIP)


def test_nothing_is_due_before_the_first_reading_and_a_print_uploads_at_once():
    schedule = printing_schedule()
    assert schedule.due == NEVER
    assert schedule.printer_changed(Printer.PRINTING, 5.0) == 5.0
    assert upload(schedule) == (5.0, 15.5)
    assert upload(schedule) == (15.5, 26.0)


def test_idle_at_start_uploads_nothing_or_at_the_idle_interval():
    assert printing_schedule().printer_changed(Printer.IDLE, 5.0) == NEVER
    schedule = printing_schedule(idle_interval=600)
    assert schedule.printer_changed(Printer.IDLE, 5.0) == 5.0
    assert upload(schedule) == (5.0, 605.0)
    assert upload(schedule) == (605.0, 1205.0)


def test_an_idle_interval_under_the_floor_is_raised():
    schedule = printing_schedule(idle_interval=3)
    schedule.printer_changed(Printer.IDLE, 0.0)
    assert upload(schedule, duration=0.0) == (0.0, 10.0)


def test_a_print_start_uploads_at_once_then_every_interval():
    schedule = printing_schedule(idle_interval=600)
    schedule.printer_changed(Printer.IDLE, 0.0)
    upload(schedule)
    assert schedule.printer_changed(Printer.PRINTING, 100.0) == 100.0
    assert upload(schedule) == (100.0, 110.5)


def test_a_print_start_right_after_an_upload_keeps_the_10_s_floor():
    schedule = printing_schedule(idle_interval=600)
    schedule.printer_changed(Printer.IDLE, 0.0)
    upload(schedule, duration=2.0)
    assert schedule.printer_changed(Printer.PRINTING, 4.0) == 12.0


def test_the_end_of_a_print_sends_one_last_picture_then_the_idle_interval():
    schedule = printing_schedule(idle_interval=0, interval=30)
    schedule.printer_changed(Printer.PRINTING, 0.0)
    upload(schedule)
    upload(schedule)
    assert schedule.printer_changed(Printer.IDLE, 55.0) == 55.0  # the last picture: the finished print
    assert upload(schedule) == (55.0, NEVER)
    with_idle = printing_schedule(idle_interval=300, interval=30)
    with_idle.printer_changed(Printer.PRINTING, 0.0)
    upload(with_idle)
    assert with_idle.printer_changed(Printer.IDLE, 12.0) == 12.0
    assert upload(with_idle) == (12.0, 312.0)


def test_the_last_picture_is_retried_until_a_fresh_frame_goes_up():
    schedule = printing_schedule(interval=30)
    schedule.printer_changed(Printer.PRINTING, 0.0)
    upload(schedule)
    schedule.printer_changed(Printer.IDLE, 20.0)
    assert upload(schedule, pace=Pace.SKIP) == (20.0, 50.0)  # no fresh frame yet
    assert upload(schedule) == (50.0, NEVER)


def test_the_last_picture_waits_for_connects_retry_time():
    schedule = printing_schedule()
    schedule.printer_changed(Printer.PRINTING, 0.0)
    assert upload(schedule, pace=Pace.BACKOFF) == (0.0, 10.5)
    assert schedule.printer_changed(Printer.IDLE, 2.0) == 10.5
    assert upload(schedule, pace=Pace.BACKOFF) == (10.5, 31.0)
    assert upload(schedule) == (31.0, NEVER)


def test_a_state_change_during_a_slow_retry_keeps_it():
    schedule = printing_schedule(idle_interval=600)
    schedule.printer_changed(Printer.IDLE, 0.0)
    assert upload(schedule, pace=Pace.SLOW) == (0.0, 300.5)
    assert schedule.printer_changed(Printer.PRINTING, 50.0) == 300.5


def test_fail_open_uploads_every_interval_while_the_state_is_unknown_and_stops_when_it_is_back():
    schedule = printing_schedule()
    schedule.printer_changed(Printer.IDLE, 0.0)
    assert schedule.printer_changed(Printer.UNKNOWN, 40.0) == 40.0  # the source went away: upload at once
    assert upload(schedule) == (40.0, 50.5)
    assert upload(schedule) == (50.5, 61.0)
    assert schedule.printer_changed(Printer.IDLE, 52.0) == 61.0  # back and idle: one last picture, floor kept
    assert upload(schedule) == (61.0, NEVER)


def test_a_lost_state_during_a_print_keeps_the_cadence():
    schedule = printing_schedule()
    schedule.printer_changed(Printer.PRINTING, 0.0)
    upload(schedule)
    assert schedule.printer_changed(Printer.UNKNOWN, 3.0) == 10.5
    assert schedule.printer_changed(Printer.PRINTING, 6.0) == 10.5


def test_an_unknown_first_reading_uploads_at_once():
    schedule = printing_schedule()
    assert schedule.printer_changed(Printer.UNKNOWN, 1.0) == 1.0


def test_upload_when_always_ignores_the_printer():
    schedule = Schedule(10, start=0.0)
    assert schedule.printer_changed(Printer.IDLE, 0.0) == 0.0
    upload(schedule)
    assert schedule.printer_changed(Printer.PRINTING, 3.0) == 10.5


events = st.lists(st.one_of(
    st.tuples(st.just("printer"), st.sampled_from(list(Printer)), st.floats(0, 15)),
    st.tuples(st.just("cycle"), st.sampled_from(list(Pace)), st.floats(0, 20)),
), max_size=80)


@given(idle_interval=st.sampled_from([0.0, 10.0, 45.0]), interval=st.floats(0, 60), script=events)
def test_rapid_flapping_never_brings_an_upload_within_10_s_of_the_previous_ones_end(idle_interval, interval, script):
    schedule = Schedule(interval, start=0.0, idle_interval=idle_interval, random=lambda: 0.5)
    now, last_end = 0.0, None
    for kind, value, seconds in script:
        if kind == "printer":
            now += seconds
            schedule.printer_changed(value, now)
        elif schedule.due != NEVER:
            started = max(now, schedule.due)
            uploaded = value is not Pace.SKIP
            if uploaded and last_end is not None:
                assert started >= last_end + 10 - 1e-9
            now = started + seconds
            if uploaded:
                last_end = now
            assert schedule.next(value, started=started, now=now, uploaded=uploaded) >= now  # no catch-up burst
