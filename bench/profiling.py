"""Where the frame server's time goes: py-spy (given by path; never installed by the bench) sampling its worker."""

import subprocess
from collections import Counter
from pathlib import Path
from typing import Optional

RATE = 500  # samples per second


def start(py_spy: str, pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """py-spy record in the background; collapsed stacks go to `out`. --nonblocking: the worker is never paused."""
    argv = [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", str(RATE),
            "--format", "raw", "--output", str(out), "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize(raw: Path, top: int = 12) -> Optional[dict]:
    """Samples where the worker was on CPU, by function: its own (self) and with what it called (inclusive)."""
    if not raw.exists():
        return None
    own, within, total = Counter(), Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_function(frame) for frame in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for name in set(frames):
            within[name] += int(count)
    if not total:
        return None
    return {"samples": total, "rate": RATE,
            "self": [(name, n / total) for name, n in own.most_common(top)],
            "inclusive": [(name, n / total) for name, n in within.most_common(top)]}


def _function(frame: str) -> str:
    """`Class.method (pkg/module.py)` without the line number, so a function's samples add up."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name
