"""A service run for real by a test: `python -m <package>` as the image runs it, its output collected line by line.

Also the port helpers the integration tests share: a free loopback port, and a retry for a server still starting.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WAIT = 30.0  # seconds: generous, the machine is shared


def free_port():
    """A loopback port nothing listens on (the OS picked it, then it was let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(services, environ=os.environ, **settings):
    """`environ` with PYTHONPATH set to services/<name> for each name in `services`, plus `settings` as strings."""
    env = dict(environ)
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / "services" / name) for name in services)
    env.update({name: str(value) for name, value in settings.items()})
    return env


def wait_answering(probe, within=WAIT, exited=lambda: None):
    """probe()'s result once it stops raising OSError, as a starting server does.

    Fails when `within` seconds pass, or at once when `exited()` returns why the server is gone.
    """
    deadline = time.monotonic() + within
    while True:
        try:
            return probe()
        except OSError:
            gone = exited()
            assert gone is None, gone
            assert time.monotonic() < deadline, f"no answer within {within} s"
            time.sleep(0.05)


def connect_when_listening(port, within=WAIT, exited=lambda: None, timeout=5.0):
    """A connection to 127.0.0.1:`port` (socket timeout `timeout`), retried until something listens there."""
    return wait_answering(lambda: socket.create_connection(("127.0.0.1", port), timeout=timeout), within, exited)


class ServiceProcess:
    """`python -m <module>` in a subprocess; a thread collects every line it writes (stdout and stderr).

    `wait` is the default limit, in seconds, of every wait on it.
    """

    def __init__(self, module, env, wait=WAIT):
        self.module = module
        self.wait = wait
        self.lines = []
        self.ended = False
        self._next = 0  # where next_line() looks from
        self._changed = threading.Condition()
        self.proc = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def log(self):
        """Every line so far, as one text."""
        with self._changed:
            return "\n".join(self.lines)

    def wait_log(self, predicate, timeout=None):
        """Block until predicate(log text) holds; the log text."""
        with self._changed:
            assert self._changed.wait_for(lambda: predicate("\n".join(self.lines)), timeout or self.wait), self.log()
            return "\n".join(self.lines)

    def _find(self, text, start):
        return next((n for n in range(start, len(self.lines)) if text in self.lines[n]), None)

    def wait_line(self, text, timeout=None, start=0):
        """The first line (from line `start` on) containing `text`, waiting for it; fails if the output ends first."""
        with self._changed:
            self._changed.wait_for(lambda: self._find(text, start) is not None or self.ended, timeout or self.wait)
            found = self._find(text, start)
            assert found is not None, f"no line with {text!r} in:\n" + "\n".join(self.lines)
            self._next = found + 1
            return self.lines[found]

    def next_line(self, text, timeout=None):
        """The first line containing `text` after the line the last wait returned."""
        return self.wait_line(text, timeout, start=self._next)

    def exited(self):
        """None while it runs; once it has exited, a line saying so, with its output."""
        if self.proc.poll() is None:
            return None
        return f"python -m {self.module} exited with status {self.proc.returncode}:\n{self.log()}"

    def wait_answering(self, probe, within=None):
        """probe()'s result once it stops raising OSError; fails at once if the process exits."""
        return wait_answering(probe, within or self.wait, self.exited)

    def exit_status(self, timeout=None):
        """Its exit status, once it has exited and its output has ended."""
        status = self.proc.wait(timeout or self.wait)
        with self._changed:
            assert self._changed.wait_for(lambda: self.ended, timeout or self.wait), "the output did not end"
        return status

    def stop(self, signum=signal.SIGTERM, timeout=None):
        """Signal it (if it still runs) and wait for it to end; (exit status, seconds until it had)."""
        sent = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            status = self.exit_status(timeout)
        finally:
            self.kill()
        return status, time.monotonic() - sent

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(self.wait)
