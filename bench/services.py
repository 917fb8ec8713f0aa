"""The programs under test, each started on loopback ports of its own: feed, frame server, nginx, uploader."""

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Tuple
from contextlib import ExitStack

from . import frames
from .procstat import tree
from .processes import Process, free_port, python, python_env, wait_listening

STREAM_LIMIT = 250  # STREAM_MAX_CLIENTS for the bench: above the largest fan-out
STATIC_CONF = """worker_processes 1;
pid {dir}/static-nginx.pid;
error_log stderr warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    types {{ image/jpeg jpg; }}
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 30s;
    client_body_temp_path {dir}/static-client;
    proxy_temp_path {dir}/static-proxy;
    fastcgi_temp_path {dir}/static-fastcgi;
    uwsgi_temp_path {dir}/static-uwsgi;
    scgi_temp_path {dir}/static-scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location = /snapshot.jpg {{
            add_header Cache-Control "no-store, no-cache, must-revalidate, max-age=0";
        }}
    }}
}}
"""


class Feed:
    """The bench feed (bench.feed) at one size and rate; `log` lists every frame it sent."""

    def __init__(self, workdir: Path, size: Tuple[int, int], fps: float, cache: Path, name: str = "feed",
                 port: Optional[int] = None):
        size = tuple(size)
        self.port = port or free_port()
        self.size = size
        self.fps = fps
        self.log = workdir / f"{name}-{size[0]}x{size[1]}-{self.port}-sent.log"
        self.process = Process(name, python("-m", "bench.feed", "--port", str(self.port), "--size", "%dx%d" % size,
                                            "--fps", str(fps), "--log", str(self.log), "--cache", str(cache)),
                               workdir / f"{name}-{size[0]}x{size[1]}-{self.port}.out", python_env())
        self.process.wait_for("listening", 300)  # the first run makes the pictures
        self.pictures = frames.pictures(*size, cache)
        self.frame_bytes = sum(len(p) for p in self.pictures) / len(self.pictures)

    def sent_between(self, start_ns: int, end_ns: int) -> dict:
        """{number: send time in ns} of the frames sent in [start_ns, end_ns), and of the one after the last."""
        sent, after = {}, {}
        with open(self.log, "rb") as log:
            for line in log:
                number, when = (int(x) for x in line.split())
                if start_ns <= when < end_ns:
                    sent[number] = when
                elif when >= end_ns and not after:
                    after[number] = when
        return {**sent, **after}

    def stop(self) -> None:
        self.process.stop()


class FrameServer:
    """`python -m frameserver` (gunicorn master and one gevent worker) reading a Feed, on a TCP port and,
    like in the stack, on a unix socket for nginx. The socket lies in a directory of its own that anyone may
    enter: run as root, nginx's workers are `nobody`, and a work directory may be private."""

    def __init__(self, workdir: Path, feed: Feed, **settings):
        self.port = free_port()
        self.socket_dir = Path(tempfile.mkdtemp(prefix="printercam-bench-socket-"))
        self.socket_dir.chmod(0o755)
        self.socket = self.socket_dir / "frameserver.sock"
        env = python_env(FEED_HOST="127.0.0.1", FEED_PORT=feed.port, HTTP_PORT=self.port, HTTP_SOCKET=self.socket,
                         STREAM_MAX_CLIENTS=STREAM_LIMIT, **settings)
        self.process = Process("frameserver", python("-m", "frameserver"), workdir / f"frameserver-{self.port}.out",
                               env)
        self.process.wait_for("feed connected", 60)

    @property
    def pids(self) -> list:
        return tree(self.process.pid)

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.socket_dir, ignore_errors=True)


class BareServer:
    """bench.bareserver reading its own Feed: the Python ceiling for the frame server."""

    def __init__(self, workdir: Path, feed: Feed):
        self.port = free_port()
        self.process = Process("bareserver", python("-m", "bench.bareserver", "--feed-port", str(feed.port),
                                                    "--port", str(self.port)),
                               workdir / f"bareserver-{self.port}.out", python_env())
        self.process.wait_for("serving", 30)

    @property
    def pids(self) -> list:
        return [self.process.pid]

    def stop(self) -> None:
        self.process.stop()


