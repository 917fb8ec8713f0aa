"""`python3 -m uploader`: the uploader container's main process."""

import logging
import os
import signal
import sys
import threading
import time
from typing import Mapping, Optional

from appliance import log as applog
from appliance.envparse import EXIT_CONFIG, load_or_exit

from . import healthcheck
from .config import Config, load
from .connect import ConnectClient
from .fingerprint import Fingerprint, FingerprintError, resolve
from .healthcheck import Beacon
from .loop import Uploader
from .redact import Redactor
from .report import Report
from .schedule import Schedule
from .snapshotfetch import SnapshotSource

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
# How long shutdown waits for the loop; its cancelled HTTP calls make it return at once.
JOIN_TIMEOUT = 1.0
HEALTH_MARGIN = 30.0


def main(environ: Mapping[str, str]) -> int:
    config = load_or_exit("uploader", load, environ)
    log = applog.setup("uploader")
    _keep_the_token_out_of_output(Redactor(config.token), log)
    # Signals are taken synchronously by sigwait below; every thread started later inherits the mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        if config.uploads_enabled:
            return _serve(config, log)
        return _idle(config, log)
    except (FingerprintError, _SetupError) as error:
        print(f"uploader: {error}", flush=True)
        return EXIT_CONFIG


class _SetupError(Exception):
    pass


def _keep_the_token_out_of_output(redact: Redactor, log: logging.Logger) -> None:
    """Every log line, warning and uncaught error goes through the redacting log handler."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    logging.captureWarnings(True)
    sys.excepthook = lambda kind, error, trace: log.critical("uncaught error", exc_info=(kind, error, trace))
    threading.excepthook = lambda hook: log.critical(
        "uncaught error in thread %s", getattr(hook.thread, "name", "?"),
        exc_info=(hook.exc_type, hook.exc_value, hook.exc_traceback))


def _serve(config: Config, log: logging.Logger) -> int:
    fingerprint = resolve(config.fingerprint, config.state_dir)
    source = SnapshotSource(config.snapshot_url)
    client = ConnectClient(config.connect_url, config.token, fingerprint.value)
    grace = source.total_timeout + 2 * client.total_timeout + HEALTH_MARGIN
    now = time.monotonic()
    _first_health(config, healthcheck.RUNNING, now + grace)
    _log_start(config, log, fingerprint)
    if fingerprint.origin == "new":
        log.info("new camera fingerprint %s stored in %s: Prusa Connect binds the token to it on the first "
                 "upload, so keep the uploader's state volume (docker compose down -v deletes it)",
                 fingerprint.value, fingerprint.path)
    uploader = Uploader(
        source=source, client=client, schedule=Schedule(config.interval, now),
        beacon=Beacon(config.health_file, grace, log), report=Report(log, time.monotonic),
        camera_name=config.camera_name, fingerprint=fingerprint.value, clock=time.monotonic)
    stop = threading.Event()
    loop = threading.Thread(target=uploader.run, args=(stop,), name="upload-loop", daemon=True)
    loop.start()
    received = signal.sigwait(STOP_SIGNALS)
    log.info("stopping on %s", signal.Signals(received).name)
    stop.set()
    client.close()
    source.close()
    loop.join(JOIN_TIMEOUT)
    log.info("stopped")
    return 0


def _idle(config: Config, log: logging.Logger) -> int:
    _first_health(config, healthcheck.DISABLED, None)
    _log_start(config, log, None)
    log.warning("uploads disabled: PRUSA_CONNECT_TOKEN is empty. To enable them, open the printer in Prusa "
                "Connect, Camera > Add new other camera, copy the token into PRUSA_CONNECT_TOKEN (.env) and run "
                "docker compose up -d")
    received = signal.sigwait(STOP_SIGNALS)
    log.info("stopping on %s", signal.Signals(received).name)
    return 0


def _first_health(config: Config, state: str, deadline: Optional[float]) -> None:
    try:
        os.makedirs(os.path.dirname(config.health_file), exist_ok=True)
        healthcheck.write(config.health_file, state, deadline)
    except OSError as error:
        raise _SetupError(f"cannot write the health file HEALTH_FILE={config.health_file}: "
                          f"{error.strerror or type(error).__name__}; mount a writable tmpfs there") from None


def _log_start(config: Config, log: logging.Logger, fingerprint: Optional[Fingerprint]) -> None:
    if fingerprint is None:
        shown = "(not needed without a token)"
    elif fingerprint.origin == "stored":
        shown = f"{fingerprint.value} (stored in {fingerprint.path})"
    elif fingerprint.origin == "new":
        shown = f"{fingerprint.value} (new)"
    else:
        shown = fingerprint.value
    log.info("starting: SNAPSHOT_URL=%s PRUSA_CONNECT_URL=%s PRUSA_CONNECT_TOKEN=%s PRUSA_CONNECT_FINGERPRINT=%s "
             "UPLOAD_INTERVAL=%g CAMERA_NAME=%r STATE_DIR=%s HEALTH_FILE=%s",
             config.snapshot_url, config.connect_url, config.token_hint, shown, config.interval,
             config.camera_name, config.state_dir, config.health_file)
    for warning in config.warnings:
        log.warning("%s", warning)


if __name__ == "__main__":
    sys.exit(main(os.environ))
