"""What the kernel says about a process tree and the machine: CPU time, RSS and PSS, from /proc."""

import os
from typing import Dict, List

TICK = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> List[int]:
    """The processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def tree(pid: int) -> List[int]:
    """`pid` and its children (gunicorn's master and worker; nginx's master and worker)."""
    return [pid, *children(pid)]


def cpu_seconds(pids: List[int]) -> float:
    """User plus system CPU seconds the processes have used so far; a process that is gone counts 0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def memory_kb(pid: int) -> Dict[str, int]:
    """{"rss": kB, "pss": kB} of one process; zeros if it is gone."""
    result = {"rss": 0, "pss": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                key, _, value = line.partition(":")
                if key in ("Rss", "Pss"):
                    result[key.lower()] = int(value.split()[0])
    except OSError:
        pass
    return result


def memory_mb(pids: List[int]) -> Dict[str, float]:
    """RSS and PSS in MB (MiB) of each process and in all, e.g. {"rss": [w, m], "rss_total": .., "pss_total": ..}."""
    each = [memory_kb(pid) for pid in pids]
    return {
        "rss": [m["rss"] / 1024 for m in each],
        "rss_total": sum(m["rss"] for m in each) / 1024,
        "pss_total": sum(m["pss"] for m in each) / 1024,
    }


def machine_ticks() -> tuple:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])  # up to steal; guest time is already in user
    return total - idle, total


def busy_cores(before: tuple, after: tuple) -> float:
    """How many cores were busy on average between two machine_ticks() readings."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total * os.cpu_count() if total else 0.0
