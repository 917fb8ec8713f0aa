"""The fingerprint store: configured wins, generated once, kept, never silently replaced."""

import os
import uuid

import pytest

from uploader.fingerprint import FingerprintError, resolve


def test_the_configured_fingerprint_wins_and_nothing_is_written(tmp_path):
    found = resolve("configured-fingerprint-1", str(tmp_path))
    assert (found.value, found.origin) == ("configured-fingerprint-1", "PRUSA_CONNECT_FINGERPRINT")
    assert os.listdir(tmp_path) == []


def test_a_new_fingerprint_is_a_uuid_stored_once_and_then_reused(tmp_path):
    first = resolve("", str(tmp_path))
    assert first.origin == "new"
    assert str(uuid.UUID(first.value)) == first.value
    assert os.listdir(tmp_path) == ["fingerprint"]  # no temporary file left behind
    again = resolve("", str(tmp_path), generate=lambda: pytest.fail("must not generate again"))
    assert (again.value, again.origin, again.path) == (first.value, "stored", str(tmp_path / "fingerprint"))


def test_a_missing_state_directory_is_created(tmp_path):
    state = tmp_path / "a" / "b"
    assert resolve("", str(state), generate=lambda: "g" * 20).value == "g" * 20
    assert (state / "fingerprint").read_text() == "g" * 20 + "\n"


def test_an_unwritable_state_directory_is_one_line_naming_it(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FingerprintError) as error:
        resolve("", str(blocker / "state"))
    line = str(error.value)
    assert "STATE_DIR=" in line and "PRUSA_CONNECT_FINGERPRINT" in line and "\n" not in line


def test_a_damaged_stored_fingerprint_stops_instead_of_being_replaced(tmp_path):
    (tmp_path / "fingerprint").write_text("bad!\n")
    with pytest.raises(FingerprintError) as error:
        resolve("", str(tmp_path))
    assert "fingerprint" in str(error.value) and "\n" not in str(error.value)
    assert (tmp_path / "fingerprint").read_text() == "bad!\n"


def test_an_unreadable_stored_fingerprint_stops(tmp_path):
    (tmp_path / "fingerprint").mkdir()
    with pytest.raises(FingerprintError) as error:
        resolve("", str(tmp_path))
    assert "cannot read" in str(error.value)
