"""Snapshots under load from wrk: the frame server direct and through the project's nginx, beside two
ceilings: nginx serving the same JPEG as a static file, and the bare Python server (bench.bareserver)."""

import urllib.request
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from . import procstat, wrk
from .quiet import quietest
from .services import BareServer, Feed, FrameServer, project_nginx, static_nginx, started_in


def run(workdir: Path, size: tuple, fps: float, cache: Path, connections: list, seconds: float,
        tries: int) -> dict:
    """Each connection count against the three targets in turn, so they share the machine's conditions."""
    with ExitStack() as stack:
        feed = started_in(stack, Feed(workdir, size, fps, cache, name="snapshot-feed"))
        server = started_in(stack, FrameServer(workdir, feed))
        proxy = started_in(stack, project_nginx(workdir, server))
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/snapshot.jpg", timeout=10) as response:
            jpeg = response.read()
        static = started_in(stack, static_nginx(workdir, jpeg))
        ceiling_feed = started_in(stack, Feed(workdir, size, fps, cache, name="snapshot-ceiling-feed"))
        bare = started_in(stack, BareServer(workdir, ceiling_feed))
        targets = {
            "static": (static.port, {"nginx": static.pids}),
            "bare": (bare.port, {"server": bare.pids}),
            "direct": (server.port, {"server": server.pids}),
            "nginx": (proxy.port, {"server": server.pids, "nginx": proxy.pids}),
        }
        rows = []
        for count in connections:
            row = {"connections": count}
            for name, (port, watched) in targets.items():
                row[name] = quietest(partial(_measure, f"http://127.0.0.1:{port}/snapshot.jpg", count, seconds,
                                             watched), tries)
            static_rate = row["static"]["requests_per_s"]
            for name in ("bare", "direct", "nginx"):
                row[name]["ratio"] = row[name]["requests_per_s"] / static_rate if static_rate else None
            rows.append(row)
        return {"size": list(size), "jpeg_bytes": len(jpeg), "seconds": seconds, "rows": rows}


def _measure(url: str, connections: int, seconds: float, watched: dict) -> dict:
    """wrk's figures, the CPU of the watched programs and of wrk, and the cores busy outside them."""
    before = {key: procstat.cpu_seconds(pids) for key, pids in watched.items()}
    machine_before = procstat.machine_ticks()
    figures = wrk.run(url, connections, seconds)
    machine_after = procstat.machine_ticks()
    figures["cpu"] = {key: (procstat.cpu_seconds(pids) - before[key]) / seconds for key, pids in watched.items()}
    busy = procstat.busy_cores(machine_before, machine_after)
    figures["others_cores"] = max(0.0, busy - sum(figures["cpu"].values()) - figures["wrk_cpu"])
    return figures
