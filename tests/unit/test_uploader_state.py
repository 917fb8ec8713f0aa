"""What GET /state says of each camera and of the printer: enabled or off, secrets as hints, times on the wall clock."""

from types import SimpleNamespace

from appliance import cameras
from uploader.printerstate import Reading, unknown
from uploader.schedule import Printer
from uploader.stateserver import camera_state, printer_state, wall_clock

TOKEN = "abcdEFGH1234ijklMNOP"
FINGERPRINT = "0123456789abcdef-fingerprint"
SLOTS = cameras.load({"PRUSA_CONNECT_TOKEN": TOKEN, "CAMERA2_SOURCE": "synthetic", "CAMERA2_NAME": "Nozzle"},
                     upload=True)


def to_wall(moment):
    return None if moment is None else moment + 1_700_000_000


def test_a_camera_with_a_token_shows_its_uploads_and_only_hints_of_its_secrets():
    status = {"last_accepted": 100.0, "cause": "Prusa Connect is unavailable or overloaded (HTTP 503)",
              "next_try": 120.5, "why": "uploading every 10 s"}
    assert camera_state(SLOTS.get(1), FINGERPRINT, status, to_wall) == {
        "camera": 1, "name": "Printer camera", "enabled": True, "token": "…MNOP", "fingerprint": "…rint",
        "interval": 10.0, "last_accepted_at": 1_700_000_100.0,
        "cause": "Prusa Connect is unavailable or overloaded (HTTP 503)", "next_try_at": 1_700_000_120.5,
        "why": "uploading every 10 s"}


def test_a_camera_without_a_token_is_off_and_says_which_variable():
    assert camera_state(SLOTS.get(2), None, None, to_wall) == {
        "camera": 2, "name": "Nozzle", "enabled": False, "token": None, "fingerprint": None, "interval": 10.0,
        "last_accepted_at": None, "cause": None, "next_try_at": None,
        "why": "uploads off: CAMERA2_PRUSA_CONNECT_TOKEN is empty"}


def follower(reading, since=50.0):
    return SimpleNamespace(reading=reading, since=since)


def test_the_printer_as_followed_known_unknown_waiting_or_not_followed():
    printing = Reading(Printer.PRINTING, "Moonraker print_stats.state 'printing'", None)
    assert printer_state("printing", "moonraker", follower(printing), to_wall) == {
        "upload_when": "printing", "source": "moonraker", "state": "printing",
        "detail": "Moonraker print_stats.state 'printing'", "cause": None, "since": 1_700_000_050.0}
    lost = unknown("refused", "the Moonraker gate at unix:/run/gate/gate.sock refused the connection")
    assert printer_state("printing", "moonraker", follower(lost), to_wall)["cause"] == lost.text
    assert printer_state("printing", "moonraker", follower(lost), to_wall)["state"] == "unknown"
    assert printer_state("printing", "prusalink", follower(None, None), to_wall)["state"] == "waiting"
    assert printer_state("always", None, None, to_wall) == {
        "upload_when": "always", "source": None, "state": None, "detail": None, "cause": None, "since": None}


def test_the_wall_clock_follows_the_monotonic_one():
    convert = wall_clock(clock=lambda: 10.0, wall=lambda: 1_700_000_000.0)
    assert convert(12.5) == 1_700_000_002.5 and convert(None) is None
