"""`python3 -m uploader` as the container runs it: real processes, real signals, all output captured."""

import os
import subprocess
import sys
import time

import pytest

from health_files import run_check
from service_process import ServiceProcess, free_port, service_env
from standins.moonraker import MoonrakerStandin
from standins.prusa_connect import PrusaConnect
from standins.prusalink import PrusaLink
from standins.scripted_snapshots import make_jpeg

TOKEN = "abcdEFGH1234ijklMNOP"
TOKEN2 = "zyxwVUTS9876rqpoNMLK"
EXIT_CONFIG = 78
WAIT = 30.0  # generous: the machine may be busy


def environment(**settings):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"}
    return service_env(("common", "uploader"), base, **settings)


def healthcheck(env):
    """Docker's healthcheck of the uploader (compose.yaml): check-deadline on its HEALTH_FILE."""
    return run_check("check-deadline", env["HEALTH_FILE"])


@pytest.fixture
def services():
    started = []
    yield lambda env: started.append(ServiceProcess("uploader", env, WAIT)) or started[-1]
    for service in started:
        service.kill()


def settings(tmp_path, snapshots, connect_url, **more):
    base = {"FRAME_SERVER_URL": snapshots.base_url, "PRUSA_CONNECT_URL": connect_url, "PRUSA_CONNECT_TOKEN": TOKEN,
            "STATE_DIR": tmp_path / "state", "HEALTH_FILE": tmp_path / "run" / "health", "STATE_PORT": free_port()}
    base.update(more)
    return environment(**base)


