"""The issues' targets, checked against a run's results: each met, missed, or not measured, with the floor
measured in the same run that explains a miss.

Issue 13 (lean enough for a Pi Zero 2 W) replaces issue 6's stream latency, CPU, snapshot ratio and RSS
targets with figures relative to the floors; issue 6's delivery, snapshot p99, churn and parser targets stay.
"""

from typing import Callable, List, Optional

# The server this project replaces, measured on the same kind of machine (issue 6).
BEFORE = [
    "one stream client got 199/300 frames at 720p30, latency p99 35 ms",
    "at 50 clients some clients got 65 frames in 10 s, at 104% of a core",
    "snapshots 2,777 req/s, p99 1.03 s, with timeouts, where nginx static did 11,151 req/s, p99 4.5 ms",
]
# Containers of the compose stack that are not the appliance's share of the Pi's memory: the camera's own
# (the feed; on a Pi rpicam-vid does that work) and the bench's stand-ins for outside systems.
NOT_COUNTED = ("feed",)


def _target(issue: int, text: str, measured: str, met: Optional[bool], floor: str = "") -> dict:
    return {"issue": issue, "target": text, "measured": measured, "met": met, "floor": floor}


def _verdict(oks: List[bool], complete: bool) -> Optional[bool]:
    """Missed if any measured figure misses; met only if every figure the target names was measured."""
    if not all(oks):
        return False
    return True if complete else None


def _runs(results: dict, path: str, size: Optional[list] = None) -> list:
    stream = results.get("stream") or {}
    return [r for r in stream.get("runs", []) if r["path"] == path and (size is None or r["size"] == size)]


def _primary(results: dict) -> list:
    return list(results["settings"]["sizes"][0])


def _picture(results: dict) -> str:
    width, height = _primary(results)
    return f"{height}p{results['settings']['fps']:g}" if width * 9 == height * 16 else f"{width}x{height}"


def _target_clients(results: dict) -> list:
    """The client counts the issue names (50 and 100); the smoke run's own, small."""
    return list(results["settings"].get("target_clients", [50, 100]))


def _target_connections(results: dict) -> int:
    return results["settings"].get("target_connections", 32)


def _at(results: dict, path: str, clients: list) -> dict:
    """{clients: run} for the runs at the primary picture size."""
    return {r["clients"]: r for r in _runs(results, path, _primary(results)) if r["clients"] in clients}


def _every_frame(results: dict, path: str) -> dict:
    runs = _runs(results, path, _primary(results))
    text = f"every frame to every keeping-up client, up to 100 clients ({path})"
    if not runs:
        return _target(6, text, "not measured", None)
    worst = min(runs, key=lambda r: (r["delivered_share"] or 0, -r["skipped_total"]))
    measured = "; ".join(f"{r['clients']}: {_pct(r['delivered_share'])}, {r['skipped_total']} skipped"
                         + (f" ({r['skipped_after_burst']} after a feed burst)" if r["skipped_after_burst"] else "")
                         for r in runs)
    met = all(r["delivered_share"] == 1.0 and r["skipped_total"] == 0 and not r["errors"] for r in runs)
    floor = "" if met else "frames lost to feed bursts are the feed's (two frames < half an interval apart)"
    return _target(6, text, measured + ("" if met else f" (worst at {worst['clients']} clients)"), met,
                   floor if not met and all(r["skipped_total"] == r["skipped_after_burst"] for r in runs) else "")


def _cameras(results: dict) -> dict:
    runs = (results.get("stream") or {}).get("cameras") or []
    clients = results["settings"].get("camera_clients", 10)
    text = (f"2 cameras x {clients} clients x {_picture(results)}: every frame to every keeping-up client of each "
            "camera (direct and through nginx)")
    if not runs:
        return _target(13, text, "not measured", None)
    measured = "; ".join(f"{run['path']}: " + ", ".join(
        f"camera {n} {_pct(c['delivered_share'])}, {c['skipped_total']} skipped, p99 {_ms(c['latency_ms']['p99'])}"
        for n, c in enumerate(run["per_camera"], 1)) + f", server {run['cpu']['server']:.3f} core" for run in runs)
    one = _at(results, "direct", [clients]).get(clients)
    floor = (f"one camera x {clients} clients direct: server {one['cpu']['server']:.3f} core, p99 "
             f"{_ms(one['latency_ms']['p99'])}" if one else "")
    met = all(c["delivered_share"] == 1.0 and c["skipped_total"] == 0 and not c["errors"]
              for run in runs for c in run["per_camera"])
    return _target(13, text, measured, met, floor)


