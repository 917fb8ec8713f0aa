"""`python3 -m uploader`: the uploader container's main process, one upload loop per camera with a token.

Each camera's loop is a thread of its own with its own HTTP sessions, schedule, fingerprint and log
lines, so one camera's failure never disturbs another's schedule. The modules that only uploading
needs (http.client and ssl among them) are imported only when a camera has a token, which keeps an idle
uploader small.
"""

import logging
import os
import signal
import sys
import threading
import time
from typing import Callable, Mapping
from urllib.parse import urlsplit

from appliance import log as applog
from appliance.cameras import Camera
from appliance.envparse import EXIT_CONFIG, load_or_exit

from . import healthfile
from .config import Config, load
from .fingerprint import Fingerprint, FingerprintError, resolve
from .redact import Redactor, hint

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
# How long shutdown waits for each loop; its cancelled HTTP calls make it return at once.
JOIN_TIMEOUT = 1.0
HEALTH_MARGIN = 30.0


def main(environ: Mapping[str, str]) -> int:
    log = applog.setup("uploader")
    config = load_or_exit("uploader", load, environ)
    _keep_secrets_out_of_output(Redactor(config.secrets), log)
    # Signals are taken synchronously by sigwait below; every thread started later inherits the mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        if config.uploading:
            return _serve(config, log)
        return _idle(config, log)
    except (FingerprintError, _SetupError) as error:
        print(f"uploader: {error}", flush=True)
        return EXIT_CONFIG


class _SetupError(Exception):
    pass


