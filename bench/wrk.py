"""Snapshot load from wrk (Debian's package): requests/s and latency percentiles at N connections."""

import json
import resource
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk_report.lua")
MARK = "BENCH-JSON "


def run(url: str, connections: int, seconds: float, threads: int = 2) -> dict:
    """wrk's figures: requests_per_s, p50_ms, p99_ms, max_ms, errors (all kinds, non-2xx included)."""
    argv = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "5s", "-s", str(SCRIPT), url]
    before = _children_cpu()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    wrk_cpu = _children_cpu() - before
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    raw = json.loads(lines[-1][len(MARK):])
    seconds_run = raw["duration_us"] / 1e6
    errors = {key: raw[key] for key in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")}
    return {
        "connections": connections,
        "requests": raw["requests"],
        "requests_per_s": raw["requests"] / seconds_run if seconds_run else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": sum(errors.values()),
        "error_kinds": {key: value for key, value in errors.items() if value},
        "mb_per_s": raw["bytes"] / seconds_run / 1e6 if seconds_run else 0.0,
        "wrk_cpu": wrk_cpu / seconds_run if seconds_run else 0.0,
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