def _relative(results: dict, text: str, path: str, base: str, value: Callable[[dict], Optional[float]],
              unit: Callable, limit: float, floor_label: str = "") -> dict:
    """`path`'s runs over `base`'s at the target client counts and the primary size, each at most `limit`x."""
    counts = _target_clients(results)
    text = text.format(clients=" and ".join(map(str, counts)), picture=_picture(results), limit=limit)
    measured_runs, base_runs = _at(results, path, counts), _at(results, base, counts)
    both = [n for n in counts if n in measured_runs and n in base_runs]
    if not both:
        return _target(13, text, "not measured", None)
    ratios = {n: _ratio(value(measured_runs[n]), value(base_runs[n])) for n in both}
    measured = "; ".join(f"{n}: {unit(value(measured_runs[n]))} = {_x(ratios[n])}" for n in both)
    floor = floor_label + "; ".join(f"{n}: {unit(value(base_runs[n]))}" for n in both)
    return _target(13, text, measured, _verdict([r is not None and r <= limit for r in ratios.values()],
                                                len(both) == len(counts)), floor)


def _nginx_cpu(results: dict, limit: float) -> dict:
    clients = _target_clients(results)[0]
    text = f"nginx CPU at {clients} clients x {_picture(results)} at most {limit:g} core"
    run = _at(results, "nginx", [clients]).get(clients)
    if run is None or run["cpu"].get("nginx") is None:
        return _target(13, text, "not measured", None)
    cpu = run["cpu"]["nginx"]
    relayed = run.get("relayed_mb_s")
    floor = f"{cpu / relayed * 1000:.2f} ms of CPU per MB relayed ({relayed:.1f} MB/s)" if relayed else ""
    bare = _at(results, "ceiling", [clients]).get(clients)
    if bare is not None:
        floor += (("; " if floor else "")
                  + f"the bare Python server sends the same bytes for {bare['cpu']['server']:.3f} core")
    return _target(13, text, f"{cpu:.3f} core", cpu <= limit, floor)


def _slow_readers(results: dict, path: str, limit_s: float) -> dict:
    """Every run with slow readers on `path`: the p99 age of the frames they got, by X-Timestamp."""
    text = (f"slow readers (a quarter of the stream's byte rate) get frames at most {limit_s:g} s old "
            f"({'direct' if path == 'direct' else 'through nginx'}; p99 of X-Timestamp to arrival)")
    runs = [r for r in _runs(results, path) if r["slow_clients"] and r.get("slow_age_ms", {}).get("count")]
    if not runs:
        return _target(13, text, "not measured", None)
    measured, floor = [], []
    for size in sorted({tuple(r["size"]) for r in runs}):
        worst = max((r for r in runs if tuple(r["size"]) == size), key=lambda r: r["slow_age_ms"]["p99"])
        age = worst["slow_age_ms"]
        measured.append(f"{size[0]}x{size[1]}: {age['p99'] / 1000:.2f} s (max {age['max'] / 1000:.2f} s, "
                        f"{worst['clients']} clients)")
        queued = age["p50"] / 1000 * worst["slow_rate_kb_s"]
        text_floor = f"{size[0]}x{size[1]}: {queued:,.0f} kB queued at {worst['slow_rate_kb_s']:,.0f} kB/s"
        if worst.get("slow_unread_kb") is not None:
            text_floor += (f", {worst['slow_unread_kb']:,.0f} kB of it unread in the reader's own socket "
                           f"({worst['slow_unread_kb'] / worst['slow_rate_kb_s']:.2f} s)")
        if worst.get("slow_unsent_kb") is not None:
            sender = "the frame server" if path == "direct" else "nginx"
            text_floor += (f", {worst['slow_unsent_kb']:,.0f} kB unsent in {sender}'s socket to it "
                           f"({worst['slow_unsent_kb'] / worst['slow_rate_kb_s']:.2f} s)")
        bare = [r for r in _runs(results, "ceiling", list(size)) if r["clients"] == worst["clients"]
                and r.get("slow_age_ms", {}).get("count")]
        if bare:
            text_floor += ("; the bare server, buffers as the kernel sizes them: "
                           f"{bare[0]['slow_age_ms']['p99'] / 1000:.2f} s")
        floor.append(text_floor)
    return _target(13, text, "; ".join(measured), all(r["slow_age_ms"]["p99"] <= limit_s * 1000 for r in runs),
                   "; ".join(floor))


