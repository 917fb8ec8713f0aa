"""`bench/run`: measure the appliance beside its ceilings and write RESULTS.md.

Full mode (the default) writes bench/RESULTS.md; --smoke runs every section small and short
and writes its report into the work directory. Raw figures go to <workdir>/results.json.
"""

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from . import machine, memorybench, parsebench, profiling, report, snapshotbench, stackbench, streambench, wrk
from .processes import ROOT, free_ports
from .quiet import TRIES, quietest
from .services import BareServer, Feed, FrameServer, project_nginx, started_in
from .targets import evaluate

STREAM_PATHS = ("direct", "nginx", "ceiling")
MODES = {
    "full": {"sizes": [[1280, 720], [1920, 1080]], "fps": 30, "fanout": [1, 10, 50, 100], "stream_seconds": 20,
             "warmup": 2, "floor_seconds": 5, "snapshot_connections": [1, 32, 128], "snapshot_seconds": 10,
             "parser_frames": 150, "parser_rounds": 5, "memory_clients": 50, "memory_seconds": 10, "churn": 1000,
             "settle": 3, "stack_viewers": 10, "stack_seconds": 15, "stack_samples": 3, "profile_seconds": 10,
             "target_clients": [50, 100], "target_connections": 32, "camera_clients": 10, "restart_kills": 5,
             "paths": STREAM_PATHS, "cameras": True, "tries": TRIES},
    "smoke": {"sizes": [[320, 240]], "fps": 30, "fanout": [3], "stream_seconds": 0.5, "warmup": 0.5,
              "floor_seconds": 0.5, "snapshot_connections": [4], "snapshot_seconds": 1, "parser_frames": 20,
              "parser_rounds": 2, "memory_clients": 3, "memory_seconds": 0.5, "churn": 20, "settle": 0.5,
              "stack_viewers": 2, "stack_seconds": 5, "stack_samples": 1, "profile_seconds": 2,
              "target_clients": [3], "target_connections": 4, "camera_clients": 2, "restart_kills": 1,
              "paths": STREAM_PATHS, "cameras": True, "tries": 1},
}
SECTIONS = ("parser", "snapshot", "stream", "memory", "stack", "profile")
SMOKE_SECTIONS = ("parser", "snapshot", "stream", "memory")


def parser_section(workdir: Path, s: dict, cache: Path, py_spy) -> list:
    rows = []
    for size in s["sizes"]:
        feed = Feed(workdir, size, 1000, cache, name="recording-feed")  # recorded as fast as it sends
        try:
            recording = parsebench.record(feed.port, s["parser_frames"])
        finally:
            feed.stop()
        rows.append({"size": size, **parsebench.measure(recording, s["parser_rounds"])})
    return rows


def snapshot_section(workdir: Path, s: dict, cache: Path, py_spy) -> dict:
    return snapshotbench.run(workdir, s["sizes"][0], s["fps"], cache, s["snapshot_connections"],
                             s["snapshot_seconds"], s["tries"])


def stream_section(workdir: Path, s: dict, cache: Path, py_spy) -> dict:
    """Per picture size and client count: the frame server direct, through nginx, and the bare fan-out ceiling."""
    runs, floors = [], {}
    for size in s["sizes"]:
        floor_feed = Feed(workdir, size, s["fps"], cache, name="floor-feed")
        try:
            floors[f"{size[0]}x{size[1]}"] = streambench.floor(floor_feed.port, s["floor_seconds"])
        finally:
            floor_feed.stop()
        with ExitStack() as stack:
            feed = started_in(stack, Feed(workdir, size, s["fps"], cache))
            server = started_in(stack, FrameServer(workdir, feed))
            proxy = started_in(stack, project_nginx(workdir, server))
            ceiling_feed = started_in(stack, Feed(workdir, size, s["fps"], cache, name="ceiling-feed"))
            bare = started_in(stack, BareServer(workdir, ceiling_feed))
            for clients in s["fanout"]:
                for path, port, measured, via in (("direct", server.port, server, None),
                                                  ("nginx", proxy.port, server, proxy),
                                                  ("ceiling", bare.port, bare, None)):
                    if path not in s["paths"]:
                        continue
                    print(f"bench: stream {size[0]}x{size[1]}, {clients} clients, {path}", flush=True)
                    attempt = partial(_stream_run, workdir, ceiling_feed if path == "ceiling" else feed, measured,
                                      port, clients, s, via, None if path == "ceiling" else server.port,
                                      f"{size[0]}x{size[1]}-{clients}-{path}")
                    runs.append({"size": size, "path": path, **quietest(attempt, s["tries"])})
    return {"floor": floors, "runs": runs, "cameras": _cameras_runs(workdir, s, cache) if s["cameras"] else []}


