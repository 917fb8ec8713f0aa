"""The whole appliance in Docker, checked only through 127.0.0.1:7126 as a user would.

Builds the real images, starts the stack with the synthetic camera and a stand-in Prusa
Connect, and checks what the README promises. Runs in CI; skips elsewhere without Docker.
"""

import json
import os
import signal
import socket

import pytest
import requests
import websocket

from jpegframes.markers import SYNTHETIC_MARK, comments, dimensions, is_complete_jpeg, is_synthetic
from mjpeg_reader import boundary_of, read_parts

from .stack import BASE_URL, MOONRAKER_URL, PORT, docker_usable, fresh_stack, get, wait_for

TOKEN = "e2eToken0123456789ab"
NOT_ALLOWED_NET = "192.0.2.0/24"  # TEST-NET-1: never the address the tests connect from

reason = docker_usable()
if reason is not None and os.environ.get("CI") == "true":
    raise RuntimeError(f"end-to-end tests must run in CI, but Docker is not usable: {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=f"end-to-end tests need Docker: {reason}")

ENV = {
    "FEED_SOURCE": "synthetic",
    "CAMERA_WIDTH": "640",
    "CAMERA_HEIGHT": "480",
    "CAMERA_FPS": "10",
    "SNAPSHOT_MAX_AGE": "3",
    "PRUSA_CONNECT_URL": "http://prusa-connect:8080",
    "PRUSA_CONNECT_TOKEN": TOKEN,
    "CAMERA_NAME": "E2E printer",
    "CAMERA2_SOURCE": "synthetic",
    "CAMERA2_NAME": "E2E overview",
    "CAMERA2_WIDTH": "320",
    "CAMERA2_HEIGHT": "240",
    "BIND_ADDRESS": "127.0.0.1",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with fresh_stack(ENV, tmp_path_factory.mktemp("e2e")) as s:
        yield s


def snapshot_ok():
    return get("/snapshot.jpg").status_code == 200


def recorded_uploads(stack):
    result = stack.exec_python(
        "prusa-connect",
        "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/_recorded', timeout=3).read().decode())")
    assert result.returncode == 0, result.stderr
    return [r for r in json.loads(result.stdout) if r["path"] == "/c/snapshot"]


def test_snapshot_is_503_until_the_camera_delivers_then_200(stack):
    stack.run("up", "-d", "--no-deps", "http", "nginx", "moonraker-gate", "moonraker")
    wait_for(lambda: get("/snapshot.jpg").status_code != 502, 60, "nginx and the frame server to answer")
    first = get("/snapshot.jpg")
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "1"
    stack.run("up", "-d")
    wait_for(snapshot_ok, 60, "a first frame through nginx")
    response = get("/snapshot.jpg?cacheBust=123")
    assert response.headers["Content-Type"] == "image/jpeg"
    assert is_complete_jpeg(response.content)
    assert dimensions(response.content) == (640, 480)
    assert "no-store" in response.headers["Cache-Control"]
    assert float(response.headers["X-Timestamp"]) > 0


def test_stream_delivers_live_frames_through_nginx(stack):
    with get("/stream.mjpg", stream=True, timeout=10) as response:
        assert response.status_code == 200
        boundary = boundary_of(response.headers["Content-Type"])
        stamps = []
        for headers, body in read_parts(response.raw, boundary):
            assert headers["content-type"] == "image/jpeg"
            assert is_complete_jpeg(body) and is_synthetic(body)
            stamps.append(float(headers["x-timestamp"]))
            if len(stamps) == 8:
                break
    assert len(stamps) == 8
    assert stamps == sorted(stamps) and len(set(stamps)) >= 6


def test_healthz_says_the_picture_is_the_test_pattern(stack):
    body = get("/healthz").json()
    assert body["source"] == "synthetic"
    assert body["feed_connected"] is True


def camera_of(jpeg):
    """The camera number the test pattern wrote into the frame."""
    return int(next(c for c in comments(jpeg) if c.startswith(SYNTHETIC_MARK)).split(b"camera=")[1].split()[0])


@pytest.mark.parametrize("number, size, snapshot, stream", [
    (1, (640, 480), "/webcam/?action=snapshot", "/webcam/?action=stream"),
    (1, (640, 480), "/webcam1/snapshot.jpg", "/webcam1/stream.mjpg"),
    (2, (320, 240), "/webcam2/?action=snapshot", "/webcam2/?action=stream"),
    (2, (320, 240), "/webcam2/snapshot", "/webcam2/stream"),
])
def test_each_camera_shows_its_own_picture_at_its_own_paths(stack, number, size, snapshot, stream):
    wait_for(lambda: get(snapshot).status_code == 200, 60, f"camera {number}'s first frame through nginx")
    picture = get(snapshot).content
    assert (camera_of(picture), dimensions(picture)) == (number, size)
    with get(stream, stream=True, timeout=10) as response:
        assert response.status_code == 200
        parts = read_parts(response.raw, boundary_of(response.headers["Content-Type"]))
        pictures = [next(parts)[1] for _ in range(3)]
    assert [(camera_of(p), dimensions(p)) for p in pictures] == [(number, size)] * 3


def test_healthz_reports_both_cameras_and_a_camera_that_is_off_is_404(stack):
    wait_for(lambda: get("/healthz").status_code == 200, 60, "both cameras fresh")
    cameras = get("/healthz").json()["cameras"]
    assert [(c["camera"], c["name"], c["source"]) for c in cameras] == [(1, "E2E printer", "synthetic"),
                                                                         (2, "E2E overview", "synthetic")]
    response = get("/webcam3/snapshot.jpg")
    assert response.status_code == 404
    assert response.text.startswith("camera 3 is off: set CAMERA3_SOURCE to ") and response.text.count("\n") == 1


# Run inside the feed container: the pids of its camera processes, by camera number (FEED_CAMERA).
CAMERA_PIDS = """
import json, os
pids = {}
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        environ = open(f'/proc/{pid}/environ', 'rb').read().split(b'\\0')
    except OSError:
        continue
    pids.update({int(e[12:]): int(pid) for e in environ if e.startswith(b'FEED_CAMERA=')})
print(json.dumps(pids))
"""


def camera_pids(stack):
    result = stack.exec_python("feed", CAMERA_PIDS)
    assert result.returncode == 0, result.stderr
    return {int(number): pid for number, pid in json.loads(result.stdout).items()}


def frame_number(jpeg):
    return int(next(c for c in comments(jpeg) if c.startswith(SYNTHETIC_MARK)).split(b"frame=")[1].split()[0])


def test_killing_camera_2s_process_leaves_camera_1s_stream_untouched(stack):
    pids = wait_for(lambda: (lambda p: p if set(p) == {1, 2} else None)(camera_pids(stack)), 30,
                    "the feed to run cameras 1 and 2")
    feed = stack.container_id("feed")
    restarts = stack.inspect(feed)["RestartCount"]
    numbers = []
    with get("/stream.mjpg", stream=True, timeout=10) as response:
        boundary = boundary_of(response.headers["Content-Type"])
        for _, body in read_parts(response.raw, boundary):
            numbers.append(frame_number(body))
            if len(numbers) == 5:
                killed = stack.exec_python("feed", f"import os, signal; os.kill({pids[2]}, signal.SIGKILL)")
                assert killed.returncode == 0, killed.stderr
            if len(numbers) == 40:  # 4 s at 10 fps, while camera 2 is restarted
                break
    # One camera 1 process the whole time, never stalling: its frame numbers only rise (a restart
    # would start them at 1 again, a stall would repeat the last frame).
    assert numbers == sorted(set(numbers)), numbers
    after = wait_for(lambda: (lambda p: p if 2 in p and p[2] != pids[2] else None)(camera_pids(stack)), 30,
                     "camera 2's process to be started again")
    assert after[1] == pids[1]
    assert stack.inspect(feed)["RestartCount"] == restarts
    assert "camera 2: camera process exited with status -9" in stack.logs("feed")


def test_the_feed_cannot_touch_the_hosts_dev(stack):
    probe = stack.exec_python("feed", """
import os
for make in (lambda: open('/dev/e2e-probe', 'w'), lambda: os.symlink('/etc/passwd', '/dev/e2e-link'),
             lambda: os.mkdir('/dev/e2e-dir'), lambda: open('/app/e2e-probe', 'w')):
    try:
        make()
        print('created')
    except OSError as error:
        print(error.strerror)
open('/dev/shm/e2e-probe', 'w').close()  # the container's own /dev/shm, not the host's
fd = os.open('/dev/null', os.O_RDWR)  # a device node still opens for reading and writing
os.write(fd, b'x')
print(os.getuid(), sorted(os.getgroups()))
""")
    assert probe.returncode == 0, probe.stderr
    lines = probe.stdout.splitlines()
    assert lines[:4] == ["Read-only file system"] * 4
    assert not os.path.exists("/dev/shm/e2e-probe")
    uid, groups = lines[4].split(" ", 1)
    assert uid != "0" and 44 in json.loads(groups)  # not root; in the video group
    assert stack.inspect(stack.container_id("feed"))["HostConfig"]["ReadonlyRootfs"] is True


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405(stack, method):
    for path in ("/snapshot.jpg", "/stream.mjpg", "/healthz", "/anything"):
        response = requests.request(method, BASE_URL + path, timeout=5)
        assert response.status_code == 405, (method, path)
        assert response.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", ["/index.html", "/status.html", "/status.json/x", "/snapshot.jpg/x", "/static/", "/../etc/passwd",
                                  "/printer/gcode/script", "/stream", "/healthz.json"])