def _snapshot_keepalive(results: dict, limit: float, connections: int) -> dict:
    text = (f"snapshots through nginx at {connections} connections at least {limit:g}x direct "
            "(upstream keepalive)")
    rows = [r for r in (results.get("snapshot") or {}).get("rows", []) if r["connections"] == connections]
    if not rows:
        return _target(13, text, "not measured", None)
    row = rows[0]
    nginx, direct = row["nginx"], row["direct"]
    ratio = _ratio(nginx["requests_per_s"], direct["requests_per_s"])
    measured = f"{nginx['requests_per_s']:,.0f} req/s = {_x(ratio)} direct, {nginx['ratio']:.2f}x nginx static"
    floor = (f"direct {direct['requests_per_s']:,.0f} req/s ({direct['ratio']:.2f}x static), nginx static "
             f"{row['static']['requests_per_s']:,.0f} req/s")
    return _target(13, text, measured, ratio is not None and ratio >= limit and not nginx["errors"], floor)


def _snapshot_p99(results: dict, limit: float, connections: int) -> dict:
    rows = [r for r in (results.get("snapshot") or {}).get("rows", []) if r["connections"] == connections]
    text = f"snapshot p99 under {limit:g} ms at {connections} connections"
    if not rows:
        return _target(6, text, "not measured", None)
    row = rows[0]
    return _target(6, text, f"direct {_ms(row['direct']['p99_ms'])}, through nginx {_ms(row['nginx']['p99_ms'])}",
                   row["direct"]["p99_ms"] < limit and row["nginx"]["p99_ms"] < limit,
                   f"nginx static {_ms(row['static']['p99_ms'])}")


def counted(stack: dict, phase: str) -> dict:
    """{service: MiB} of the appliance's containers that count for the memory targets in one phase."""
    standins = set(stack.get("standins", ()))
    return {service: figures["mem_mib"] for service, figures in stack[phase].items()
            if service not in NOT_COUNTED and service not in standins}


def _stack_memory(results: dict, phase: str, limit: float) -> dict:
    stack = results.get("stack") or {}
    if phase == "idle":
        text = f"idle stack memory, one camera, without the feed container, at most {limit:g} MiB (`docker stats`)"
    else:
        text = f"stack memory with {stack.get('viewers', 10)} viewers and uploads running, without the feed, " \
               f"at most {limit:g} MiB"
    if phase not in stack:
        return _target(13, text, "not measured" + (f": {stack['skipped']}" if "skipped" in stack else ""), None)
    each = counted(stack, phase)
    total = sum(each.values())
    measured = f"{total:.1f} MiB: " + ", ".join(f"{service} {mib:.1f}" for service, mib in sorted(each.items()))
    if phase == "loaded" and stack.get("uploads") is not None:
        measured += f" ({stack['uploads']['loaded']} uploads accepted meanwhile)"
    return _target(13, text, measured, total <= limit and (phase != "loaded" or _uploaded(stack)),
                   _memory_floor(stack.get("floors") or [], each))


def _memory_floor(floors: list, each: dict) -> str:
    """What the counted containers would take if each Python one held only its libraries, imported in the
    image's python3 (stackbench.FLOORS); a container without such a floor (nginx) as measured."""
    least = {f["service"]: f for f in floors if f["service"] and f["mem_mib"] is not None}
    if not least:
        return ""
    parts = [f"{service} {least[service]['mem_mib']:.1f} ({least[service]['imports']})" if service in least
             else f"{service} {mib:.1f} (as measured)" for service, mib in sorted(each.items())]
    total = sum(least[service]["mem_mib"] if service in least else mib for service, mib in each.items())
    alone = [f["mem_mib"] for f in floors if not f["service"] and f["mem_mib"] is not None]
    return (f"{total:.1f} MiB with only their libraries loaded: " + ", ".join(parts)
            + (f"; python3 alone {alone[0]:.1f}" if alone else ""))


