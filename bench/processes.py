"""Start the programs under test as subprocesses, watch their output, and stop them."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
# Where every service's code lives, as the images lay it out; tests/ for the Prusa Connect stand-in.
CODE = [ROOT, *(ROOT / "services" / d for d in ("common", "http", "feed", "uploader")), ROOT / "nginx", ROOT / "tests"]
# Settings of the services that must not leak in from the caller's environment.
SETTINGS = ("FEED_HOST", "FEED_PORT", "FEED_TIMEOUT", "HTTP_PORT", "HTTP_SOCKET", "MAX_FRAME_BYTES", "SNAPSHOT_MAX_AGE",
            "STREAM_MAX_CLIENTS", "STREAM_IDLE_TIMEOUT", "STREAM_KEEPALIVE", "WORKER_CONNECTIONS",
            "FRAME_SERVER_URL", "PRUSA_CONNECT_URL", "PRUSA_CONNECT_TOKEN", "PRUSA_CONNECT_FINGERPRINT",
            "UPLOAD_INTERVAL", "CAMERA_NAME", "STATE_DIR", "HEALTH_FILE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int) -> List[int]:
    """`count` consecutive free ports (the frame server reads camera N from FEED_PORT + N - 1)."""
    while True:
        first = free_port()
        try:
            for port in range(first, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return list(range(first, first + count))


def python_env(**settings) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    env["PYTHONPATH"] = os.pathsep.join(str(path) for path in CODE)
    env["PYTHONUNBUFFERED"] = "1"
    env.update({key: str(value) for key, value in settings.items()})
    return env


def python(*args: str) -> List[str]:
    return [sys.executable, *args]


class Process:
    """A subprocess whose output a thread copies to `log`; wait_for() blocks until a line contains a text."""

    def __init__(self, name: str, argv: List[str], log: Path, env: Optional[dict] = None):
        self.name = name
        self.log_path = log
        self._lines: List[str] = []
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self._copier = threading.Thread(target=self._copy, daemon=True)
        self._copier.start()

    def _copy(self) -> None:
        with open(self.log_path, "ab") as log:
            for raw in self.proc.stdout:
                log.write(raw)
                log.flush()
                with self._changed:
                    self._lines.append(raw.decode(errors="replace"))
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float) -> None:
        """Block until a line of output contains `text`; RuntimeError if the process ends or time runs out first."""
        with self._changed:
            done = self._changed.wait_for(
                lambda: any(text in line for line in self._lines) or not self._copier.is_alive(), timeout)
            if done and any(text in line for line in self._lines):
                return
        raise RuntimeError(f"{self.name} did not say {text!r} within {timeout:g} s "
                           f"({'it exited' if self.proc.poll() is not None else 'still running'}); "
                           f"its output:\n{self.output()[-3000:]}")

    def output(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self._copier.join(timeout)


def wait_listening(process: Process, port: int, timeout: float = 15.0) -> None:
    """For a program that says nothing when ready (nginx): wait until its port takes connections."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{process.name} is not listening on {port}:\n{process.output()[-3000:]}")
            time.sleep(0.05)
