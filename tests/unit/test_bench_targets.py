"""bench/targets.py: each issue-13 target met, missed or not measured from a run's figures, with its floor."""

from bench.targets import counted, evaluate

SETTINGS = {"sizes": [[1280, 720]], "fps": 30, "fanout": [50, 100], "target_clients": [50, 100],
            "target_connections": 32}


def _run(path, clients, cpu, p99, nginx_cpu=None, age_p99=None, unread_kb=None, unsent_kb=None):
    return {"size": [1280, 720], "path": path, "clients": clients, "slow_clients": clients // 10,
            "cpu": {"server": cpu, **({} if nginx_cpu is None else {"nginx": nginx_cpu})},
            "latency_ms": {"p99": p99}, "delivered_share": 1.0, "skipped_total": 0, "skipped_after_burst": 0,
            "errors": [], "relayed_mb_s": 200.0, "slow_rate_kb_s": 1000.0, "slow_unread_kb": unread_kb,
            "slow_unsent_kb": unsent_kb,
            "slow_age_ms": {"p50": age_p99, "p99": age_p99, "max": age_p99, "count": 0 if age_p99 is None else 10}}


def _results(runs=(), **sections):
    return {"settings": SETTINGS, "stream": {"runs": list(runs)}, **sections}


def _named(results, start, within=""):
    found = [t for t in evaluate(results) if t["target"].startswith(start) and within in t["target"]]
    assert len(found) == 1, [t["target"] for t in evaluate(results)]
    return found[0]


def test_frame_server_cpu_is_judged_against_the_bare_server_at_both_client_counts():
    runs = [_run("direct", 50, 0.060, 5.0), _run("ceiling", 50, 0.050, 4.5),
            _run("direct", 100, 0.110, 8.0), _run("ceiling", 100, 0.100, 7.0)]
    target = _named(_results(runs), "frame-server CPU")
    assert target["met"] is True
    assert "1.20x" in target["measured"] and "1.10x" in target["measured"]
    assert "0.050 core" in target["floor"] and "0.100 core" in target["floor"]
    runs[2] = _run("direct", 100, 0.130, 8.0)
    assert _named(_results(runs), "frame-server CPU")["met"] is False
    assert _named(_results(runs), "frame-server p99")["met"] is True  # 5.0/4.5 and 8.0/7.0


def test_a_target_with_a_client_count_unmeasured_is_not_met():
    runs = [_run("direct", 50, 0.060, 5.0), _run("ceiling", 50, 0.050, 4.5)]
    assert _named(_results(runs), "frame-server CPU")["met"] is None
    assert _named(_results([]), "frame-server CPU")["measured"] == "not measured"


def test_nginx_cpu_and_p99_through_nginx_against_direct():
    runs = [_run("direct", 50, 0.06, 6.0), _run("direct", 100, 0.1, 10.0),
            _run("nginx", 50, 0.06, 9.0, nginx_cpu=0.09), _run("nginx", 100, 0.1, 16.0, nginx_cpu=0.2)]
    runs.append(_run("ceiling", 50, 0.05, 4.0))
    nginx_cpu = _named(_results(runs), "nginx CPU at 50 clients")
    assert nginx_cpu["met"] is True
    assert "0.45 ms of CPU per MB relayed (200.0 MB/s)" in nginx_cpu["floor"] and "for 0.050 core" in nginx_cpu["floor"]
    p99 = _named(_results(runs), "stream p99 through nginx")
    assert p99["met"] is False and "1.60x" in p99["measured"]
    runs[2] = _run("nginx", 50, 0.06, 9.0, nginx_cpu=0.11)
    assert _named(_results(runs), "nginx CPU at 50 clients")["met"] is False


def test_slow_readers_take_the_worst_run_and_name_what_their_own_socket_holds():
    runs = [_run("direct", 10, 0.03, 3.0, age_p99=650.0, unread_kb=100.0),
            _run("direct", 50, 0.06, 6.0, age_p99=1200.0, unread_kb=300.0),
            _run("nginx", 10, 0.03, 3.0, age_p99=900.0, unread_kb=50.0, unsent_kb=500.0)]
    direct = _named(_results(runs), "slow readers", "(direct")
    assert direct["met"] is False
    assert "1.20 s" in direct["measured"] and "50 clients" in direct["measured"]
    assert "1,200 kB queued" in direct["floor"] and "300 kB of it unread" in direct["floor"]
    nginx = _named(_results(runs), "slow readers", "through nginx")
    assert nginx["met"] is True and "500 kB unsent in nginx's socket to it (0.50 s)" in nginx["floor"]