def _restart(results: dict, limit_s: float, key: str = "restarts", who: str = "the frame server",
             ready: str = "the frame server's first frame after its start") -> dict:
    restarts = (results.get("stack") or {}).get(key)
    text = (f"no 502 window after a restart: after each kill -9 of {who} the door serves again within "
            f"{limit_s:g} s of its container being up")
    if not restarts or not restarts["kills"]:
        return _target(13, text, "not measured", None)
    kills = restarts["kills"]
    gaps = [k["up_to_200_s"] for k in kills]
    up_failures: dict = {}
    for kill in kills:
        for status, count in kill["failures"]["up"].items():
            up_failures[status] = up_failures.get(status, 0) + count
    answers = ", ".join(f"{status} x{n}" for status, n in sorted(up_failures.items()))
    measured = (f"{len(kills)} crashes: " + ", ".join("never" if g is None else f"{g:.2f} s" for g in gaps)
                + "; once up, the door answered " + (answers or "at once"))
    ready_s = [k["ready_s"] for k in kills if k["ready_s"] is not None]
    floor = f"{ready}: at most {max(ready_s):.2f} s" if ready_s else ""
    return _target(13, text, measured, all(g is not None and g <= limit_s for g in gaps), floor)


def _uploaded(stack: dict) -> bool:
    return stack.get("uploads") is None or stack["uploads"]["loaded"] > 0


def _rss_churn(results: dict, allowance: float) -> dict:
    memory = results.get("memory") or {}
    text = f"no RSS growth after {memory.get('churn', 1000)} clients have connected and gone"
    if "after_churn_2" not in memory:
        return _target(6, text, "not measured", None)
    before = memory["before_churn"]["rss_total"]
    first, second = memory["after_churn_1"]["rss_total"], memory["after_churn_2"]["rss_total"]
    measured = (f"{before:.1f} MB before, {first:.1f} MB after the first round, {second:.1f} MB after the second "
                f"(allowance {allowance:g} MB)")
    return _target(6, text, measured, second - before <= allowance)


def _parser(results: dict, limit: float) -> dict:
    rows = results.get("parser") or []
    text = f"parser at least {limit:g}x the bare bytes.find scan"
    if not rows:
        return _target(6, text, "not measured", None)
    first = [(r["size"], r["splitter"][0]) for r in rows]
    measured = "; ".join(f"{w}x{h}: {s['ratio']:.2f}x ({s['read_bytes'] // 1024} KiB reads)" for (w, h), s in first)
    floor = "; ".join(f"{w}x{h}: {s['fast_ratio']:.2f}x the faster scan" for (w, h), s in first)
    return _target(6, text, measured, all(s["ratio"] >= limit for _, s in first), floor)


_FLOOR_TEXT = "frame-server {what} at {{clients}} clients x {{picture}} at most {{limit:g}}x the bare-Python floor"


def evaluate(results: dict) -> List[dict]:
    return [
        _stack_memory(results, "idle", 70.0),
        _stack_memory(results, "loaded", 80.0),
        _relative(results, _FLOOR_TEXT.format(what="CPU"), "direct", "ceiling", lambda r: r["cpu"]["server"],
                  lambda v: f"{v:.3f} core", 1.2),
        _relative(results, _FLOOR_TEXT.format(what="p99 latency"), "direct", "ceiling",
                  lambda r: r["latency_ms"]["p99"], _ms, 1.2),
        _nginx_cpu(results, 0.1),
        _relative(results, "stream p99 through nginx at most {limit:g}x direct at {clients} clients x {picture}",
                  "nginx", "direct", lambda r: r["latency_ms"]["p99"], _ms, 1.5, "direct "),
        _slow_readers(results, "direct", 1.0),
        _slow_readers(results, "nginx", 1.0),
        _snapshot_keepalive(results, 0.9, _target_connections(results)),
        _restart(results, 1.5),
        _restart(results, 1.5, "gate_restarts", "the Moonraker gate", "the gate listening after its start"),
        _cameras(results),
        _every_frame(results, "direct"),
        _every_frame(results, "nginx"),
        _snapshot_p99(results, 25.0, _target_connections(results)),
        _rss_churn(results, 1.0),
        _parser(results, 0.8),
    ]


def _ratio(value: Optional[float], base: Optional[float]) -> Optional[float]:
    return None if value is None or not base else value / base


def _x(ratio: Optional[float]) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def _pct(share: Optional[float]) -> str:
    return "n/a" if share is None else f"{share:.1%}"


def _ms(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"