def _cameras_runs(workdir: Path, s: dict, cache: Path) -> list:
    """Two cameras at the primary size, s["camera_clients"] stream clients on each, direct and through nginx."""
    size, clients = s["sizes"][0], s["camera_clients"]
    with ExitStack() as stack:
        feeds = [started_in(stack, Feed(workdir, size, s["fps"], cache, name=f"camera{n}-feed", port=port))
                 for n, port in enumerate(free_ports(2), 1)]
        server = started_in(stack, FrameServer(workdir, feeds[0], CAMERA2_SOURCE="synthetic"))
        streambench.all_fresh(server.port)
        proxy = started_in(stack, project_nginx(workdir, server))
        cameras = [(feed, f"/webcam{n}/stream.mjpg") for n, feed in enumerate(feeds, 1)]
        runs = []
        for path, port, via in (("direct", server.port, None), ("nginx", proxy.port, proxy)):
            print(f"bench: stream {size[0]}x{size[1]}, 2 cameras x {clients} clients, {path}", flush=True)
            attempt = partial(_cameras_run, workdir, cameras, server, port, clients, s, via, f"cameras-{path}")
            runs.append({"size": size, "path": path, **quietest(attempt, s["tries"])})
        return runs


def _cameras_run(workdir: Path, cameras: list, server, port: int, clients: int, s: dict, proxy, tag: str) -> dict:
    result = streambench.run_cameras(workdir, cameras, server, port, clients, s["stream_seconds"], s["warmup"],
                                     proxy=proxy, tag=tag)
    streambench.streams_gone(server.port)
    return result


def _stream_run(workdir: Path, feed, measured, port: int, clients: int, s: dict, proxy, health_port, tag: str):
    """One fan-out run; then, for the frame server, until it has let every client go."""
    result = streambench.run(workdir, feed, measured, port, "/stream.mjpg", clients, s["stream_seconds"], s["warmup"],
                             proxy=proxy, tag=tag)
    if health_port is not None:
        streambench.streams_gone(health_port)
    return result


def memory_section(workdir: Path, s: dict, cache: Path, py_spy) -> dict:
    return memorybench.run(workdir, s["sizes"][0], s["fps"], cache, s["memory_clients"], s["memory_seconds"],
                           s["warmup"], s["churn"], s["settle"])


def stack_section(workdir: Path, s: dict, cache: Path, py_spy) -> dict:
    reason = stackbench.unusable()
    if reason:
        return {"skipped": reason}
    return stackbench.run(workdir, s["stack_viewers"], s["stack_seconds"], s["stack_samples"], s["restart_kills"])


def profile_section(workdir: Path, s: dict, cache: Path, py_spy) -> list:
    """py-spy on the worker in the scenarios the targets are about, in runs of their own (figures stay unprofiled)."""
    if not py_spy:
        return []
    seconds = s["profile_seconds"]
    biggest = s["fanout"][-1]
    scenarios = [("stream", s["sizes"][0], s["memory_clients"]), ("stream", s["sizes"][-1], biggest),
                 ("snapshot", s["sizes"][0], 32)]
    profiles = []
    for kind, size, count in scenarios:
        with ExitStack() as stack:
            feed = started_in(stack, Feed(workdir, size, s["fps"], cache, name="profile-feed"))
            server = started_in(stack, FrameServer(workdir, feed))
            raw = workdir / f"profile-{kind}-{size[0]}x{size[1]}-{count}.txt"
            spy = profiling.start(py_spy, server.pids[-1], seconds + 1, raw)
            if kind == "stream":
                scenario = f"stream, {count} clients, {size[0]}x{size[1]}@{s['fps']:g}, direct"
                streambench.run(workdir, feed, server, server.port, "/stream.mjpg", count, seconds, 1.0,
                                tag="profile")
            else:
                scenario = f"snapshots, {count} connections, {size[0]}x{size[1]}, direct"
                wrk.run(f"http://127.0.0.1:{server.port}/snapshot.jpg", count, seconds)
            spy.wait(seconds + 60)
            summary = profiling.summarize(raw)
            if summary:
                profiles.append({"scenario": scenario, "summary": summary})
    return profiles


