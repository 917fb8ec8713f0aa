"""appliance.log: one line per event on stdout, `<service> <LEVEL> <message>`, and prefixed loggers."""

import logging

from appliance import log as applog


def test_lines_name_the_service_and_a_prefixed_logger_starts_each_line_with_its_prefix(capsys):
    log = applog.setup("frameserver")
    try:
        log.info("serving")
        camera = applog.Prefixed(log, "camera 2: ")
        camera.warning("feed unavailable at %s:%d", "feed", 9001)
        camera.info("%d%% of frames", 100)
        named = applog.Prefixed(log, "100% cam: ")
        named.info("plain")
        named.info("with %s", "args")
    finally:
        logging.getLogger().handlers[:] = []
    assert capsys.readouterr().out.splitlines() == [
        "frameserver INFO serving",
        "frameserver WARNING camera 2: feed unavailable at feed:9001",
        "frameserver INFO camera 2: 100% of frames",
        "frameserver INFO 100% cam: plain",
        "frameserver INFO 100% cam: with args",
    ]
