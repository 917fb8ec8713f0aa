"""bench/streambench.py's frame age: a part's arrival minus its X-Timestamp, inside the measured window."""

import pytest

from bench.streambench import frame_ages_ms

S = 1_000_000_000


def test_age_is_arrival_minus_the_parts_x_timestamp():
    client = {"x_timestamps": [100.0, 100.5], "received_ns": [100 * S + 250_000_000, 101 * S]}
    assert frame_ages_ms([client], 0, 200 * S) == pytest.approx([250.0, 500.0])


def test_only_parts_that_arrived_inside_the_window_count_and_unstamped_parts_are_skipped():
    early = {"x_timestamps": [9.0, 10.0, None, 11.0], "received_ns": [9 * S + 1, 10 * S + 2_000_000, 11 * S, 12 * S]}
    other = {"x_timestamps": [10.5], "received_ns": [11 * S]}
    assert frame_ages_ms([early, other], 10 * S, 12 * S) == pytest.approx([2.0, 500.0])
