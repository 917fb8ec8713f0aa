"""The allowlist is exactly the issue's list of read-only methods, and prints as Markdown."""

import os
import subprocess
import sys
from pathlib import Path

from moonraker_gate.allowlist import ALLOWED_METHODS, markdown

ROOT = Path(__file__).resolve().parents[2]
ISSUE_LIST = """server.connection.identify server.info server.temperature_store server.gcode_store
server.webcams.list server.webcams.get_item server.files.roots server.files.list server.files.get_directory
server.files.metadata server.files.thumbnails server.history.list server.history.get_job server.history.totals
server.database.list server.database.get_item server.announcements.list printer.info printer.objects.list
printer.objects.query printer.objects.subscribe printer.gcode.help machine.system_info machine.proc_stats
machine.device_power.devices""".split()


def test_the_allowlist_is_the_issues_list():
    assert isinstance(ALLOWED_METHODS, frozenset)
    assert ALLOWED_METHODS == set(ISSUE_LIST) and len(ISSUE_LIST) == 25


def test_markdown_lists_each_method_once_sorted():
    assert markdown().splitlines() == [f"- `{method}`" for method in sorted(ISSUE_LIST)]


def test_the_module_prints_the_markdown():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "services" / "http")}
    output = subprocess.run([sys.executable, "-m", "moonraker_gate.allowlist"], env=env, capture_output=True,
                            text=True, timeout=30, check=True).stdout
    assert output == markdown()


def test_the_readme_prints_the_allowlist():
    readme = (ROOT / "README.md").read_text()
    indented = "".join(f"  {line}\n" for line in markdown().splitlines())
    assert indented in readme
