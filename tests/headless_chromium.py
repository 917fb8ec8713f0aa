"""A real headless Chromium (Debian's `chromium` package) driven over the DevTools protocol.

The protocol is JSON over one websocket, spoken here with websocket-client (already pinned): a
page is navigated, JavaScript evaluated in it, a screenshot taken, every request it makes recorded.
No WebDriver, no browser download.

    with Chromium() as browser:
        browser.open("http://127.0.0.1:7126/")
        browser.wait_for("document.images.length > 0", 10, "an image")
        browser.screenshot(path)
"""

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

import websocket

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--remote-debugging-port=0")


def chromium_binary() -> Optional[str]:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    def __init__(self, width: int = 1280, height: int = 900, timeout: float = 30.0):
        self._dir = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        self._log = open(self._dir / "chromium.log", "wb")
        self._ids = itertools.count(1)
        self.timeout = timeout
        self.requests = []  # every URL the page asked for, in order
        self.console = []  # every console message and uncaught exception, as text
        binary = chromium_binary()
        assert binary, "chromium is not installed (tests/prepare-host installs it)"
        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self._dir}",
                                      f"--window-size={width},{height}", "about:blank"],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._ws = websocket.create_connection(self._page_url(), timeout=timeout, suppress_origin=True)
            for domain in ("Page", "Runtime", "Network"):
                self.call(f"{domain}.enable")
            self.resize(width, height)
        except BaseException:
            self.close()
            raise

    def _page_url(self) -> str:
        """The page target's websocket, once Chromium has written its DevTools port."""
        active = self._dir / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited with {self.proc.returncode}:\n{self.log()}")
            lines = active.read_text().split() if active.exists() else []
            if len(lines) >= 2:
                break
            assert time.monotonic() < deadline, f"chromium wrote no DevTools port:\n{self.log()}"
            time.sleep(0.1)
        conn = websocket.create_connection(f"ws://127.0.0.1:{lines[0]}{lines[1]}", timeout=self.timeout,
                                           suppress_origin=True)
        try:
            conn.send(json.dumps({"id": 0, "method": "Target.getTargets"}))
            while True:
                message = json.loads(conn.recv())
                if message.get("id") == 0:
                    break
        finally:
            conn.close()
        (page,) = [t for t in message["result"]["targetInfos"] if t["type"] == "page"]
        return f"ws://127.0.0.1:{lines[0]}/devtools/page/{page['targetId']}"

    def call(self, method: str, **params):
        """One DevTools command; its result. Events that arrive meanwhile are recorded."""
        number = next(self._ids)
        self._ws.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]
            self._event(message)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled":
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            self.console.append(params["exceptionDetails"].get("exception", {}).get("description", "exception"))

    def resize(self, width: int, height: int, mobile: bool = False) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=mobile)

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression in the page (awaited if it is a promise)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float, what: str, interval: float = 0.25):
        """The expression's value once it is truthy; fails after `timeout` s with its last value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except AssertionError as error:  # e.g. the page is still being replaced by a navigation
                value = error
            else:
                if value:
                    return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last: {value!r}")
            time.sleep(interval)

    def screenshot(self, path: Path) -> Path:
        """The whole page, not only the viewport, and no empty space below it, as a PNG."""
        width = self.call("Page.getLayoutMetrics")["cssContentSize"]["width"]
        height = self.evaluate("Math.ceil(document.body.getBoundingClientRect().bottom + scrollY)")
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def log(self) -> str:
        self._log.flush()
        return (self._dir / "chromium.log").read_text(errors="replace")[-4000:]

    def close(self) -> None:
        if getattr(self, "_ws", None) is not None:
            self._ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