def test_other_paths_get_404(stack, path):
    response = get(path)
    assert response.status_code == 404
    assert "nginx/" not in response.headers.get("Server", "")


def test_only_nginx_publishes_a_port(stack):
    published = {}
    for container in stack.container_ids():
        info = stack.inspect(container)
        service = info["Config"]["Labels"]["com.docker.compose.service"]
        bindings = info["HostConfig"]["PortBindings"] or {}
        published[service] = {port: [b["HostIp"] + ":" + b["HostPort"] for b in binds]
                              for port, binds in bindings.items() if binds}
    assert published.pop("nginx") == {"7126/tcp": [f"127.0.0.1:{PORT}"]}
    assert all(not ports for ports in published.values()), published


def test_every_service_passes_its_healthcheck_which_starts_no_python(stack):
    services = ("http", "nginx", "uploader", "moonraker-gate")

    def health():
        states = {name: stack.inspect(stack.container_id(name))["State"].get("Health", {}) for name in services}
        return states if all(state.get("Status") == "healthy" for state in states.values()) else None

    states = wait_for(health, 100, "every service healthy (compose.yaml checks every 30 s)")
    for name, state in states.items():
        assert state["Log"][-1]["Output"].startswith("healthy: "), (name, state["Log"][-1])
    for name in services:
        test = stack.inspect(stack.container_id(name))["Config"]["Healthcheck"]["Test"]
        assert "python3" not in " ".join(test), (name, test)


