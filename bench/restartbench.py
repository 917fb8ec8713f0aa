"""No 502 window after a restart: in the running compose stack a service is crashed (SIGKILL of its
container's service process) several times; Docker restarts the container (`restart:
unless-stopped`). For each crash: from the container being up again (Docker's StartedAt) to the first
answer of that service through the door, polled every POLL_S on a new connection each time: 200 of
GET /snapshot.jpg for the frame server (FRAME_SERVER); for the Moonraker gate (GATE), its own 400 to
GET /websocket without an upgrade, which needs no Moonraker (nginx answers 502 while it is down).
The floor is the service's own start: from StartedAt to its log line saying it is ready.

`docker kill` itself would not do: Docker counts a killed container as stopped by hand and does not
restart it. The process is killed from inside the container instead, by the user it runs as.
"""

import http.client
import json
import subprocess
import time
from datetime import datetime, timezone
from typing import List, Optional, Tuple

POLL_S = 0.02
# (path, the status that means the service answered, its log line once it is ready)
FRAME_SERVER = ("/snapshot.jpg", 200, "feed connected")  # ready: the feed's first frame is in
GATE = ("/websocket", 400, "listening on")
RUNNING_S = 11.0  # Docker resets its restart delay once a container has run 10 s: each kill alike
TIMEOUT_S = 60.0


def epoch(text: str) -> float:
    """Docker's RFC 3339 time with nanoseconds (`2026-12-01T07:20:01.123456789Z`) in epoch seconds."""
    text = text.strip()
    whole, _, rest = text.partition(".")
    fraction = rest.rstrip("Z").split("+")[0] if rest else "0"
    moment = datetime.strptime(whole.rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return moment.timestamp() + float("0." + (fraction or "0"))


def window(started: float, probes: List[Tuple[float, Optional[int]]], serving: int = 200) -> dict:
    """From the probes made after a kill ((answered at, status; None: no HTTP answer)): the first 200 after
    `started`, how long after it that came, and what the door answered before it, while the container was
    down and once it was up."""
    failures: dict = {"down": {}, "up": {}}
    for answered, status in probes:
        if status == serving and answered >= started:
            return {"up_to_200_s": answered - started, "failures": failures}
        counts = failures["up" if answered >= started else "down"]
        key = "no answer" if status is None else str(status)
        counts[key] = counts.get(key, 0) + 1
    return {"up_to_200_s": None, "failures": failures}


def first_line_time(log: str, text: str) -> Optional[float]:
    """The time of the first `docker logs --timestamps` line that contains `text`."""
    for line in log.splitlines():
        stamp, _, rest = line.partition(" ")
        if text in rest:
            return epoch(stamp)
    return None


def _probe(port: int, path: str) -> Optional[int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def _state(container: str) -> dict:
    out = subprocess.run(["docker", "inspect", "--format", "{{json .State}}", container], capture_output=True,
                         text=True, check=True, timeout=30).stdout
    return json.loads(out)


def _restarts(container: str) -> int:
    out = subprocess.run(["docker", "inspect", "--format", "{{.RestartCount}}", container], capture_output=True,
                         text=True, check=True, timeout=30).stdout
    return int(out)


def _serving(port: int, container: str, path: str, serving: int, timeout: float) -> None:
    """Until the door answers `serving` and the container has run RUNNING_S."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(container)
        if state["Running"] and time.time() - epoch(state["StartedAt"]) >= RUNNING_S and _probe(port, path) == serving:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the stack did not serve {path} again within {timeout:g} s")


def _restarted(container: str, before: int, killed: float) -> Optional[dict]:
    """The container's state once Docker has restarted it, else None. Docker counts the restart before it
    sets the new StartedAt, and the killed master's orphaned worker may still answer meanwhile: a
    StartedAt from before the kill is the old run's."""
    if _restarts(container) <= before:
        return None
    state = _state(container)
    return state if epoch(state["StartedAt"]) > killed else None


def measure(port: int, container: str, kills: int, service: Tuple[str, int, str] = FRAME_SERVER) -> dict:
    """`kills` crashes of `container`'s service, each once it has served for RUNNING_S; the window after each."""
    path, serving, ready_line = service
    results = []
    for _ in range(kills):
        _serving(port, container, path, serving, TIMEOUT_S + RUNNING_S)
        before = _restarts(container)
        killed = time.time()
        # run-service is the container's PID 1; its only child is the service (gunicorn's master, the gate)
        subprocess.run(["docker", "exec", container, "sh", "-c", "kill -KILL $(cat /proc/1/task/1/children)"],
                       capture_output=True, check=True, timeout=30)
        probes = []
        state = None  # the container's, once its answer comes after Docker has restarted it
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            status = _probe(port, path)
            answered = time.time()
            probes.append((answered, status))
            if status == serving:
                if state is None or answered < epoch(state["StartedAt"]):
                    state = _restarted(container, before, killed)
                if state is not None and answered >= epoch(state["StartedAt"]):
                    break  # served by the restarted container, not by the old process's last moment
            time.sleep(POLL_S)
        if state is None:
            state = _state(container)
        started = epoch(state["StartedAt"])
        restarted = _restarts(container) - before
        time.sleep(1)  # for the log line of the first frame, if it has not come yet
        log = subprocess.run(["docker", "logs", "--timestamps", "--since", state["StartedAt"], container],
                             capture_output=True, text=True, timeout=30)
        ready = first_line_time(log.stdout + log.stderr, ready_line)
        result = window(started, probes, serving)
        results.append({**result, "kill_to_up_s": started - killed, "restarts": restarted,
                        "ready_s": None if ready is None else ready - started})
    return {"path": path, "answer": serving, "poll_s": POLL_S, "kills": results}
