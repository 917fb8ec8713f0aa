"""Stream fan-out: N clients (a tenth of them slow readers) on /stream.mjpg, direct or through nginx.

The clients run in one or two processes of their own (bench.streamclients), so the frame server,
the feed and the clients each have a process; nothing is pinned to a core.
"""

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import List, Optional

from . import frames, procstat
from .processes import python, python_env
from .services import Feed
from .stats import percentile

SLOW_SHARE = 0.1
SLOW_SPEED = 0.25  # a slow reader takes a quarter of the stream's bytes per second
GRACE_S = 0.5  # after the window, for the last frames to arrive


def client_processes(clients: int) -> int:
    return 2 if clients >= 20 else 1


def spawn_clients(workdir: Path, port: int, path: str, clients: int, slow: int, slow_rate: float,
                  start_ns: int, end_ns: int, stop_ns: int, tag: str) -> list:
    """Start the client processes; [(Popen, result path, log file)]."""
    count = client_processes(clients)
    spawned = []
    for index in range(count):
        share = clients // count + (index < clients % count)
        slow_share = slow // count + (index < slow % count)
        out = workdir / f"clients-{tag}-{index}.json"
        argv = python("-m", "bench.streamclients", "--port", str(port), "--path", path, "--out", str(out),
                      "--clients", str(share), "--slow", str(slow_share), "--slow-rate", str(slow_rate),
                      "--start-ns", str(start_ns), "--end-ns", str(end_ns), "--stop-ns", str(stop_ns))
        log = open(workdir / f"clients-{tag}-{index}.out", "wb")
        spawned.append((subprocess.Popen(argv, env=python_env(), stdout=log, stderr=subprocess.STDOUT), out, log))
    return spawned


def collect(spawned: list, timeout: float) -> dict:
    """Every client's result, the client processes' CPU seconds and the bytes they received in the window."""
    clients, cpu, received = [], 0.0, 0
    for proc, out, log in spawned:
        try:
            code = proc.wait(timeout)
        finally:
            log.close()
        if code:
            raise RuntimeError(f"stream clients exited with {code}: see {log.name}")
        result = json.loads(Path(out).read_text())
        clients += result["clients"]
        cpu += result["cpu_s"]
        received += result["window_bytes"]
    return {"clients": clients, "cpu_s": cpu, "window_bytes": received}


def sleep_until(when_ns: int) -> None:
    left = when_ns - time.time_ns()
    if left > 0:
        time.sleep(left / 1e9)


