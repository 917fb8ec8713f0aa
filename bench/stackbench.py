"""The compose stack as shipped (FEED_SOURCE=synthetic): `docker stats` per container, idle and with viewers."""

import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Optional

from e2e.stack import compose_command

from . import streambench
from .processes import ROOT, free_port

PROJECT = "printercam-bench"
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
        env_file = workdir / "stack.env"
        env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        self.command = [*compose_command(), "--project-name", PROJECT, "--project-directory", str(ROOT),
                        "--env-file", str(env_file), "-f", str(ROOT / "compose.yaml")]
        # Only the env file speaks: no setting of the caller's shell (or its .env) reaches the stack.
        named = set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()))
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
        """{service: {"cpu_percent": mean, "mem_mib": max}} over `samples` readings of `docker stats`."""
        services = self.services()
        seen: dict = {}
        for _ in range(samples):
            out = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{json .}}", *services],
                                 capture_output=True, text=True, check=True, timeout=60).stdout
            for line in out.splitlines():
                row = json.loads(line)
                service = services.get(row["ID"][:12]) or services.get(row["ID"], row["Name"])
                entry = seen.setdefault(service, {"cpu": [], "mem": []})
                entry["cpu"].append(float(row["CPUPerc"].rstrip("%")))
                entry["mem"].append(mebibytes(row["MemUsage"].split("/")[0]))
        return {service: {"cpu_percent": sum(v["cpu"]) / len(v["cpu"]), "mem_mib": max(v["mem"])}
                for service, v in sorted(seen.items())}

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


def run(workdir: Path, viewers: int, seconds: float, samples: int) -> dict:
    settings = {"FEED_SOURCE": "synthetic", "CAMERA_FPS": "30", "BIND_ADDRESS": "127.0.0.1",
                "HTTP_PORT": str(free_port()), "PRUSA_CONNECT_TOKEN": "", "STREAM_MAX_PER_CLIENT": str(viewers)}
    stack = Stack(workdir, settings)
    stack.compose("build", timeout=1800)
    try:
        stack.compose("up", "-d", timeout=300)
        stack.wait_healthy(180)
        time.sleep(5)  # past start-up: the stack at rest
        idle = stack.stats(samples)
        spawned_ns = time.time_ns()
        start_ns = spawned_ns + 2_000_000_000
        end_ns = start_ns + int(seconds * 1e9)
        spawned = streambench.spawn_clients(workdir, stack.port, "/stream.mjpg", viewers, 0, 0.0, start_ns, end_ns,
                                            end_ns, "stack")
        streambench.sleep_until(start_ns)
        loaded = stack.stats(samples)
        got = streambench.collect(spawned, timeout=seconds + 120)
        parts = sum(c["parts"] for c in got["clients"])
        return {"settings": settings, "viewers": viewers, "idle": idle, "loaded": loaded,
                "viewer_fps": parts / max(1, viewers) / ((end_ns - spawned_ns) / 1e9),
                "errors": sorted({c["error"] for c in got["clients"] if c["error"]})}
    finally:
        stack.compose("down", "-v", "--remove-orphans", timeout=300)
