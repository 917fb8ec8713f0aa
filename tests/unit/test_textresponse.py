"""The one-line text/plain and JSON WSGI responses the services answer with."""

import json

from appliance import textresponse


class StartResponse:
    def __call__(self, status, headers):
        self.status = status
        self.headers = dict(headers)


def call(function, method="GET", *args):
    start = StartResponse()
    chunks = function({"REQUEST_METHOD": method}, start, *args)
    return start, b"".join(chunks)


def test_a_line_of_text_with_its_length_and_no_caching():
    start, body = call(textresponse.text, "GET", "404 Not Found", "camera 3 is not enabled", ("X-Extra", "1"))
    assert start.status == "404 Not Found"
    assert body == b"camera 3 is not enabled\n"
    assert start.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert start.headers["Content-Length"] == str(len(body))
    assert "no-store" in start.headers["Cache-Control"]
    assert start.headers["X-Extra"] == "1"


def test_head_gets_the_headers_without_the_body():
    start, body = call(textresponse.text, "HEAD", "404 Not Found", "no")
    assert body == b""
    assert start.headers["Content-Length"] == "3"


def test_json_document():
    start, body = call(textresponse.json_document, "GET", "200 OK", {"camera": 1, "ok": None})
    assert json.loads(body) == {"camera": 1, "ok": None}
    assert start.headers["Content-Type"] == "application/json; charset=utf-8"
    assert start.headers["Content-Length"] == str(len(body))


def test_method_not_allowed_names_the_methods_and_sets_allow():
    start, body = call(textresponse.method_not_allowed, "POST")
    assert start.status.startswith("405 ")
    assert body == b"POST is not allowed here: use GET or HEAD\n"
    assert start.headers["Allow"] == "GET, HEAD"
    start, body = call(textresponse.method_not_allowed, "PUT", ("GET",))
    assert body == b"PUT is not allowed here: use GET\n" and start.headers["Allow"] == "GET"


def test_unavailable_says_when_to_retry():
    start, body = call(textresponse.unavailable, "GET", "too many stream clients (at most 20)", 5)
    assert start.status.startswith("503 ")
    assert start.headers["Retry-After"] == "5"
    assert body == b"too many stream clients (at most 20)\n"