def all_fresh(port: int, timeout: float = 30.0) -> None:
    """Wait until /healthz says every enabled camera has a fresh frame (200)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                return
        except urllib.error.HTTPError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the frame server's cameras were not all fresh within {timeout:g} s") from None
        time.sleep(0.1)


def streams_gone(port: int, timeout: float = 15.0) -> None:
    """Wait until the frame server counts no stream client on any camera: the next run starts from the
    same state. (/healthz answers 503 while a camera has no fresh frame, with the same body.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                health = json.load(response)
        except urllib.error.HTTPError as error:
            health = json.load(error)
        if sum(camera["stream_clients"] for camera in health.get("cameras", [health])) == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the frame server still counts stream clients after {timeout:g} s")


def run(workdir: Path, feed: Feed, server, port: int, path: str, clients: int, seconds: float,
        warmup: float, proxy=None, tag: str = "run") -> dict:
    """One fan-out run; `port` is where the clients connect (the frame server's, or nginx's as `proxy`)."""
    (result,), shared = _fan_out(workdir, [(feed, path)], server, port, clients, seconds, warmup, proxy, tag)
    return {**result, **shared}


def run_cameras(workdir: Path, cameras: list, server, port: int, clients: int, seconds: float, warmup: float,
                proxy=None, tag: str = "cameras") -> dict:
    """`clients` on each of several cameras at once, `cameras` = [(its Feed, its stream path)]: each camera's
    figures, and the server's CPU and memory for all of them."""
    each, shared = _fan_out(workdir, cameras, server, port, clients, seconds, warmup, proxy, tag)
    return {"cameras": len(cameras), "clients": clients, "per_camera": each, **shared}


def _fan_out(workdir: Path, cameras: list, server, port: int, clients: int, seconds: float, warmup: float,
             proxy, tag: str) -> tuple:
    """([each camera's summary], what they share: CPU, memory, the machine) for `clients` per camera."""
    slow = max(1, round(clients * SLOW_SHARE)) if clients > 1 else 0
    start_ns = time.time_ns() + int(warmup * 1e9)
    end_ns = start_ns + int(seconds * 1e9)
    stop_ns = end_ns + int(GRACE_S * 1e9)
    spawned = []
    for index, (feed, path) in enumerate(cameras):
        slow_rate = SLOW_SPEED * feed.frame_bytes * feed.fps
        spawned.append(spawn_clients(workdir, port, path, clients, slow, slow_rate, start_ns, end_ns, stop_ns,
                                     tag if len(cameras) == 1 else f"{tag}-camera{index + 1}"))
    watched = {"server": server.pids, "feed": [feed.process.pid for feed, _ in cameras]}
    if proxy is not None:
        watched["nginx"] = proxy.pids
    sleep_until(start_ns)
    cpu_before = {name: procstat.cpu_seconds(pids) for name, pids in watched.items()}
    machine_before = procstat.machine_ticks()
    sleep_until(start_ns + (end_ns - start_ns) // 2)
    rss_mid = procstat.memory_mb(server.pids)
    sleep_until(end_ns)
    cpu_after = {name: procstat.cpu_seconds(pids) for name, pids in watched.items()}
    machine_after = procstat.machine_ticks()
    rss_end = procstat.memory_mb(server.pids)
    nginx_rss = procstat.memory_mb(proxy.pids) if proxy is not None else None
    window = (end_ns - start_ns) / 1e9
    each, client_cpu, received = [], 0.0, 0
    for (feed, path), group in zip(cameras, spawned):
        got = collect(group, timeout=seconds + warmup + 60)
        client_cpu += got["cpu_s"] / window
        received += got["window_bytes"]
        summary = summarize(got["clients"], feed.sent_between(start_ns, end_ns), start_ns, end_ns, feed.fps)
        summary.update({"clients": clients, "slow_clients": slow, "stream_path": path,
                        "slow_rate_kb_s": SLOW_SPEED * feed.frame_bytes * feed.fps / 1000})
        each.append(summary)
    cpu = {name: (cpu_after[name] - cpu_before[name]) / window for name in watched}
    busy = procstat.busy_cores(machine_before, machine_after)
    shared = {
        "seconds": window,
        "cpu": cpu,
        "client_cpu": client_cpu,
        "relayed_mb_s": received / window / 1e6,
        "machine_busy_cores": busy,
        "others_cores": max(0.0, busy - sum(cpu.values()) - client_cpu),
        "server_rss_mb": max(rss_mid["rss_total"], rss_end["rss_total"]),
        "server_pss_mb": max(rss_mid["pss_total"], rss_end["pss_total"]),
        "nginx_rss_mb": nginx_rss["rss_total"] if nginx_rss else None,
    }
    return each, shared


def summarize(clients: List[dict], sent: dict, start_ns: int, end_ns: int, fps: float) -> dict:
    """Frames delivered over frames sent in [start_ns, end_ns), skips and latencies of the clients that keep
    up; for the slow readers, frames per second received in the window, their latency, the age of the
    frames they got (frame_ages_ms), the most bytes one of them held unread in its own socket and the
    most the server's (or nginx's) end of such a connection held unsent.

    `sent` maps frame numbers to send times; a part counts only if its stamp has the send time this feed
    logged for its number (with several cameras, each camera's clients must get that camera's frames).
    A skipped frame the feed sent less than half a frame interval before the next one (after a stall
    of the feed, two frames back to back) is counted apart: the frame server sends the newest frame,
    so such a pair reaches a client as one.
    """
    in_window = {n for n, when in sent.items() if start_ns <= when < end_ns}
    burst = {n for n in in_window if n + 1 in sent and sent[n + 1] - sent[n] < 0.5e9 / fps}
    keeping = [c for c in clients if not c["slow"]]
    slow = [c for c in clients if c["slow"]]
    latencies, skipped, delivered, skipped_in_burst = [], [], 0, 0
    for client in keeping:
        got = set()
        for number, sent_ns, received_ns in zip(client["numbers"], client["sent_ns"], client["received_ns"]):
            if start_ns <= sent_ns < end_ns and sent.get(number) == sent_ns:  # this feed's frame, not another's
                got.add(number)
                latencies.append((received_ns - sent_ns) / 1e6)
        delivered += len(got & in_window)
        missing = in_window - got
        skipped.append(len(missing))
        skipped_in_burst += len(missing & burst)
    slow_latencies = [(received - sent) / 1e6 for c in slow for sent, received in zip(c["sent_ns"], c["received_ns"])
                      if start_ns <= received < end_ns]
    slow_ages = frame_ages_ms(slow, start_ns, end_ns)
    unread = [c["unread_bytes"] for c in slow if c.get("unread_bytes") is not None]
    unsent = [c["peer_queued_bytes"] for c in slow if c.get("peer_queued_bytes") is not None]
    window = (end_ns - start_ns) / 1e9
    return {
        "sent": len(in_window),
        "feed_bursts": len(burst),
        "delivered_share": _share(delivered, len(in_window) * len(keeping)),
        "skipped_total": sum(skipped),
        "skipped_max": max(skipped, default=0),
        "skipped_after_burst": skipped_in_burst,
        "latency_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                       "max": max(latencies, default=None), "count": len(latencies)},
        "slow_fps": len(slow_latencies) / len(slow) / window if slow else None,
        "slow_latency_p50_ms": percentile(slow_latencies, 50),
        "slow_age_ms": {"p50": percentile(slow_ages, 50), "p99": percentile(slow_ages, 99),
                        "max": max(slow_ages, default=None), "count": len(slow_ages)},
        "slow_unread_kb": max(unread) / 1000 if unread else None,
        "slow_unsent_kb": max(unsent) / 1000 if unsent else None,
        "errors": sorted({c["error"] for c in clients if c["error"]}),
        "statuses": sorted({c["status"] or 0 for c in clients}),
    }


def frame_ages_ms(clients: List[dict], start_ns: int, end_ns: int) -> List[float]:
    """How old each part was when its last byte arrived, in ms: receive time minus the part's X-Timestamp
    (the frame server's stamp of the frame, same clock), for the parts received in [start_ns, end_ns)."""
    return [(received - stamp * 1e9) / 1e6 for c in clients
            for stamp, received in zip(c["x_timestamps"], c["received_ns"])
            if stamp is not None and start_ns <= received < end_ns]


def _share(part: int, whole: int) -> Optional[float]:
    return part / whole if whole else None


def floor(port: int, seconds: float) -> dict:
    """The ceiling for latency: a client reading a bench feed straight off its socket, no server between."""
    latencies = []
    buf = bytearray()
    deadline = time.monotonic() + seconds
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        while time.monotonic() < deadline:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            now = time.time_ns()
            buf += chunk
            end = buf.find(b"\xff\xd9")
            while end >= 0:
                stamp = frames.read_stamp(bytes(buf[:frames.HEAD_BYTES]))
                if stamp:
                    latencies.append((now - stamp[1]) / 1e6)
                del buf[:end + 2]
                end = buf.find(b"\xff\xd9")
    return {"frames": len(latencies), "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
            "max": max(latencies, default=None)}
