"""The uploader's settings, read and checked once at start-up.

The cameras and their Prusa Connect settings come from `appliance.cameras` (camera 1 is
`PRUSA_CONNECT_TOKEN`, `UPLOAD_INTERVAL`, ...; camera N is `CAMERA<N>_PRUSA_CONNECT_TOKEN`, ...);
everything else the uploader reads is here.
"""

from dataclasses import dataclass
from typing import Mapping, Tuple

from appliance import cameras
from appliance.cameras import Camera
from appliance.envparse import Env

_HOST = r"https?://[^\s/?#@]+"
_CONNECT_URL = _HOST + r"(/[^\s?#]*)?"
_CONNECT_FORM = "an http:// or https:// address without credentials, query or fragment"


@dataclass(frozen=True)
class Config:
    cameras: Tuple[Camera, ...]  # every enabled camera, with its upload settings; camera 1 first
    frame_server_url: str  # the frame server's own port on the camera network, without a path
    connect_url: str
    state_dir: str
    health_file: str
    warnings: Tuple[str, ...] = ()

    @property
    def uploading(self) -> Tuple[Camera, ...]:
        """The cameras that have a Prusa Connect token."""
        return tuple(camera for camera in self.cameras if camera.upload.token)

    def snapshot_url(self, camera: Camera) -> str:
        """Camera 1 keeps the frame server's first path; camera N is at /webcamN/snapshot.jpg."""
        path = "/snapshot.jpg" if camera.number == 1 else f"/webcam{camera.number}/snapshot.jpg"
        return self.frame_server_url + path

    @property
    def secrets(self) -> Tuple[str, ...]:
        """Every value that must never reach the log."""
        return tuple(camera.upload.token for camera in self.uploading)


def load(environ: Mapping[str, str]) -> Config:
    env = Env(environ)
    slots = cameras.load(environ, upload=True)
    frame_server = env.http_url("FRAME_SERVER_URL", "http://http:8081")
    return Config(
        cameras=tuple(slots),
        frame_server_url=f"{frame_server.scheme}://{frame_server.netloc}",
        connect_url=env.str("PRUSA_CONNECT_URL", "https://connect.prusa3d.com",
                            pattern=_CONNECT_URL, form=_CONNECT_FORM).rstrip("/"),
        state_dir=env.str("STATE_DIR", "/var/lib/uploader", pattern=r"/\S*", form="an absolute path"),
        health_file=env.str("HEALTH_FILE", "/tmp/uploader-health", pattern=r"/\S*[^/]", form="an absolute file path"),
        warnings=slots.warnings,
    )
