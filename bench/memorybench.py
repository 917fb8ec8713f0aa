"""Memory: the frame server idle, with N stream clients, after churns of short-lived clients; the uploader and nginx."""

import json
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

from . import procstat, streambench
from .processes import python, python_env
from .services import Feed, FrameServer, Uploader, project_nginx, started_in


CHURN_CONCURRENCY = 25
CHURN_PARTS = 3  # a viewer that looks for a moment: about 0.1 s at 30 fps


def churn(workdir: Path, port: int, total: int, tag: str) -> dict:
    """`total` streams opened CHURN_CONCURRENCY at a time, each gone once CHURN_PARTS parts are whole."""
    out = workdir / f"churn-{tag}.json"
    argv = python("-m", "bench.streamclients", "--port", str(port), "--churn", str(total), "--concurrency",
                  str(CHURN_CONCURRENCY), "--parts", str(CHURN_PARTS), "--out", str(out), "--timeout", "300")
    with open(workdir / f"churn-{tag}.out", "wb") as log:
        subprocess.run(argv, env=python_env(), stdout=log, stderr=subprocess.STDOUT, check=True, timeout=360)
    return json.loads(out.read_text())


def run(workdir: Path, size: tuple, fps: float, cache: Path, clients: int, seconds: float, warmup: float,
        churn_total: int, settle: float) -> dict:
    with ExitStack() as stack:
        feed = started_in(stack, Feed(workdir, size, fps, cache, name="memory-feed"))
        server = started_in(stack, FrameServer(workdir, feed))
        proxy = started_in(stack, project_nginx(workdir, server))
        uploader = started_in(stack, Uploader(workdir, server.port))
        time.sleep(settle)  # frames flowing, nobody watching: the server at rest
        result = {"size": list(size), "clients": clients, "churn": churn_total, "churn_concurrency": CHURN_CONCURRENCY,
                  "churn_parts": CHURN_PARTS,
                  "idle": procstat.memory_mb(server.pids), "nginx_idle": procstat.memory_mb(proxy.pids)}
        loaded = streambench.run(workdir, feed, server, server.port, "/stream.mjpg", clients, seconds, warmup,
                                 tag="memory")
        result["with_clients"] = {"rss_total": loaded["server_rss_mb"], "pss_total": loaded["server_pss_mb"]}
        streambench.streams_gone(server.port)
        result["before_churn"] = procstat.memory_mb(server.pids)
        for round_ in (1, 2):
            result[f"churn_{round_}"] = churn(workdir, server.port, churn_total, str(round_))
            streambench.streams_gone(server.port)
            result[f"after_churn_{round_}"] = procstat.memory_mb(server.pids)
        result["uploader"] = procstat.memory_mb([uploader.process.pid])
        return result
