"""Drives the real compose stack for the end-to-end tests: build, up, down, logs, inspect."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parents[2]
# Each checkout runs its own stack: its own compose project, its own images (tagged with the
# project's name, see compose.e2e.yaml) and its own free host port, so two checkouts never test
# each other's stack, and nothing else that listens on 7126 is ever mistaken for this one.
PROJECT = "printercam-e2e-" + hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORT = int(os.environ.get("E2E_PORT") or _free_port())
BASE_URL = f"http://127.0.0.1:{PORT}"
# The Moonraker stand-in listens on the host's 127.0.0.1 only, as the README asks of Moonraker,
# on a port of its own per checkout.
MOONRAKER_PORT = int(os.environ.get("E2E_MOONRAKER_PORT") or _free_port())
MOONRAKER_URL = f"http://127.0.0.1:{MOONRAKER_PORT}"


def port_taken(port: int) -> bool:
    """Whether something listens on the port; connections of a stack just stopped, left in
    TIME_WAIT, do not count (docker binds with SO_REUSEADDR too)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def compose_command() -> Optional[List[str]]:
    """`docker compose` (v2) when it works, else `docker-compose` (1.29), else None."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def docker_usable() -> Optional[str]:
    """None when Docker and compose work, else the reason they do not."""
    if not shutil.which("docker"):
        return "no docker client"
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return "no Docker engine answers (tests/run makes one usable when run as root)"
    if subprocess.run(["docker", "image", "inspect", "debian:trixie-slim"], capture_output=True).returncode != 0:
        return "no debian:trixie-slim base image (tests/docker-engine.sh makes one)"
    if compose_command() is None:
        return "neither `docker compose` nor `docker-compose` is installed"
    return None


class Stack:
    def __init__(self, env: Dict[str, str], workdir: Path):
        self.env = {**env, "HTTP_PORT": str(PORT), "E2E_IMAGES": PROJECT, "MOONRAKER_URL": MOONRAKER_URL,
                    "E2E_MOONRAKER_PORT": str(MOONRAKER_PORT)}
        self.workdir = workdir
        self.compose = compose_command()

    def _env_file(self) -> Path:
        path = self.workdir / "e2e.env"
        path.write_text("".join(f"{k}={v}\n" for k, v in self.env.items()))
        return path

    def require_free_port(self) -> None:
        """Fails with a clear line when something else already listens on the stack's port."""
        for port, variable in ((PORT, "E2E_PORT"), (MOONRAKER_PORT, "E2E_MOONRAKER_PORT")):
            if port_taken(port):
                raise AssertionError(f"127.0.0.1:{port} is taken by another program: the end-to-end stack needs it "
                                     f"free (set {variable} to another port)")

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        cmd = [*self.compose, "--project-name", PROJECT, "--project-directory", str(ROOT),
               "--env-file", str(self._env_file()),
               "-f", str(ROOT / "compose.yaml"), "-f", str(ROOT / "tests" / "e2e" / "compose.e2e.yaml"), *args]
        env = {k: v for k, v in os.environ.items() if k not in self.env}
        result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def container_ids(self) -> List[str]:
        return self.run("ps", "-q").stdout.split()

    def container_id(self, service: str) -> str:
        ids = self.run("ps", "-q", service).stdout.split()
        assert ids, f"no container for {service}"
        return ids[0]

    def inspect(self, container: str) -> dict:
        out = subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True).stdout
        return json.loads(out)[0]

    def exec_python(self, service: str, code: str) -> subprocess.CompletedProcess:
        return self.run("exec", "-T", service, "python3", "-c", code, check=False)

    def logs(self, *services: str) -> str:
        return self.run("logs", "--no-color", *services).stdout


@contextmanager
def fresh_stack(env: Dict[str, str], workdir: Path):
    """A Stack with its images built and nothing left of an earlier run; taken down, volumes too, afterwards."""
    stack = Stack(env, workdir)
    stack.run("down", "-v", "--remove-orphans", check=False)
    stack.require_free_port()
    stack.run("build")
    try:
        yield stack
    finally:
        stack.run("down", "-v", "--remove-orphans", check=False)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    """Waits for an outside system (containers) to reach a state; returns the predicate's value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (requests.RequestException, OSError) as error:
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last: {last!r}")


def get(path: str, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", 5)
    return requests.get(BASE_URL + path, **kwargs)