def _keep_secrets_out_of_output(redact: Redactor, log: logging.Logger) -> None:
    """Every log line, warning and uncaught error goes through the redacting log handler."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    logging.captureWarnings(True)
    sys.excepthook = lambda kind, error, trace: log.critical("uncaught error", exc_info=(kind, error, trace))
    threading.excepthook = lambda hook: log.critical(
        "uncaught error in thread %s", getattr(hook.thread, "name", "?"),
        exc_info=(hook.exc_type, hook.exc_value, hook.exc_traceback))


def _serve(config: Config, log: logging.Logger) -> int:
    from .connect import ConnectClient
    from .loop import Uploader
    from .report import Report
    from .schedule import Schedule
    from .snapshotfetch import SnapshotSource

    fingerprints = {camera.number: resolve(camera, config.state_dir) for camera in config.uploading}
    _first_health(config, healthfile.write_starting)
    health = healthfile.HealthFile(config.health_file, log)
    _log_start(config, log)
    now = time.monotonic()
    idle_interval = config.idle_interval if config.follows_printer else None
    uploaders, closers = {}, []
    for camera in config.cameras:
        camera_log = applog.Prefixed(log, f"{camera.name}: ")
        fingerprint = fingerprints.get(camera.number)
        _log_camera(config, camera, camera_log, fingerprint)
        if fingerprint is None:
            continue
        source = SnapshotSource(config.snapshot_url(camera))
        client = ConnectClient(config.connect_url, camera.upload.token, fingerprint.value)
        grace = source.total_timeout + 2 * client.total_timeout + HEALTH_MARGIN
        uploader = Uploader(
            source=source, client=client, schedule=Schedule(camera.upload.interval, now, idle_interval=idle_interval),
            beacon=health.beacon(f"the upload loop of {camera.name}", grace),
            report=Report(camera_log, time.monotonic), camera=camera, fingerprint=fingerprint.value,
            clock=time.monotonic)
        uploaders[camera.number] = uploader
        closers += [client.close, source.close]
    loops = [(f"upload-camera{number}", uploader) for number, uploader in uploaders.items()]
    follower = None
    if config.follows_printer:
        follower = _follower(config, log, [uploader.printer_changed for uploader in uploaders.values()], health)
        loops.append(("printer-state", follower))
        closers.append(follower.close_source)
    _serve_state(config, log, lambda camera: uploaders[camera.number].status() if camera.number in uploaders
                 else None, {number: found.value for number, found in fingerprints.items()}, follower)
    return _run_until_signal(log, loops, closers)


def _serve_state(config: Config, log: logging.Logger, status, fingerprints, follower) -> None:
    """GET /state on its own thread: each camera's uploads and the printer, as the frame server's /status.json reads them."""
    from .stateserver import StateServer, camera_state, printer_state, wall_clock

    def state() -> dict:
        to_wall = wall_clock()
        return {"cameras": [camera_state(camera, fingerprints.get(camera.number), status(camera), to_wall)
                            for camera in config.cameras],
                "printer": printer_state(config.upload_when, config.state_source if follower else None, follower,
                                         to_wall)}

    frame_server = urlsplit(config.frame_server_url)
    StateServer(config.state_port, state, log, towards=(frame_server.hostname, frame_server.port)).start()


def _follower(config: Config, log: logging.Logger, listeners, health):
    from .printerstate import POLL, TIMEOUT, MoonrakerSource, PrinterFollower, PrusaLinkSource
    if config.state_source == "prusalink":
        source = PrusaLinkSource(config.prusalink_url, config.prusalink_user, config.prusalink_password,
                                 config.prusalink_api_key)
    else:
        source = MoonrakerSource(config.gate_address)
    intervals = {camera.upload.interval for camera in config.uploading}
    active = (f"uploading every {intervals.pop():g} s" if len(intervals) == 1
              else "uploading at each camera's upload interval")
    idle = (f"uploading every {config.idle_interval:g} s (UPLOAD_IDLE_INTERVAL)" if config.idle_interval
            else "no uploads until a print starts (UPLOAD_IDLE_INTERVAL=0)")
    return PrinterFollower(source, listeners, log, active=active, idle=idle,
                           beacon=health.beacon("the printer state reader", TIMEOUT + POLL + HEALTH_MARGIN))


def _run_until_signal(log: logging.Logger, loops, closers) -> int:
    threads = [threading.Thread(target=loop.run, name=name, daemon=True) for name, loop in loops]
    for thread in threads:
        thread.start()
    received = signal.sigwait(STOP_SIGNALS)
    log.info("stopping on %s", signal.Signals(received).name)
    for _, loop in loops:
        loop.stop()
    for close in closers:
        close()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    log.info("stopped")
    return 0


def _idle(config: Config, log: logging.Logger) -> int:
    _first_health(config, healthfile.write_disabled)
    _log_start(config, log)
    tokens = ", ".join(camera.variable("token") for camera in config.cameras)
    log.warning("uploads disabled: %s %s empty. To enable them, open the printer in Prusa Connect, Camera > Add "
                "new other camera, copy the token into %s (.env) and run docker compose up -d",
                tokens, "is" if len(config.cameras) == 1 else "are", config.cameras[0].variable("token"))
    _serve_state(config, log, lambda camera: None, {}, None)
    received = signal.sigwait(STOP_SIGNALS)
    log.info("stopping on %s", signal.Signals(received).name)
    return 0


def _first_health(config: Config, write: Callable[[str], None]) -> None:
    try:
        os.makedirs(os.path.dirname(config.health_file), exist_ok=True)
        write(config.health_file)
    except OSError as error:
        raise _SetupError(f"cannot write the health file HEALTH_FILE={config.health_file}: "
                          f"{error.strerror or type(error).__name__}; mount a writable tmpfs there") from None


def _log_start(config: Config, log: logging.Logger) -> None:
    log.info("starting: %s FRAME_SERVER_URL=%s PRUSA_CONNECT_URL=%s STATE_DIR=%s HEALTH_FILE=%s, cameras %s",
             _mode(config), config.frame_server_url, config.connect_url, config.state_dir, config.health_file,
             ", ".join(str(camera.number) for camera in config.cameras))
    for warning in config.warnings:
        log.warning("%s", warning)


def _mode(config: Config) -> str:
    """The upload mode as the start line shows it; the PrusaLink password and key as their last 4 characters."""
    if not config.follows_printer:
        return "UPLOAD_WHEN=always"
    mode = (f"UPLOAD_WHEN=printing UPLOAD_IDLE_INTERVAL={config.idle_interval:g} "
            f"PRINTER_STATE_SOURCE={config.state_source}")
    if config.state_source == "moonraker":
        return f"{mode} (through the gate at {config.gate_address})"
    credentials = (f"PRUSALINK_API_KEY={hint(config.prusalink_api_key)}" if config.prusalink_api_key else
                   f"PRUSALINK_USER={config.prusalink_user} PRUSALINK_PASSWORD={hint(config.prusalink_password)}")
    return f"{mode} PRUSALINK_URL={config.prusalink_url} {credentials}"


def _log_camera(config: Config, camera: Camera, log: logging.LoggerAdapter, fingerprint) -> None:
    """The camera's effective settings, under the names of its own variables; the token as its last 4 characters."""
    token = camera.variable("token")
    if fingerprint is None:
        log.info("camera %d: uploads off: %s is empty", camera.number, token)
        return
    log.info("camera %d: SNAPSHOT_URL=%s %s=%s %s=%s %s=%g %s=%r", camera.number, config.snapshot_url(camera),
             token, hint(camera.upload.token), camera.variable("fingerprint"), _shown(fingerprint),
             camera.variable("upload_interval"), camera.upload.interval, camera.variable("name"), camera.name)
    if fingerprint.origin == "new":
        log.info("new camera fingerprint %s stored in %s: Prusa Connect binds the token to it on the first "
                 "upload, so keep the uploader's state volume (docker compose down -v deletes it)",
                 fingerprint.value, fingerprint.path)


def _shown(fingerprint: Fingerprint) -> str:
    if fingerprint.origin == "stored":
        return f"{fingerprint.value} (stored in {fingerprint.path})"
    if fingerprint.origin == "new":
        return f"{fingerprint.value} (new)"
    return fingerprint.value


if __name__ == "__main__":
    sys.exit(main(os.environ))
