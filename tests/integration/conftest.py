"""Stand-ins the uploader's integration tests share: one server per module, reset around each test."""

import pytest

from standins.prusa_connect import PrusaConnect
from standins.scripted_snapshots import ScriptedSnapshots


@pytest.fixture(scope="module")
def connect_server(request):
    """The Prusa Connect stand-in, accepting the requesting module's TOKEN."""
    with PrusaConnect(request.module.TOKEN) as server:
        yield server


@pytest.fixture
def connect(connect_server):
    connect_server.reset()
    yield connect_server
    connect_server.reset()


@pytest.fixture(scope="module")
def snapshot_server():
    server = ScriptedSnapshots()
    yield server
    server.close()


@pytest.fixture
def snapshots(snapshot_server):
    snapshot_server.reset()
    yield snapshot_server
    snapshot_server.reset()
