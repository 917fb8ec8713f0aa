"""What a client may read through the gate: JSON-RPC methods on /websocket, and HTTP GET paths.

Any other method, including one Moonraker adds in future, is answered by the gate and never
reaches Moonraker; so is any other path. nginx refuses the same paths first (nginx.conf.template);
tests/unit/test_gate_targets.py holds the two lists equal. `python3 -m moonraker_gate.allowlist`
prints the methods as Markdown for the README.
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

# HTTP GET and HEAD of these paths exactly, and of files under GCODES (G-code thumbnails).
ALLOWED_PATHS = frozenset({
    "/server/info", "/printer/info", "/printer/objects/list", "/printer/objects/query",
    "/server/webcams/list", "/server/webcams/get_item",
    "/server/files/roots", "/server/files/list", "/server/files/directory", "/server/files/metadata",
    "/server/files/thumbnails",
    "/server/history/list", "/server/history/job", "/server/history/totals",
    "/server/temperature_store", "/server/gcode_store",
    "/machine/system_info", "/machine/proc_stats",
    "/access/info", "/access/oneshot_token",
})
GCODES = "/server/files/gcodes/"
# GETs that would hand out secrets, configuration or logs, or run JSON-RPC over HTTP: refused with
# 403 (rather than 404) so that a user sees the door chose to refuse them.
DENIED_PATHS = frozenset({"/access/api_key", "/server/config", "/server/jsonrpc", "/klippysocket",
                          "/server/files/klippy.log", "/server/files/moonraker.log"})
DENIED_PREFIXES = ("/server/files/config", "/server/files/logs", "/debug", "/api")


def markdown() -> str:
    """The allowlist as a sorted Markdown bullet list."""
    return "\n".join(f"- `{method}`" for method in sorted(ALLOWED_METHODS)) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
