"""bench/report.py renders the stack section (not in the smoke run) from its figures: every container, what
the memory targets count, the floors and the restarts."""

from bench.__main__ import MODES
from bench.report import render

MACHINE = {"date": "2026-12-01 08:00 UTC", "nproc": 2, "cpu": "cpu", "kernel": "6", "memory_gib": 4.0,
           "load_at_start": (0.1, 0.2, 0.3), "python_host": "3.11", "nginx_host": "nginx/1.22", "wrk": "wrk 4",
           "packages": {"gunicorn": "23"}}
STACK = {
    "python_image": "Python 3.13.5", "settings": {"FEED_SOURCE": "synthetic"}, "viewers": 10, "seconds": 15,
    "standins": ["prusa-connect"], "uploads": {"idle": 1, "loaded": 2, "total": 4}, "viewer_fps": 29.9, "errors": [],
    "idle": {"feed": {"cpu_percent": 5.0, "mem_mib": 22.0}, "http": {"cpu_percent": 1.0, "mem_mib": 30.5},
             "nginx": {"cpu_percent": 0.0, "mem_mib": 3.5}, "prusa-connect": {"cpu_percent": 0.0, "mem_mib": 11.0}},
    "loaded": {"feed": {"cpu_percent": 5.0, "mem_mib": 22.0}, "http": {"cpu_percent": 3.0, "mem_mib": 32.0},
               "nginx": {"cpu_percent": 2.0, "mem_mib": 4.0}, "prusa-connect": {"cpu_percent": 0.0, "mem_mib": 11.0}},
    "floors": [{"service": "http", "imports": "gevent", "mem_mib": 24.4}, {"service": None, "imports": "nothing",
                                                                           "mem_mib": 3.2}],
    "restarts": {"path": "/snapshot.jpg", "poll_s": 0.02, "kills": [
        {"kill_to_up_s": 0.66, "restarts": 1, "up_to_200_s": 0.7, "ready_s": 0.68,
         "failures": {"down": {"502": 23}, "up": {"502": 21, "503": 1}}}]},
}


def _report(**sections):
    return render({"mode": "smoke", "settings": MODES["smoke"], "failed": {}, "seconds": {"stack": 90.0},
                   "machine": MACHINE, **sections})


def test_the_stack_section_lists_every_container_the_counted_total_the_floors_and_each_restart():
    report = _report(stack=STACK)
    section = report.split("## 5. The compose stack", 1)[1]
    assert "| prusa-connect (stand-in) | 0.0 | 11.0 | 0.0 | 11.0 |" in section
    assert "| **counted (no feed, no stand-in)** |  | 34.0 |  | 36.0 |" in section
    assert "http (gevent) 24.4; python3 (nothing) 3.2" in section
    assert "| 1 | 0.66 | 1 | 0.70 | 0.68 | 502 x23 | 502 x21, 503 x1 |" in section
    assert "2 uploads accepted in the 15 s, 4 in all" in section
    assert "| Python (images) | Python 3.13.5 |" in report
    assert "Time per section: stack 90 s; 90 s in all." in report


def test_a_skipped_stack_says_why():
    report = _report(stack={"skipped": "no Docker engine answers"})
    assert "Not measured: no Docker engine answers." in report
    assert "| Python (images) | not measured |" in report
