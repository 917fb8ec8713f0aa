"""What the stand-ins built on http.server share: the address, serving on a background thread, stopping."""

import threading


class ServedInBackground:
    """A stand-in around an http.server in `self._server`, used as `with Standin(...) as s: ... s.url`."""

    thread_name = "standin"

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        """Serve on a background thread."""
        threading.Thread(target=self._server.serve_forever, name=self.thread_name, daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
