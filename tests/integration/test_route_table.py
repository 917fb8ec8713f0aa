"""The frame server's route table (frameserver.routes.ROUTES) is the one list of its paths: the real
nginx, rendered from its template, lets every route through to a route of the same camera and kind,
and the README's endpoint table names every one of them."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from frameserver.routes import ROUTES, find
from integration.test_nginx_gate import Upstream, start_nginx

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def door(tmp_path_factory):
    with Upstream() as upstream:
        proc, url = start_nginx(tmp_path_factory.mktemp("nginx"), upstream.server_address[1], {})
        try:
            yield url, upstream
        finally:
            proc.terminate()
            proc.wait(5)


def target(route):
    return route.path + (f"?action={route.action}" if route.action else "")


@pytest.mark.parametrize("route", ROUTES, ids=target)
def test_nginx_passes_every_route_to_the_same_camera_and_kind(door, route):
    url, upstream = door
    upstream.seen.clear()
    with requests.get(url + target(route), timeout=5, stream=True) as response:
        assert response.status_code == 200, response.text
    assert len(upstream.seen) == 1
    reached = urlsplit(upstream.seen[0][1])
    served = find(reached.path, reached.query)
    assert served is not None, f"nginx sent {target(route)} to {upstream.seen[0][1]}, which no route serves"
    assert (served.camera, served.kind) == (route.camera, route.kind)


def endpoints_section():
    text = README.read_text()
    return text[text.index("## Endpoints on port 7126"):text.index("\n## ", text.index("## Endpoints on port 7126") + 1)]


@pytest.mark.parametrize("route", ROUTES, ids=target)
def test_the_readme_names_every_route(route):
    # Camera N's paths may be written once for all four cameras as /webcamN/...
    written = {target(route), re.sub(r"^/webcam\d/", "/webcamN/", target(route))}
    assert any(re.search(r"[` ]" + re.escape(path) + "`", endpoints_section()) for path in written), target(route)
