"""The one retry policy: growth, cap, reset and jitter, as the feed reader, the feed supervisor and
the uploader use it."""

import pytest

from appliance.backoff import Backoff


def test_delays_double_from_first_up_to_the_cap():
    backoff = Backoff(0.1, 2.0)
    assert [backoff.next() for _ in range(8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]
    assert backoff.failures == 8


def test_reset_after_a_success_starts_again_from_first():
    backoff = Backoff(0.2, 10.0)
    for _ in range(10):
        backoff.next()
    assert backoff.next() == 10.0
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.next() == 0.2


def test_another_factor():
    backoff = Backoff(1.0, 100.0, factor=3.0)
    assert [backoff.next() for _ in range(6)] == [1.0, 3.0, 9.0, 27.0, 81.0, 100.0]


def test_factor_one_is_a_fixed_pause():
    backoff = Backoff(5.0, 5.0, factor=1.0)
    assert [backoff.next() for _ in range(3)] == [5.0, 5.0, 5.0]


def test_jitter_draws_from_the_lower_part_of_each_delay_never_below_first():
    draws = iter([0.0, 0.999, 0.5, 0.0, 0.0])
    backoff = Backoff(10.0, 300.0, jitter=0.5, random=lambda: next(draws))
    delays = [backoff.next() for _ in range(5)]
    # unjittered: 10, 20, 40, 80, 160
    assert delays[0] == 10.0  # 5 would be below first
    assert delays[1] == pytest.approx(20 * (0.5 + 0.5 * 0.999))
    assert delays[2] == 30.0
    assert delays[3:] == [40.0, 80.0]


def test_jitter_spreads_many_clients_within_bounds():
    import random
    source = random.Random(7)
    backoff = Backoff(10.0, 300.0, jitter=0.5, random=source.random)
    for _ in range(5):
        backoff.next()
    delays = [backoff.next() for _ in range(200)]  # at the cap now
    assert all(150.0 <= delay <= 300.0 for delay in delays)
    assert max(delays) - min(delays) > 100  # spread, not one value


@pytest.mark.parametrize("kwargs", [dict(first=0, cap=1), dict(first=2, cap=1), dict(first=1, cap=2, factor=0.5),
                                    dict(first=1, cap=2, jitter=1.5)])
def test_a_nonsense_policy_is_refused(kwargs):
    with pytest.raises(ValueError):
        Backoff(**kwargs)
