"""`bench/run --smoke --only stack` run for real in Docker, so the stack section cannot rot: every container
measured, uploads to the stand-in, the floors, and a crash of the frame server and of the gate the door
recovers from.

Nothing here judges memory or time; the figures go to bench/RESULTS.md in a full run.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .stack import docker_usable

ROOT = Path(__file__).resolve().parents[2]
reason = docker_usable()
if reason is None and (shutil.which("nginx") is None or shutil.which("wrk") is None):
    reason = "bench/run wants nginx and wrk installed (tests/run installs them)"
pytestmark = pytest.mark.skipif(reason is not None, reason=f"the bench's stack section cannot run: {reason}")


def test_the_stack_section_measures_every_container_the_uploads_the_floors_and_a_restart(tmp_path):
    done = subprocess.run([str(ROOT / "bench" / "run"), "--smoke", "--only", "stack", "--workdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    stack = json.loads((tmp_path / "results.json").read_text())["stack"]
    for phase in ("idle", "loaded"):
        assert {"http", "nginx", "uploader", "feed", "prusa-connect"} <= set(stack[phase]), stack[phase]
        assert all(figures["mem_mib"] > 0 for figures in stack[phase].values())
    assert stack["uploads"]["total"] > 0
    assert stack["viewer_fps"] > 0 and stack["errors"] == []
    assert all(floor["mem_mib"] for floor in stack["floors"]), stack["floors"]
    for restarts in (stack["restarts"], stack["gate_restarts"]):
        kill, = restarts["kills"]
        assert kill["restarts"] == 1 and kill["kill_to_up_s"] > 0
        assert kill["up_to_200_s"] is not None and kill["ready_s"] is not None