def _terminated(signum, frame):
    """SIGTERM ends the bench like Ctrl-C: every section's finally stops the programs it started."""
    raise SystemExit(128 + signum)


RUNNERS = {"parser": parser_section, "snapshot": snapshot_section, "stream": stream_section,
           "memory": memory_section, "stack": stack_section, "profile": profile_section}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small pictures, few clients, seconds per section")
    parser.add_argument("--seconds", type=float, help="seconds per stream run (full: 20, smoke: 1)")
    parser.add_argument("--sizes", help="stream and other sections: comma-separated WxH pictures (e.g. 1280x720)")
    parser.add_argument("--clients", help="stream section: comma-separated client counts (e.g. 50,100)")
    parser.add_argument("--paths", help=f"stream section: comma-separated paths out of {','.join(STREAM_PATHS)}; "
                                        "picking rows this way also leaves out the two-camera rows")
    parser.add_argument("--only", help=f"comma-separated sections out of {','.join(SECTIONS)}")
    parser.add_argument("--workdir", type=Path, help="logs and results.json (default: a new directory in /tmp)")
    parser.add_argument("--report", type=Path, help="where RESULTS.md goes (full: bench/RESULTS.md, "
                                                      "smoke: the work directory)")
    parser.add_argument("--py-spy", help="path of a py-spy to profile the frame server with (not installed by the "
                                         "bench; e.g. python3 -m venv /tmp/pyspy && /tmp/pyspy/bin/pip install py-spy)")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache", help="where the pictures are kept")
    parser.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                        help="measure nothing: write the report again from an earlier run's results.json")
    args = parser.parse_args(argv)
    if args.render:
        results = json.loads(args.render.read_text())
        report_path = args.report or (args.render.parent / "RESULTS.md" if results["mode"] == "smoke"
                                      else ROOT / "bench" / "RESULTS.md")
        report_path.write_text(report.render(results))
        print(f"bench: wrote {report_path}")
        return 0
    signal.signal(signal.SIGTERM, _terminated)
    mode = "smoke" if args.smoke else "full"
    settings = dict(MODES[mode])
    if args.seconds:
        settings["stream_seconds"] = args.seconds
    try:
        if args.sizes:
            settings["sizes"] = [[int(n) for n in size.split("x")] for size in args.sizes.split(",")]
        if args.clients:
            settings["fanout"] = [int(n) for n in args.clients.split(",")]
    except ValueError:
        parser.error("--sizes takes WxH,WxH and --clients N,N")
    if args.paths:
        settings["paths"] = tuple(args.paths.split(","))
        if set(settings["paths"]) - set(STREAM_PATHS):
            parser.error(f"--paths: choose from {','.join(STREAM_PATHS)}")
    if args.sizes or args.clients or args.paths:
        settings["cameras"] = False
    sections = args.only.split(",") if args.only else list(SMOKE_SECTIONS if args.smoke else SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {', '.join(sorted(unknown))}: choose from {', '.join(SECTIONS)}")
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed (bench/run installs it with apt when run as root)")
    if args.py_spy and shutil.which(args.py_spy) is None:
        parser.error(f"--py-spy {args.py_spy}: not found")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="printercam-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report_path = args.report or (workdir / "RESULTS.md" if args.smoke else ROOT / "bench" / "RESULTS.md")
    print(f"bench: {mode} mode, sections {', '.join(sections)}; logs in {workdir}", flush=True)
    results = {"mode": mode, "settings": settings, "failed": {}, "seconds": {},
               "machine": machine.describe()}
    for section in SECTIONS:
        if section not in sections:
            continue
        print(f"bench: {section}", flush=True)
        started = time.monotonic()
        try:
            results[section] = RUNNERS[section](workdir, settings, args.cache, args.py_spy)
        except Exception as error:
            traceback.print_exc()
            results["failed"][section] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        results["seconds"][section] = time.monotonic() - started
        print(f"bench: {section} took {results['seconds'][section]:.0f} s", flush=True)
    (workdir / "results.json").write_text(json.dumps(results, indent=1))
    report_path.write_text(report.render(results))
    for target in evaluate(results):
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        print(f"bench: {verdict:>12}: {target['target']}: {target['measured']}")
    print(f"bench: wrote {report_path} and {workdir / 'results.json'}", flush=True)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