def test_feed_and_frame_server_are_unreachable_from_outside_their_network(stack):
    for port in (9000, 8081):
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    # The stand-in Prusa Connect sits on the outside network, like anything on the LAN side.
    for host, port in (("feed", 9000), ("http", 8081)):
        result = stack.exec_python(
            "prusa-connect", f"import socket; socket.create_connection(({host!r}, {port}), timeout=3)")
        assert result.returncode != 0, f"{host}:{port} was reachable from the outside network"


def test_uploads_reach_prusa_connect_with_the_right_headers(stack):
    uploads = wait_for(lambda: recorded_uploads(stack), 40, "a first upload to the stand-in Prusa Connect")
    upload = uploads[0]
    assert upload["method"] == "PUT"
    assert upload["headers"]["Content-Type"] == "image/jpg"
    assert len(upload["headers"]["Fingerprint"]) >= 16
    assert upload["body_valid"] is True
    assert upload["status"] in (200, 204)


def moonraker_recorded():
    return requests.get(MOONRAKER_URL + "/_recorded", timeout=5).json()


def test_mobileraker_reads_moonraker_and_the_camera_through_7126_only(stack):
    assert get("/webcam/?action=snapshot&cacheBust=1").headers["Content-Type"] == "image/jpeg"
    assert get("/server/info").json()["result"]["klippy_state"] == "ready"
    assert get("/access/api_key").status_code == 403
    assert requests.post(BASE_URL + "/printer/gcode/script?script=G28", timeout=5).status_code == 405
    ws = websocket.create_connection(BASE_URL.replace("http:", "ws:") + "/websocket", timeout=10, suppress_origin=True)
    try:
        ws.send(json.dumps({"jsonrpc": "2.0", "method": "server.info", "id": 1}))
        assert "result" in json.loads(ws.recv())
        ws.send(json.dumps({"jsonrpc": "2.0", "method": "printer.gcode.script", "params": {"script": "G28"}, "id": 2}))
        assert json.loads(ws.recv())["error"]["code"] == -32601
    finally:
        ws.close()
    record = moonraker_recorded()
    assert [r["path"] for r in record["requests"] if r["path"] != "/websocket"] == ["/server/info"]
    assert not any("gcode.script" in m["text"] for m in record["messages"])


