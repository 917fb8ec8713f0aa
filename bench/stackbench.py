"""The compose stack as shipped (FEED_SOURCE=synthetic), uploading to a Prusa Connect stand-in: `docker stats`
per container, idle and with viewers, beside floors measured in the same run (bare python3 in the same image);
then the door's window after kills of the http and moonraker-gate containers (restartbench)."""

import hashlib
import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Optional

from e2e.stack import compose_command

from . import restartbench, streambench
from .machine import first_line
from .processes import ROOT, free_port

# Each checkout measures its own stack: its own compose project and image tags (compose.bench.yaml).
PROJECT = "printercam-bench-" + hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
OVERRIDE = Path(__file__).with_name("compose.bench.yaml")
STANDINS = ("prusa-connect",)
TOKEN = "bench-token-0123456789"
IMAGE = f"{PROJECT}/http:bench"
# The least each Python container of the appliance can take: the image's python3 with that service's
# libraries imported and nothing else (gevent patched in where the service patches it: the frame
# server's gunicorn worker does, the gate does not), and python3 alone.
PATCHED = "from gevent import monkey; monkey.patch_all(); "
FLOORS = [
    ("http", "gevent, gunicorn's gevent worker, Flask", PATCHED + "import gunicorn.workers.ggevent, flask"),
    ("moonraker-gate", "gevent's WSGI server, nothing patched", "import gevent.pywsgi, gevent.pool"),
    ("uploader", "http.client, ssl", "import http.client, ssl, json, threading, socket"),
    (None, "nothing", "pass"),
]
_UNITS = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0, "kB": 1e3 / 2**20, "MB": 1e6 / 2**20,
          "GB": 1e9 / 2**20}


def unusable() -> Optional[str]:
    """Why the stack cannot be measured here, or None."""
    if compose_command() is None:
        return "neither `docker compose` nor `docker-compose` is installed"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "no Docker engine answers"
    return None


def mebibytes(text: str) -> float:
    """`30.5MiB` -> 30.5."""
    found = re.fullmatch(r"([\d.]+)\s*([A-Za-z]+)", text.strip())
    if not found or found[2] not in _UNITS:
        raise ValueError(f"not a memory size: {text!r}")
    return float(found[1]) * _UNITS[found[2]]


class Stack:
    def __init__(self, workdir: Path, settings: dict):
        self.port = int(settings["HTTP_PORT"])
        self.connect_port = int(settings["BENCH_CONNECT_PORT"])
        env_file = workdir / "stack.env"
        env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        self.command = [*compose_command(), "--project-name", PROJECT, "--project-directory", str(ROOT),
                        "--env-file", str(env_file), "-f", str(ROOT / "compose.yaml"), "-f", str(OVERRIDE)]
        # Only the env file speaks: no setting of the caller's shell (or its .env) reaches the stack.
        named = set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text() + OVERRIDE.read_text()))
        self.env = {key: value for key, value in os.environ.items() if key not in named}
        self.log = workdir / "stack.out"

    def compose(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run([*self.command, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        with open(self.log, "a") as log:
            log.write(f"$ {' '.join(args)}\n{done.stdout}{done.stderr}\n")
        if done.returncode:
            raise RuntimeError(f"compose {' '.join(args)} failed: see {self.log}\n{done.stderr[-2000:]}")
        return done.stdout

    def services(self) -> dict:
        """{container id: service name}."""
        out = subprocess.run(["docker", "ps", "--filter", f"label=com.docker.compose.project={PROJECT}",
                              "--format", '{{.ID}} {{.Label "com.docker.compose.service"}}'],
                             capture_output=True, text=True, check=True).stdout
        return dict(line.split() for line in out.splitlines() if line.strip())

    def stats(self, samples: int) -> dict:
        return stats(self.services(), samples)

    def uploads(self, start: float, end: float) -> int:
        """Snapshots the Prusa Connect stand-in accepted between two epoch times."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.connect_port}/_recorded", timeout=10) as response:
            recorded = json.load(response)
        return sum(1 for r in recorded if r["path"] == "/c/snapshot" and r["status"] is not None
                   and 200 <= r["status"] < 300 and start <= r["time"] < end)

    def wait_healthy(self, timeout: float) -> None:
        """Wait for a fresh frame through nginx: the whole chain up."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not become healthy within {timeout:g} s: see {self.log}")
            time.sleep(0.5)


def stats(containers: dict, samples: int) -> dict:
    """{name: {"cpu_percent": mean, "mem_mib": max}} over `samples` readings of `docker stats`; `containers`
    maps container ids (or names) to the names to report."""
    seen: dict = {}
    for _ in range(samples):
        out = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{json .}}", *containers],
                             capture_output=True, text=True, check=True, timeout=60).stdout
        for line in out.splitlines():
            row = json.loads(line)
            name = containers.get(row["ID"][:12]) or containers.get(row["ID"]) or containers.get(row["Name"],
                                                                                                   row["Name"])
            entry = seen.setdefault(name, {"cpu": [], "mem": []})
            entry["cpu"].append(float(row["CPUPerc"].rstrip("%")))
            entry["mem"].append(mebibytes(row["MemUsage"].split("/")[0]))
    return {name: {"cpu_percent": sum(v["cpu"]) / len(v["cpu"]), "mem_mib": max(v["mem"])}
            for name, v in sorted(seen.items())}