def test_stack_memory_counts_every_container_but_the_feed_and_the_standins():
    stack = {"viewers": 10, "standins": ["prusa-connect"], "uploads": {"idle": 1, "loaded": 2},
             "floors": [{"service": "http", "imports": "gevent", "mem_mib": 20.0},
                        {"service": "uploader", "imports": "requests", "mem_mib": 12.0},
                        {"service": None, "imports": "nothing", "mem_mib": 3.5},
                        {"service": "moonraker-gate", "imports": "gevent", "mem_mib": None}],
             "idle": {"feed": {"mem_mib": 24.0}, "http": {"mem_mib": 30.0}, "uploader": {"mem_mib": 20.0},
                      "nginx": {"mem_mib": 4.0}, "moonraker-gate": {"mem_mib": 15.0},
                      "prusa-connect": {"mem_mib": 18.0}},
             "loaded": {"feed": {"mem_mib": 24.0}, "http": {"mem_mib": 41.0}, "uploader": {"mem_mib": 20.0},
                        "nginx": {"mem_mib": 5.0}, "moonraker-gate": {"mem_mib": 15.0},
                        "prusa-connect": {"mem_mib": 18.0}}}
    assert set(counted(stack, "idle")) == {"http", "uploader", "nginx", "moonraker-gate"}
    idle = _named(_results(stack=stack), "idle stack memory")
    assert idle["met"] is True and idle["measured"].startswith("69.0 MiB")
    # http and uploader at their floors, the gate (whose floor did not run) and nginx as measured
    assert idle["floor"].startswith("51.0 MiB") and "http 20.0 (gevent)" in idle["floor"]
    assert "nginx 4.0 (as measured)" in idle["floor"] and "python3 alone 3.5" in idle["floor"]
    loaded = _named(_results(stack=stack), "stack memory with 10 viewers")
    assert loaded["met"] is False and loaded["measured"].startswith("81.0 MiB") and "2 uploads" in loaded["measured"]
    stack["loaded"]["http"]["mem_mib"] = 30.0
    assert _named(_results(stack=stack), "stack memory with 10 viewers")["met"] is True
    stack["uploads"]["loaded"] = 0
    assert _named(_results(stack=stack), "stack memory with 10 viewers")["met"] is False  # no upload ran


def test_snapshots_through_nginx_are_judged_against_direct():
    row = {"connections": 32, "static": {"requests_per_s": 40000.0, "p99_ms": 4.0},
           "direct": {"requests_per_s": 6400.0, "ratio": 0.16, "p99_ms": 9.0, "errors": 0},
           "nginx": {"requests_per_s": 6000.0, "ratio": 0.15, "p99_ms": 11.0, "errors": 0}}
    target = _named(_results(snapshot={"rows": [row]}), "snapshots through nginx")
    assert target["met"] is True and "0.94x direct" in target["measured"]
    row["nginx"]["requests_per_s"] = 5000.0
    assert _named(_results(snapshot={"rows": [row]}), "snapshots through nginx")["met"] is False


def test_two_cameras_need_every_frame_on_each_camera_and_stand_beside_one_camera():
    camera = {"delivered_share": 1.0, "skipped_total": 0, "errors": [], "latency_ms": {"p99": 4.0}}
    runs = [{"path": "direct", "cpu": {"server": 0.06}, "per_camera": [camera, camera]},
            {"path": "nginx", "cpu": {"server": 0.07}, "per_camera": [camera, {**camera, "latency_ms": {"p99": 5.0}}]}]
    results = {"settings": {**SETTINGS, "camera_clients": 10},
               "stream": {"runs": [_run("direct", 10, 0.03, 3.0)], "cameras": runs}}
    target = _named(results, "2 cameras x 10 clients")
    assert target["met"] is True and "camera 2 100.0%, 0 skipped, p99 5.00 ms" in target["measured"]
    assert target["floor"] == "one camera x 10 clients direct: server 0.030 core, p99 3.00 ms"
    runs[1]["per_camera"][1] = {**camera, "delivered_share": 0.99, "skipped_total": 6}
    assert _named(results, "2 cameras x 10 clients")["met"] is False
    assert _named(_results([]), "2 cameras")["measured"] == "not measured"