def test_moonraker_down_is_502_and_the_camera_keeps_working(stack):
    stack.run("stop", "moonraker")
    try:
        response = get("/server/info")
        assert response.status_code == 502
        assert response.text.startswith(f"moonraker unreachable at {MOONRAKER_URL}: ")
        assert get("/snapshot.jpg").status_code == 200
    finally:
        stack.run("start", "moonraker")


def test_the_feed_recovers_by_itself_after_its_process_is_killed(stack):
    before = float(get("/snapshot.jpg").headers["X-Timestamp"])
    feed = stack.container_id("feed")
    restarts = stack.inspect(feed)["RestartCount"]
    os.kill(stack.inspect(feed)["State"]["Pid"], signal.SIGKILL)
    wait_for(lambda: stack.inspect(feed)["RestartCount"] > restarts, 30, "docker to restart the feed")
    wait_for(lambda: float(get("/snapshot.jpg").headers.get("X-Timestamp", 0)) > before + 1, 60,
             "fresh frames after the feed's restart")


def test_a_client_outside_allowed_cidrs_gets_403(stack):
    stack.env["ALLOWED_CIDRS"] = NOT_ALLOWED_NET
    try:
        stack.run("up", "-d", "nginx")
        wait_for(lambda: get("/snapshot.jpg").status_code == 403, 60, "nginx with the narrow allowlist")
        for method, path in (("GET", "/stream.mjpg"), ("HEAD", "/healthz"), ("POST", "/snapshot.jpg"),
                             ("GET", "/nowhere")):
            assert requests.request(method, BASE_URL + path, timeout=5).status_code == 403
    finally:
        del stack.env["ALLOWED_CIDRS"]
        stack.run("up", "-d", "nginx")
    wait_for(snapshot_ok, 60, "nginx with the default allowlist")


def test_an_invalid_allowlist_entry_holds_nginx_with_one_clear_line(stack):
    stack.env["ALLOWED_CIDRS"] = "192.168.0.0/16 not-a-network"
    try:
        stack.run("up", "-d", "nginx")
        logs = wait_for(lambda: "not-a-network" in stack.logs("nginx") and stack.logs("nginx"), 30,
                        "nginx to refuse the allowlist")
        assert "ALLOWED_CIDRS entry 'not-a-network' is invalid" in logs
        info = stack.inspect(stack.container_id("nginx"))
        assert info["State"]["Running"] and info["RestartCount"] == 0
    finally:
        del stack.env["ALLOWED_CIDRS"]
        stack.run("up", "-d", "nginx")
    wait_for(snapshot_ok, 60, "nginx with the default allowlist")


def test_down_and_up_keep_the_same_fingerprint(stack):
    fingerprint = recorded_uploads(stack)[0]["headers"]["Fingerprint"]
    stack.run("down")
    stack.run("up", "-d")
    uploads = wait_for(lambda: recorded_uploads(stack), 60, "an upload after down and up")
    assert {u["headers"]["Fingerprint"] for u in uploads} == {fingerprint}


def test_no_container_logs_the_token(stack):
    logs = stack.logs()
    assert TOKEN not in logs
    assert TOKEN[-4:] in stack.logs("uploader")