def test_config_errors_exit_78_with_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cases = {
        "UPLOAD_INTERVAL": {"UPLOAD_INTERVAL": "ten"},
        "PRUSA_CONNECT_URL": {"PRUSA_CONNECT_URL": "ftp://connect.prusa3d.com"},
        "PRUSA_CONNECT_FINGERPRINT": {"PRUSA_CONNECT_TOKEN": TOKEN, "PRUSA_CONNECT_FINGERPRINT": "too-short"},
        "PRUSA_CONNECT_TOKEN": {"PRUSA_CONNECT_TOKEN": "abcd EFGH1234ijklMNOP"},
        "STATE_DIR": {"PRUSA_CONNECT_TOKEN": TOKEN, "STATE_DIR": blocker / "state",
                      "HEALTH_FILE": tmp_path / "health"},
        "HEALTH_FILE": {"PRUSA_CONNECT_TOKEN": TOKEN, "PRUSA_CONNECT_FINGERPRINT": "0123456789abcdef",
                        "HEALTH_FILE": blocker / "health"},
    }
    running = {name: subprocess.Popen([sys.executable, "-m", "uploader"], env=environment(**env),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for name, env in cases.items()}
    for name, proc in running.items():
        out, err = proc.communicate(timeout=WAIT)
        assert proc.returncode == EXIT_CONFIG, (name, out, err)
        assert err == "" and out.count("\n") == 1 and out.startswith("uploader: "), (name, out, err)
        assert name in out, (name, out)
        assert "EFGH1234" not in out


def test_without_a_token_it_stays_up_healthy_and_says_how_to_enable(tmp_path, snapshots, connect, services):
    env = settings(tmp_path, snapshots, connect.url, PRUSA_CONNECT_TOKEN="")
    service = services(env)
    service.wait_line("uploads disabled")
    assert healthcheck(env) == (0, "healthy: uploads disabled (no camera has a Prusa Connect token); nothing to check\n")
    assert service.stop()[0] == 0
    lines = service.log().splitlines()
    assert [line.split(":")[0] for line in lines] == ["uploader INFO starting", "uploader WARNING uploads disabled",
                                                      "uploader INFO stopping on SIGTERM"]
    assert "Add new other camera" in lines[1] and "PRUSA_CONNECT_TOKEN" in lines[1]
    assert connect.recorded() == [] and snapshots.requests == 0
    assert not (tmp_path / "state").exists()


def test_the_fingerprint_is_generated_once_and_survives_restarts(tmp_path, snapshots, connect, services):
    env = settings(tmp_path, snapshots, connect.url, UPLOAD_INTERVAL="5")
    first = services(env)
    first.wait_line("first snapshot accepted")
    assert healthcheck(env)[0] == 0
    assert first.stop()[0] == 0
    stored = (tmp_path / "state" / "fingerprint").read_text().strip()
    second = services(env)
    second.wait_line("first snapshot accepted")
    assert second.stop()[0] == 0

    assert len(connect.recorded("/c/snapshot")) == 2
    assert {r["headers"]["Fingerprint"] for r in connect.recorded()} == {stored}
    assert all(r["status"] == 204 for r in connect.recorded("/c/snapshot"))
    assert f"new camera fingerprint {stored} stored in " in first.log()
    assert "new camera fingerprint" not in second.log()
    start = second.wait_line("starting:")
    assert start == (f"uploader INFO starting: UPLOAD_WHEN=always FRAME_SERVER_URL={snapshots.base_url} PRUSA_CONNECT_URL={connect.url} "
                     f"STATE_DIR={tmp_path / 'state'} HEALTH_FILE={tmp_path / 'run' / 'health'}, cameras 1")
    camera = second.wait_line("camera 1:")
    assert camera == (f"uploader INFO Printer camera: camera 1: SNAPSHOT_URL={snapshots.url} PRUSA_CONNECT_TOKEN=…MNOP "
                      f"PRUSA_CONNECT_FINGERPRINT={stored} (stored in {tmp_path / 'state' / 'fingerprint'}) "
                      "UPLOAD_INTERVAL=10 CAMERA_NAME='Printer camera'")
    assert first.log().count("UPLOAD_INTERVAL=5 is under Prusa Connect's limit") == 1


def test_an_upgrade_to_two_cameras_keeps_camera_1s_fingerprint_and_each_camera_uploads_as_its_own(
        tmp_path, snapshots, services):
    snapshots.serve(make_jpeg(96, 64), "1700000000.5", path="/webcam2/snapshot.jpg")
    with PrusaConnect([TOKEN, TOKEN2]) as connect:
        one_camera = services(settings(tmp_path, snapshots, connect.url))
        one_camera.wait_line("camera info sent")
        assert one_camera.stop()[0] == 0
        stored = (tmp_path / "state" / "fingerprint").read_text().strip()
        two_cameras = services(settings(tmp_path, snapshots, connect.url, CAMERA2_SOURCE="synthetic",
                                        CAMERA2_PRUSA_CONNECT_TOKEN=TOKEN2, CAMERA2_NAME="Nozzle cam"))
        two_cameras.wait_line("Nozzle cam: uploading: first snapshot accepted")
        two_cameras.wait_line("Printer camera: uploading: first snapshot accepted")
        two_cameras.wait_line("Nozzle cam: camera info sent")
        two_cameras.wait_line("Printer camera: camera info sent")
        assert two_cameras.stop()[0] == 0
        recorded = connect.recorded()
    second = (tmp_path / "state" / "camera2-fingerprint").read_text().strip()
    assert (tmp_path / "state" / "fingerprint").read_text().strip() == stored != second
    by_camera = {number: [r for r in recorded if r["token_number"] == number] for number in (1, 2)}
    assert {r["headers"]["Fingerprint"] for r in by_camera[1]} == {stored}
    assert {r["headers"]["Fingerprint"] for r in by_camera[2]} == {second}
    assert all(r["status"] == 204 for r in recorded), [(r["path"], r["token_number"], r["status"]) for r in recorded]
    assert [r["json"]["config"] for r in by_camera[2] if r["path"] == "/c/info"] == [
        {"name": "Nozzle cam", "resolution": {"width": 96, "height": 64}}]
    assert {r["json"]["config"]["name"] for r in by_camera[1] if r["path"] == "/c/info"} == {"Printer camera"}
    assert "/webcam2/snapshot.jpg" in snapshots.paths and "/snapshot.jpg" in snapshots.paths
    log = two_cameras.log()
    assert f"Nozzle cam: camera 2: SNAPSHOT_URL={snapshots.base_url}/webcam2/snapshot.jpg " in log
    assert "CAMERA2_PRUSA_CONNECT_TOKEN=…NMLK CAMERA2_PRUSA_CONNECT_FINGERPRINT=" in log
    assert f"new camera fingerprint {second} stored in " in log and f"new camera fingerprint {stored}" not in log


def test_one_cameras_stalled_upload_never_delays_anothers_schedule(tmp_path, snapshots, services):
    snapshots.live = True  # a new frame at every fetch
    with PrusaConnect([TOKEN, TOKEN2]) as connect:
        connect.set_mode(stall=60, token_number=2)
        service = services(settings(tmp_path, snapshots, connect.url, CAMERA2_SOURCE="synthetic",
                                    CAMERA2_PRUSA_CONNECT_TOKEN=TOKEN2))
        accepted = connect.wait_answered(2, path="/c/snapshot", timeout=WAIT)
        assert service.stop()[0] == 0
    camera1 = [r for r in accepted if r["token_number"] == 1 and r["path"] == "/c/snapshot"]
    camera2 = [r for r in accepted if r["token_number"] == 2]
    assert [r["status"] for r in camera1] == [204, 204]
    assert 10 <= camera1[1]["time"] - camera1[0]["time"] < 12
    assert camera2 and not any(r["answered"] for r in camera2)  # still held by Connect all along


def test_uploads_follow_the_print_and_the_end_sends_one_last_picture(tmp_path, snapshots, connect, services):
    snapshots.live = True
    with MoonrakerStandin() as moonraker:
        service = services(settings(tmp_path, snapshots, connect.url, UPLOAD_WHEN="printing",
                                    GATE_ADDRESS=moonraker.url))
        service.wait_line("printer state: idle")
        assert connect.wait_for(1, timeout=3) == []  # idle, no idle interval: nothing
        moonraker.set_print_state("printing")
        started = time.time()
        [first] = connect.wait_answered(1, path="/c/snapshot")
        assert first["status"] == 204 and first["time"] - started < 5  # at once (the state is read every 2 s)
        moonraker.set_print_state("complete")
        connect.wait_answered(2, path="/c/snapshot", timeout=WAIT)
        assert connect.wait_for(3, path="/c/snapshot", timeout=12)[2:] == []  # the last picture, then none
        log = service.log()
    first, last = connect.recorded("/c/snapshot")
    assert 10 <= last["time"] - first["time"] < 13  # the last picture as soon as the 10 s floor allows
    assert (f"starting: UPLOAD_WHEN=printing UPLOAD_IDLE_INTERVAL=0 PRINTER_STATE_SOURCE=moonraker (through the "
            f"gate at {moonraker.url}) ") in log
    assert "printer state: printing (Moonraker print_stats.state 'printing'): uploading every 10 s" in log
    assert "printer state: idle (Moonraker print_stats.state 'complete'): one last picture, then no uploads" in log


def test_wrong_prusalink_credentials_are_one_line_and_uploads_go_on_without_the_password_in_any_output(
        tmp_path, snapshots, connect, services):
    password = "the-wrong-password-XYZ9"
    with PrusaLink(password="the-right-one") as link:
        service = services(settings(tmp_path, snapshots, connect.url, UPLOAD_WHEN="printing",
                                    PRINTER_STATE_SOURCE="prusalink", PRUSALINK_URL=link.url,
                                    PRUSALINK_PASSWORD=password))
        service.wait_line("first snapshot accepted")  # fail open
        assert service.stop()[0] == 0
    log = service.log()
    [line] = [line for line in log.splitlines() if "printer state" in line]
    assert line == ("uploader WARNING printer state unknown (PrusaLink refused the credentials (HTTP 401): set "
                    "PRUSALINK_USER and PRUSALINK_PASSWORD to the user and password the printer shows for PrusaLink "
                    "(Settings > Network)): uploading every 10 s until it is back")
    assert f"PRUSALINK_USER=maker PRUSALINK_PASSWORD=…XYZ9" in log
    assert password not in log and password[:-4] not in log


def test_sigterm_mid_upload_ends_the_process_within_2_s(tmp_path, snapshots, connect, services):
    connect.set_mode(stall=60)
    service = services(settings(tmp_path, snapshots, connect.url))
    connect.wait_for(1)  # the upload is in flight: Connect holds it without answering
    status, elapsed = service.stop()
    assert status == 0
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    assert service.wait_line("stopped")


def test_the_token_never_appears_in_any_output(tmp_path, snapshots, connect, services):
    connect.set_mode(status=401, code=f"X{TOKEN}", message=f"unknown token {TOKEN}")
    with PrusaConnect(TOKEN) as plain:
        refused_port = plain.port
    runs = {
        "refused": f"http://127.0.0.1:{refused_port}",
        "dns": "http://connect.invalid",
        "tls": connect.url.replace("http://", "https://"),
        "echoing": connect.url,
    }
    started = {}
    for name, url in runs.items():
        env = settings(tmp_path / name, snapshots, url, PRUSA_CONNECT_FINGERPRINT="0123456789abcdef")
        started[name] = (services(env), env)
    outputs = []
    for name, (service, env) in started.items():
        service.wait_line("not uploading")
        outputs.append(healthcheck(env)[1])
        assert service.stop()[0] == 0
        outputs.append(service.log())
        assert "PRUSA_CONNECT_TOKEN=…MNOP" in service.log()
    bad = subprocess.run([sys.executable, "-m", "uploader"], capture_output=True, text=True, timeout=WAIT,
                         env=environment(PRUSA_CONNECT_TOKEN=TOKEN + " x"))
    outputs += [bad.stdout, bad.stderr]
    assert [r["token"] for r in connect.recorded()] == ["valid"]  # the token did reach the echoing server
    assert "[secret]" in started["echoing"][0].log()
    for text in outputs:
        assert TOKEN not in text and TOKEN[:10] not in text and TOKEN[-10:] not in text
