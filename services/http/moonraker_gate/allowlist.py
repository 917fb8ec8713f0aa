"""The JSON-RPC methods a client may call through the gate: reads only.

Any other method, including one Moonraker adds in future, is answered by the gate and never
reaches Moonraker. `python3 -m moonraker_gate.allowlist` prints the list as Markdown for the README.
"""

ALLOWED_METHODS = frozenset({
    "server.connection.identify",
    "server.info",
    "server.temperature_store",
    "server.gcode_store",
    "server.webcams.list",
    "server.webcams.get_item",
    "server.files.roots",
    "server.files.list",
    "server.files.get_directory",
    "server.files.metadata",
    "server.files.thumbnails",
    "server.history.list",
    "server.history.get_job",
    "server.history.totals",
    "server.database.list",
    "server.database.get_item",
    "server.announcements.list",
    "printer.info",
    "printer.objects.list",
    "printer.objects.query",
    "printer.objects.subscribe",
    "printer.gcode.help",
    "machine.system_info",
    "machine.proc_stats",
    "machine.device_power.devices",
})


def markdown() -> str:
    """The allowlist as a sorted Markdown bullet list."""
    return "\n".join(f"- `{method}`" for method in sorted(ALLOWED_METHODS)) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
