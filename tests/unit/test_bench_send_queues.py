"""bench/streamclients.py reads what the server's end of each connection holds unsent from `ss -tnH`."""

from bench.streamclients import parse_send_queues


def test_send_q_by_the_client_port_and_other_lines_skipped():
    out = ("ESTAB 0      262144 127.0.0.1:40000 127.0.0.1:51234\n"
           "ESTAB 10     0      127.0.0.1:40000 127.0.0.1:51236\n"
           "\n"
           "garbage\n")
    assert parse_send_queues(out) == {51234: 262144, 51236: 0}
