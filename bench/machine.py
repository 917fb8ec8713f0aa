"""The machine and the software versions a run measured."""

import os
import platform
import subprocess
import sys
import time
from importlib import metadata


def first_line(argv, any_status: bool = False) -> str:
    """The first line a command prints (wrk --version exits 1 after printing its version: any_status)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "not available"
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text and (done.returncode == 0 or any_status) else "not available"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> dict:
    versions = {name: metadata.version(name) for name in ("gunicorn", "gevent", "Flask", "Pillow")}
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
        "load_at_start": os.getloadavg(),
        "python_host": platform.python_version(),
        "nginx_host": first_line(["nginx", "-v"]),
        "wrk": first_line(["wrk", "--version"], any_status=True).split(" Copyright")[0],
        "packages": versions,
        "executable": sys.executable,
    }
