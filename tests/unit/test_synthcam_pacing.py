from synthcam.pacing import Pacer


def test_frames_fall_on_a_fixed_grid_however_late_each_one_is_sent():
    pacer = Pacer(fps=15, start=100.0)
    for _ in range(1500):
        now = pacer.due() + 0.03  # every frame goes out 30 ms late (under half a period)
        pacer.advance(now)
    assert pacer.slot == 1500
    assert abs(pacer.due() - (100.0 + 1500 / 15)) < 1e-6


def test_a_stall_skips_the_missed_slots_instead_of_bursting():
    pacer = Pacer(fps=10, start=0.0)
    pacer.advance(now=0.01)
    assert pacer.slot == 1 and pacer.due() == 0.1
    pacer.advance(now=2.05)  # stalled for two seconds: 19 slots missed
    assert pacer.slot == 20 and pacer.due() <= 2.05  # the latest missed slot: one frame at once
    pacer.advance(now=2.06)
    assert pacer.slot == 21 and pacer.due() > 2.06  # then back on the grid, not a burst


def test_a_slow_encoder_gets_frames_back_to_back_at_its_own_pace():
    pacer = Pacer(fps=30, start=0.0)
    now, sent = 0.0, 0
    while now < 10.0:
        now = max(now, pacer.due()) + 0.05  # each frame takes 50 ms, longer than a 33 ms period
        sent += 1
        pacer.advance(now)
    assert 195 <= sent <= 201  # 10 s / 50 ms, not 300
