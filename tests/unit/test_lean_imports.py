"""The gate, the uploader and the feed's processes start without `dataclasses`: it imports inspect, ast, dis,
tokenize and more, 1.2 to 1.4 MiB of every process that loads it, so their records are NamedTuples and plain
classes."""

import subprocess
import sys

import pytest

from service_process import service_env

STARTS = {
    # The gate's hub at work too: gevent's default context formatter, pprint, imports dataclasses.
    "moonraker_gate": (("http", "common"), "moonraker_gate.__main__\nimport gevent\ngevent.get_hub().print_exception"
                                           "(None, ValueError, ValueError('x'), None)"),
    # The uploader imports these only once a camera has a token; an uploading one runs them all.
    "uploader": (("uploader", "common"), "uploader.__main__, uploader.connect, uploader.loop, uploader.transfer, "
                                         "uploader.printerstate, uploader.snapshotfetch"),
    # The feed runs its runner and one process per camera, each importing what `python3 -m` loads.
    "feedrunner": (("feed", "common"), "feedrunner.__main__"),
    "usbcam": (("feed", "common"), "usbcam.__main__"),
    "synthcam": (("feed", "common"), "synthcam.__main__"),  # with Pillow, which imports no dataclasses
}


@pytest.mark.parametrize("service", sorted(STARTS))
def test_a_started_service_has_not_imported_dataclasses(service):
    folders, modules = STARTS[service]
    program = f"import sys\nimport {modules}\nprint('dataclasses' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", program], env=service_env(folders), capture_output=True,
                            text=True, timeout=60, check=True).stdout
    assert output == "False\n"
