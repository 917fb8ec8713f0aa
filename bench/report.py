"""RESULTS.md from a run's results: the machine, every figure beside its ceiling, the targets."""

from pathlib import Path
from typing import List, Optional

from .quiet import OTHERS_LIMIT, TRIES
from .restartbench import RUNNING_S
from .targets import BEFORE, counted, evaluate

ANALYSIS = Path(__file__).with_name("analysis.md")


def _f(value: Optional[float], digits: int = 1, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def _pct(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _size(size) -> str:
    return f"{size[0]}x{size[1]}"


def render(results: dict) -> str:
    settings = results["settings"]
    machine = results["machine"]
    out = ["# Benchmarks", ""]
    out += [f"Measured by `bench/run` ({results['mode']} mode) on {machine['date']}. The bench starts every program "
            "as a process of its own on loopback (the bench feed, the frame server, nginx, the clients); nothing is "
            "pinned to a core. Run it again, and commit this file, whenever the hot path changes.", ""]
    if results.get("failed"):
        out += ["**Sections that failed:** " + "; ".join(f"{k}: {v}" for k, v in results["failed"].items()), ""]
    if results.get("seconds"):
        out += ["Time per section: " + ", ".join(f"{k} {_duration(v)}" for k, v in results["seconds"].items())
                + f"; {_duration(sum(results['seconds'].values()))} in all.", ""]
    out += ["## Machine", ""]
    out += _table(["", ""], [
        ["cores (nproc)", str(machine["nproc"])], ["CPU", machine["cpu"]], ["kernel", machine["kernel"]],
        ["memory", f"{machine['memory_gib']:.1f} GiB"],
        ["load average at start", ", ".join(f"{x:.2f}" for x in machine["load_at_start"])],
        ["Python (host: frame server, uploader, bench)", machine["python_host"]],
        ["Python (images)", (results.get("stack") or {}).get("python_image", "not measured")],
        ["nginx (host)", machine["nginx_host"]], ["wrk", machine["wrk"]],
        ["packages", ", ".join(f"{k} {v}" for k, v in machine["packages"].items())],
    ])
    out += ["", "## Targets", "",
            "Issue 13's targets, then those of issue 6 that still stand. Floor: what the same run measured for the "
            "least that can be done (the bare Python server, nginx static, a bare python3 container, the reader's "
            "own socket), the figure that explains a miss.", ""]
    out += _table(["issue", "target", "measured", "floor", ""], [
        [str(t["issue"]), t["target"], t["measured"], t["floor"] or "-",
         {True: "met", False: "**missed**", None: "not measured"}[t["met"]]] for t in evaluate(results)])
    out += ["", "The server this project replaces, on the same kind of machine: " + "; ".join(BEFORE) + ".", ""]
    out += _parser(results.get("parser"))
    out += _snapshots(results.get("snapshot"), settings)
    out += _streams(results.get("stream"), settings)
    out += _memory(results.get("memory"))
    out += _stack(results.get("stack"))
    out += _profiles(results.get("profile"))
    if results["mode"] == "full" and ANALYSIS.exists():
        out += ["## Where the time goes, and what would close the gaps", "", ANALYSIS.read_text().strip(), ""]
    return "\n".join(out) + "\n"


def _parser(rows) -> list:
    out = ["## 1. Frame extraction", ""]
    if not rows:
        return out + ["Not measured.", ""]
    out += ["The frame server's `FrameSplitter` over a feed recorded from the bench feed, fed in the frame server's "
            "read size and in small reads, beside the issue's ceiling, a bare `bytes.find(b\"\\xff\\xd9\")` of "
            "every EOI over the same bytes in one piece, and a faster bare scan (`find(b\"\\xd9\")`, a memchr, then "
            "a look at the byte before). Ratios: over the issue's ceiling / over the faster scan. Best of several "
            "passes; MB = 10^6 bytes.", ""]
    table = []
    for row in rows:
        cells = [_size(row["size"]), f"{row['frames']} frames, {row['megabytes']:.1f} MB",
                 _f(row["scan_mb_s"], 0) + " MB/s", _f(row["fast_scan_mb_s"], 0) + " MB/s"]
        for s in row["splitter"]:
            cells += [f"{_f(s['mb_s'], 0)} MB/s ({s['read_bytes'] // 1024} KiB reads)",
                      f"{s['ratio']:.2f}x / {s['fast_ratio']:.2f}x", f"{s['us_per_frame']:.0f} µs"]
        table.append(cells)
    header = ["picture", "recording", "ceiling: bytes.find", "faster scan"]
    for _ in rows[0]["splitter"]:
        header += ["FrameSplitter", "ratios", "per frame"]
    return out + _table(header, table) + [""]


def _snapshots(snapshot, settings) -> list:
    out = ["## 2. Snapshots", ""]
    tries = settings.get("tries", TRIES)  # results.json of runs from before "tries" was a setting
    if not snapshot:
        return out + ["Not measured.", ""]
    out += [f"`GET /snapshot.jpg` ({_size(snapshot['size'])}, {snapshot['jpeg_bytes']:,} bytes, the feed at 30 fps) "
            f"from wrk, {snapshot['seconds']:g} s per cell, 2 threads. The ceiling is nginx serving the same JPEG as "
            "a static file in the same run; ratio = req/s over the ceiling's. The Python ceiling is "
            "`bench/bareserver.py`: one process, a selector, no HTTP parsing beyond the request line, the response "
            "built once per frame. CPU in cores (CPU s per s); others = cores busy outside the programs measured "
            f"and wrk (a cell with more than {OTHERS_LIMIT} was tried again, up to {tries} times, and the quietest "
            "attempt kept).", ""]
    table = []
    for row in snapshot["rows"]:
        for name, label in (("static", "nginx static (ceiling)"), ("bare", "bare Python server (ceiling)"),
                            ("direct", "frame server direct"), ("nginx", "through the project's nginx")):
            f = row[name]
            cpu = ", ".join(f"{k} {v:.2f}" for k, v in f["cpu"].items()) + f", wrk {f['wrk_cpu']:.2f}"
            table.append([str(row["connections"]), label, _f(f["requests_per_s"], 0),
                          "1.00x" if name == "static" else f"{f['ratio']:.2f}x",
                          _f(f["p50_ms"], 2), _f(f["p99_ms"], 2), _f(f["max_ms"], 1),
                          str(f["errors"]) + (f" {f['error_kinds']}" if f["error_kinds"] else ""), cpu,
                          _f(f["others_cores"], 2) + ("" if f["attempts"] == 1 else f" ({f['attempts']} tries)")])
    return out + _table(["conns", "target", "req/s", "ratio", "p50 ms", "p99 ms", "max ms", "errors", "CPU", "others"],
                        table) + [""]


def _streams(stream, settings) -> list:
    out = ["## 3. Stream fan-out", ""]
    tries = settings.get("tries", TRIES)
    if not stream:
        return out + ["Not measured.", ""]
    out += [f"`GET /stream.mjpg` for {settings['stream_seconds']:g} s per row (after {settings['warmup']:g} s of "
            "connecting), the feed at 30 fps. A tenth of the clients (rounded, at least one of several) read "
            "slowly, at a quarter of the stream's byte rate; the others keep up. Delivered = frames received over "
            "frames the feed sent in the window, per keeping-up client, summed; skipped = sent frames a keeping-up "
            "client never got (a feed burst: the feed stalled, then sent two frames less than half a frame "
            "interval apart; the frame server sends the newest, so such a pair arrives as one). Latency = client "
            "receive time of a part's last byte minus the feed's stamp (same clock), keeping-up clients. Frame age "
            "(slow readers) = receive time of a part's last byte minus its X-Timestamp, the frame server's stamp "
            "of the frame. CPU in "
            "cores, from /proc (frame server: gunicorn master + worker). The clients run in one or two processes "
            "of their own; their CPU and the machine's busy cores are shown, so a run the machine limited shows. "
            "The ceiling rows "
            "are `bench/bareserver.py`, the least a Python process can do to fan the feed out in the same wire "
            "format, on its own copy of the feed. Others = cores busy outside the programs measured (other work on "
            f"the machine); a run with more than {OTHERS_LIMIT} was tried again, up to {tries} times, and the "
            "quietest attempt kept.", ""]
    floors = stream.get("floor") or {}
    if floors:
        out += ["Latency ceiling (the feed read straight off its socket, no server between): " + "; ".join(
            f"{key}: p50 {_f(v['p50'], 2)} ms, p99 {_f(v['p99'], 2)} ms, max {_f(v['max'], 2)} ms"
            for key, v in floors.items()) + ".", ""]
    table = []
    for r in stream["runs"]:
        lat = r["latency_ms"]
        slow = "-" if not r["slow_clients"] else f"{_f(r['slow_fps'], 1)} fps, {_age(r.get('slow_age_ms'))}"
        path = "bare Python (ceiling)" if r["path"] == "ceiling" else r["path"]
        table.append([_size(r["size"]), path, f"{r['clients']} ({r['slow_clients']})", str(r["sent"]),
                      _pct(r["delivered_share"]), _skipped(r),
                      f"{_f(lat['p50'], 2)} / {_f(lat['p99'], 2)} / {_f(lat['max'], 2)}", slow,
                      _f(r["cpu"]["server"], 3), _f(r["cpu"].get("nginx"), 3), _f(r["client_cpu"], 2),
                      _f(r["machine_busy_cores"], 2),
                      _f(r["others_cores"], 2) + ("" if r["attempts"] == 1 else f" ({r['attempts']} tries)"),
                      _f(r["server_rss_mb"], 1), "; ".join(r["errors"]) or "-"])
    out += _table(["picture", "path", "clients (slow)", "sent", "delivered", "skipped", "latency p50/p99/max ms",
                   "slow readers: rate, frame age p50/p99 s", "server CPU", "nginx CPU", "clients CPU", "machine busy",
                   "others", "server RSS MB", "errors"], table) + [""]
    return out + _cameras(stream.get("cameras"))


def _cameras(runs) -> list:
    if not runs:
        return []
    out = [f"**Two cameras.** One frame server reading two bench feeds (camera 2: CAMERA2_SOURCE set, its feed on "
           f"the next port), {runs[0]['clients']} clients on each camera's `/webcamN/stream.mjpg` at once, the "
           "same windows and slow readers as above; CPU and memory are the frame server's for both cameras.", ""]
    table = []
    for run in runs:
        for number, c in enumerate(run["per_camera"], 1):
            lat = c["latency_ms"]
            slow = "-" if not c["slow_clients"] else f"{_f(c['slow_fps'], 1)} fps, {_age(c.get('slow_age_ms'))}"
            table.append([_size(run["size"]), run["path"], str(number), f"{c['clients']} ({c['slow_clients']})",
                          str(c["sent"]), _pct(c["delivered_share"]), _skipped(c),
                          f"{_f(lat['p50'], 2)} / {_f(lat['p99'], 2)} / {_f(lat['max'], 2)}", slow,
                          _f(run["cpu"]["server"], 3), _f(run["cpu"].get("nginx"), 3),
                          _f(run["others_cores"], 2), _f(run["server_rss_mb"], 1), "; ".join(c["errors"]) or "-"])
    return out + _table(["picture", "path", "camera", "clients (slow)", "sent", "delivered", "skipped",
                         "latency p50/p99/max ms", "slow readers: rate, frame age p50/p99 s", "server CPU (both)",
                         "nginx CPU", "others", "server RSS MB", "errors"], table) + [""]


def _age(age: Optional[dict]) -> str:
    if not age or not age.get("count"):
        return "n/a"
    return f"{age['p50'] / 1000:.2f} / {age['p99'] / 1000:.2f}"


def _skipped(run: dict) -> str:
    text = f"{run['skipped_total']} (max {run['skipped_max']}"
    if run["skipped_after_burst"]:
        text += f"; {run['skipped_after_burst']} after a feed burst"
    return text + ")"


def _memory(memory) -> list:
    out = ["## 4. Memory", ""]
    if not memory:
        return out + ["Not measured.", ""]
    out += [f"A fresh frame server at {_size(memory['size'])}@30 (host Python). RSS counts the pages master and "
            "worker share twice; PSS splits shared pages between them (what they take together). Churn: "
            f"{memory['churn']} stream clients, {memory['churn_concurrency']} at a time, each gone once "
            f"{memory['churn_parts']} parts are whole.", ""]

    def row(label, m):
        each = " + ".join(_f(x, 1) for x in m["rss"]) if "rss" in m else ""
        return [label, _f(m["rss_total"], 1), each, _f(m["pss_total"], 1)]

    table = [row("frame server idle", memory["idle"]),
             row(f"frame server with {memory['clients']} clients", memory["with_clients"]),
             row("frame server after they left", memory["before_churn"]),
             row(f"frame server after {memory['churn']} churned clients", memory["after_churn_1"]),
             row(f"frame server after {memory['churn']} more", memory["after_churn_2"]),
             row("uploader (after uploads to a Prusa Connect stand-in)", memory["uploader"]),
             row("project nginx idle (master + worker)", memory["nginx_idle"])]
    out += _table(["process", "RSS MB", "per process", "PSS MB"], table)
    churned = [memory[f"churn_{n}"] for n in (1, 2)]
    out += ["", "Churn rounds: " + "; ".join(
        f"{c['completed']}/{c['opened']} got their parts in {c['seconds']:.1f} s"
        + (f", failures {c['failures']}" if c["failures"] else "") for c in churned) + ".", ""]
    return out


def _stack(stack) -> list:
    out = ["## 5. The compose stack (`docker stats`)", ""]
    if not stack:
        return out + ["Not measured.", ""]
    if "skipped" in stack:
        return out + [f"Not measured: {stack['skipped']}.", ""]
    settings = " ".join(f"{k}={v}" for k, v in stack["settings"].items() if k not in ("HTTP_PORT",))
    standins = stack.get("standins", [])
    uploads = stack.get("uploads")
    out += [f"`compose.yaml` as shipped, with {settings}; the images' Python and nginx"
            + (f", and the bench's stand-in for Prusa Connect ({', '.join(standins)}, bench/compose.bench.yaml, "
               "not counted), so the uploader uploads throughout" if standins else "") + ". Idle: no viewer"
            + (f" ({uploads['idle']} uploads accepted)" if uploads else "") + ". Loaded: "
            f"{stack['viewers']} stream viewers through nginx (about {stack['viewer_fps']:.1f} frames/s each"
            + (f"; {uploads['loaded']} uploads accepted in the {stack['seconds']:g} s, "
               f"{uploads.get('total', 'n/a')} in all" if uploads else "")
            + (f"; errors: {stack['errors']}" if stack["errors"] else "") + "). CPU in % of one core, the mean of "
            "the samples; memory the largest sample (`docker stats` MEM USAGE). The feed container runs the "
            "synthetic camera, which draws and encodes every frame: on a Pi rpicam-vid does that work instead; "
            "the memory targets count every container but the feed and the stand-ins.", ""]
    rows = []
    for service in sorted(set(stack["idle"]) | set(stack["loaded"])):
        idle, loaded = stack["idle"].get(service, {}), stack["loaded"].get(service, {})
        label = service + (" (stand-in)" if service in standins else "")
        rows.append([label, _f(idle.get("cpu_percent"), 1), _f(idle.get("mem_mib"), 1),
                     _f(loaded.get("cpu_percent"), 1), _f(loaded.get("mem_mib"), 1)])
    rows.append(["**counted (no feed, no stand-in)**", "", _f(sum(counted(stack, "idle").values()), 1), "",
                 _f(sum(counted(stack, "loaded").values()), 1)])
    out += _table(["container", "idle CPU %", "idle MiB", "loaded CPU %", "loaded MiB"], rows) + [""]
    if stack.get("floors"):
        out += ["Floors: the image's python3 with only a service's libraries imported, each a container of the "
                "http image (no network, read-only), in MiB: " + "; ".join(
                    f"{f['service'] or 'python3'} ({f['imports']}) {_f(f['mem_mib'], 1)}" for f in stack["floors"])
                + ".", ""]
    return (out + _restarts(stack.get("restarts"), "The frame server", "http", "first frame",
                            "the frame server's log line for the feed's first frame")
            + _restarts(stack.get("gate_restarts"), "The Moonraker gate", "moonraker-gate", "listening",
                        "the gate's log line that it listens on its socket"))


def _restarts(restarts, who: str, service: str, ready: str, ready_means: str) -> list:
    if not restarts:
        return []
    answer = restarts.get("answer", 200)
    out = [f"**Restarts of {service}.** {who} crashed {len(restarts['kills'])} times (SIGKILL of the {service} "
           "container's service process; Docker restarts the container), each once it had run "
           f"{RUNNING_S:g} s; `GET {restarts['path']}` through the door every "
           f"{restarts['poll_s'] * 1000:g} ms, a new connection each time, until its {answer}. Up = Docker's "
           f"StartedAt of the restarted container; {ready} = {ready_means}.", ""]
    rows = []
    for number, kill in enumerate(restarts["kills"], 1):
        rows.append([str(number), _f(kill["kill_to_up_s"], 2), str(kill.get("restarts", "n/a")),
                     _f(kill["up_to_200_s"], 2), _f(kill["ready_s"], 2),
                     _answers(kill["failures"]["down"]), _answers(kill["failures"]["up"])])
    return out + _table(["kill", "kill to up s", "Docker restarts", f"up to first {answer} s", f"up to {ready} s",
                         "door's answers while down", f"once up, before the {answer}"], rows) + [""]


def _answers(counts: dict) -> str:
    return ", ".join(f"{key} x{n}" for key, n in sorted(counts.items())) or "-"


def _profiles(profiles) -> list:
    if not profiles:
        return []
    out = ["## Profiles (py-spy)", "",
           f"py-spy sampling the frame server's worker at {profiles[0]['summary']['rate']} Hz (--nonblocking); "
           "samples only while it was on CPU. Self = in the function itself; inclusive = with what it called.", ""]
    for profile in profiles:
        summary = profile["summary"]
        out += [f"**{profile['scenario']}** ({summary['samples']} samples)", ""]
        rows = []
        for (own, own_share), (inc, inc_share) in zip(summary["self"], summary["inclusive"]):
            rows.append([f"{own_share:.1%}", f"`{own}`", f"{inc_share:.1%}", f"`{inc}`"])
        out += _table(["self", "function", "inclusive", "function"], rows) + [""]
    return out