class Nginx:
    """Host nginx running a config written to `workdir`; `pids` are its master and worker; stop() removes `root`."""

    def __init__(self, name: str, conf: Path, port: int, workdir: Path, root: Optional[Path] = None):
        self.port = port
        self.root = root
        checked = subprocess.run(["nginx", "-t", "-q", "-e", "stderr", "-c", str(conf)], capture_output=True, text=True)
        if checked.returncode:
            raise RuntimeError(f"{name}: nginx -t refused {conf}:\n{checked.stderr}")
        self.process = Process(name, ["nginx", "-e", "stderr", "-c", str(conf), "-g", "daemon off;"],
                               workdir / f"{name}.out")
        wait_listening(self.process, port)

    @property
    def pids(self) -> list:
        return tree(self.process.pid)

    def stop(self) -> None:
        self.process.stop()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def project_nginx(workdir: Path, frameserver: FrameServer) -> Nginx:
    """The project's rendered nginx.conf, its upstream the frame server's unix socket as in the stack, its port
    on loopback.

    The bench's clients all come from 127.0.0.1, so STREAM_MAX_PER_CLIENT is raised to let 100
    streams through; everything else is the shipped default.
    """
    import nginxconf

    port = free_port()
    config = nginxconf.load({"STREAM_MAX_PER_CLIENT": "1000"})
    # The template's own paths are replaced before rendering, so that a checkout under /tmp (the
    # status page's directory is rendered in) is never rewritten.
    text = nginxconf.TEMPLATE.read_text()
    replaced = {
        "/tmp/": f"{workdir}/project-",
        "listen 7126 ": f"listen 127.0.0.1:{port} ",
        "127.0.0.1:7127": f"127.0.0.1:{free_port()}",
        "unix:/run/http/frameserver.sock": f"unix:{frameserver.socket}",
        "unix:/run/gate/gate.sock": f"unix:{workdir}/no-gate.sock",
    }
    for old, new in replaced.items():
        if old not in text:
            raise RuntimeError(f"nginx.conf.template changed: {old!r} is gone, bench/services.py needs updating")
        text = text.replace(old, new)
    conf = workdir / "project-nginx.conf"
    conf.write_text(nginxconf.render(config, text))
    return Nginx("project-nginx", conf, port, workdir)


def static_nginx(workdir: Path, jpeg: bytes) -> Nginx:
    """nginx serving `jpeg` as the static file /snapshot.jpg: the ceiling for snapshots.

    The file lies in a directory of its own that anyone may read: run as root, nginx's workers
    are `nobody`, and a work directory may be private.
    """
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="printercam-bench-static-"))
    root.chmod(0o755)
    (root / "snapshot.jpg").write_bytes(jpeg)
    (root / "snapshot.jpg").chmod(0o644)
    conf = workdir / "static-nginx.conf"
    conf.write_text(STATIC_CONF.format(dir=workdir, port=port, root=root))
    return Nginx("static-nginx", conf, port, workdir, root)


class Uploader:
    """`python -m uploader` fetching from the frame server and uploading to the Prusa Connect stand-in."""

    TOKEN = "bench-token-0123456789"

    def __init__(self, workdir: Path, frameserver_port: int):
        connect_port = free_port()
        self.connect = Process("prusa-connect", python("-m", "standins.prusa_connect", "--host", "127.0.0.1",
                                                       "--port", str(connect_port),
                                                       "--token", self.TOKEN),
                               workdir / "prusa-connect.out", python_env())
        wait_listening(self.connect, connect_port)
        (workdir / "uploader-state").mkdir(exist_ok=True)
        env = python_env(FRAME_SERVER_URL=f"http://127.0.0.1:{frameserver_port}",
                         PRUSA_CONNECT_URL=f"http://127.0.0.1:{connect_port}", PRUSA_CONNECT_TOKEN=self.TOKEN,
                         STATE_DIR=workdir / "uploader-state", HEALTH_FILE=workdir / "uploader-health")
        self.process = Process("uploader", python("-m", "uploader"), workdir / "uploader.out", env)
        self.process.wait_for("first snapshot accepted", 60)

    def stop(self) -> None:
        self.process.stop()
        self.connect.stop()


def started_in(stack: ExitStack, program):
    """`program`, to be stopped when `stack` closes (the last started first)."""
    stack.callback(program.stop)
    return program
