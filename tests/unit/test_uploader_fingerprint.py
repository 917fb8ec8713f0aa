"""The fingerprint store: configured wins, generated once per camera, kept, never silently replaced."""

import os
import uuid

import pytest

from appliance import cameras
from uploader.fingerprint import FingerprintError, resolve

TOKEN = "abcdEFGH1234ijklMNOP"


def camera(number=1, **settings):
    environ = {"PRUSA_CONNECT_TOKEN": TOKEN, **settings}
    if number != 1:
        environ.update({f"CAMERA{number}_SOURCE": "synthetic", f"CAMERA{number}_PRUSA_CONNECT_TOKEN": TOKEN + "2"})
    return cameras.load(environ, upload=True).get(number)


def test_the_configured_fingerprint_wins_and_nothing_is_written(tmp_path):
    found = resolve(camera(PRUSA_CONNECT_FINGERPRINT="configured-fingerprint-1"), str(tmp_path))
    assert (found.value, found.origin) == ("configured-fingerprint-1", "configured")
    assert os.listdir(tmp_path) == []


def test_a_new_fingerprint_is_a_uuid_stored_once_and_then_reused(tmp_path):
    first = resolve(camera(), str(tmp_path))
    assert first.origin == "new"
    assert str(uuid.UUID(first.value)) == first.value
    assert os.listdir(tmp_path) == ["fingerprint"]  # no temporary file left behind
    again = resolve(camera(), str(tmp_path), generate=lambda: pytest.fail("must not generate again"))
    assert (again.value, again.origin, again.path) == (first.value, "stored", str(tmp_path / "fingerprint"))


def test_an_upgrade_from_one_camera_keeps_camera_1s_file_and_value(tmp_path):
    (tmp_path / "fingerprint").write_text("the-one-camera-fingerprint\n")  # what the one-camera uploader wrote
    first = resolve(camera(), str(tmp_path), generate=lambda: pytest.fail("camera 1 must keep its fingerprint"))
    second = resolve(camera(2), str(tmp_path), generate=lambda: "camera-two-fingerprint")
    assert (first.value, first.origin) == ("the-one-camera-fingerprint", "stored")
    assert (second.value, second.origin, second.path) == ("camera-two-fingerprint", "new",
                                                          str(tmp_path / "camera2-fingerprint"))
    assert (tmp_path / "fingerprint").read_text() == "the-one-camera-fingerprint\n"
    assert sorted(os.listdir(tmp_path)) == ["camera2-fingerprint", "fingerprint"]


def test_a_missing_state_directory_is_created(tmp_path):
    state = tmp_path / "a" / "b"
    assert resolve(camera(), str(state), generate=lambda: "g" * 20).value == "g" * 20
    assert (state / "fingerprint").read_text() == "g" * 20 + "\n"


@pytest.mark.parametrize("number, variable", [(1, "PRUSA_CONNECT_FINGERPRINT"), (3, "CAMERA3_PRUSA_CONNECT_FINGERPRINT")])
def test_an_unwritable_state_directory_is_one_line_naming_it(tmp_path, number, variable):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FingerprintError) as error:
        resolve(camera(number), str(blocker / "state"))
    line = str(error.value)
    assert "STATE_DIR=" in line and variable in line and "\n" not in line


def test_a_damaged_stored_fingerprint_stops_instead_of_being_replaced(tmp_path):
    (tmp_path / "camera2-fingerprint").write_text("bad!\n")
    with pytest.raises(FingerprintError) as error:
        resolve(camera(2), str(tmp_path))
    assert "CAMERA2_PRUSA_CONNECT_FINGERPRINT" in str(error.value) and "\n" not in str(error.value)
    assert (tmp_path / "camera2-fingerprint").read_text() == "bad!\n"


def test_an_unreadable_stored_fingerprint_stops(tmp_path):
    (tmp_path / "fingerprint").mkdir()
    with pytest.raises(FingerprintError) as error:
        resolve(camera(), str(tmp_path))
    assert "cannot read" in str(error.value)