def floors(samples: int) -> list:
    """[{"service", "imports", "mem_mib"}]: each of FLOORS as a container of the http image, no network,
    read-only, asleep after its imports; mem_mib None for one that did not stay up."""
    names = {}
    try:
        for index, (service, imports, code) in enumerate(FLOORS):
            name = f"{PROJECT}-floor-{index}"
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)
            subprocess.run(["docker", "run", "-d", "--rm", "--name", name, "--network", "none", "--read-only",
                            "--entrypoint", "python3", IMAGE, "-c", code + "; import time; time.sleep(3600)"],
                           capture_output=True, text=True, check=True, timeout=60)
            names[name] = index
        time.sleep(3)  # past the imports
        running = subprocess.run(["docker", "ps", "--format", "{{.Names}}", *(f"--filter=name={n}" for n in names)],
                                 capture_output=True, text=True, check=True, timeout=60).stdout.split()
        measured = stats({name: name for name in names if name in running}, samples) if running else {}
        return [{"service": service, "imports": imports,
                 "mem_mib": measured.get(f"{PROJECT}-floor-{index}", {}).get("mem_mib")}
                for index, (service, imports, _) in enumerate(FLOORS)]
    finally:
        for name in names:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)


def run(workdir: Path, viewers: int, seconds: float, samples: int, kills: int) -> dict:
    settings = {"FEED_SOURCE": "synthetic", "CAMERA_FPS": "30", "BIND_ADDRESS": "127.0.0.1",
                "HTTP_PORT": str(free_port()), "STREAM_MAX_PER_CLIENT": str(viewers),
                "PRUSA_CONNECT_URL": "http://prusa-connect:8080", "PRUSA_CONNECT_TOKEN": TOKEN,
                "BENCH_CONNECT_PORT": str(free_port()), "BENCH_IMAGES": PROJECT}
    stack = Stack(workdir, settings)
    stack.compose("build", timeout=1800)
    python_image = first_line(["docker", "run", "--rm", "--network", "none", "--entrypoint", "python3", IMAGE,
                               "--version"])
    try:
        up = time.time()
        stack.compose("up", "-d", timeout=300)
        stack.wait_healthy(180)
        idle_from = time.time()
        time.sleep(5)  # past start-up: the stack at rest
        idle = stack.stats(samples)
        idle_uploads = stack.uploads(idle_from, time.time())
        spawned_ns = time.time_ns()
        start_ns = spawned_ns + 2_000_000_000
        end_ns = start_ns + int(seconds * 1e9)
        spawned = streambench.spawn_clients(workdir, stack.port, "/stream.mjpg", viewers, 0, 0.0, start_ns, end_ns,
                                            end_ns, "stack")
        streambench.sleep_until(start_ns)
        loaded = stack.stats(samples)
        got = streambench.collect(spawned, timeout=seconds + 120)
        parts = sum(c["parts"] for c in got["clients"])
        uploads = {"idle": idle_uploads, "loaded": stack.uploads(start_ns / 1e9, end_ns / 1e9),
                   "total": stack.uploads(up, time.time())}
        containers = {service: container for container, service in stack.services().items()}
        restarts = restartbench.measure(stack.port, containers["http"], kills)
        gate_restarts = restartbench.measure(stack.port, containers["moonraker-gate"], kills, restartbench.GATE)
    finally:
        stack.compose("down", "-v", "--remove-orphans", timeout=300)
    shown = {key: value for key, value in settings.items() if not key.startswith("BENCH_") and key != "HTTP_PORT"}
    return {"python_image": python_image, "settings": shown, "viewers": viewers, "seconds": seconds, "idle": idle,
            "loaded": loaded,
            "standins": list(STANDINS), "uploads": uploads, "floors": floors(samples), "restarts": restarts,
            "gate_restarts": gate_restarts,
            "viewer_fps": parts / max(1, viewers) / ((end_ns - spawned_ns) / 1e9),
            "errors": sorted({c["error"] for c in got["clients"] if c["error"]})}
