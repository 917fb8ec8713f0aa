"""The uploader's settings, read and checked once at start-up.

The cameras and their Prusa Connect settings come from `appliance.cameras` (camera 1 is
`PRUSA_CONNECT_TOKEN`, `UPLOAD_INTERVAL`, ...; camera N is `CAMERA<N>_PRUSA_CONNECT_TOKEN`, ...);
everything else the uploader reads is here.
"""

from typing import Mapping, NamedTuple, Tuple

from appliance import cameras
from appliance.cameras import MIN_UPLOAD_INTERVAL, Camera
from appliance.envparse import ConfigError, Env, repr_without

UPLOAD_WHEN = ("always", "printing")
STATE_SOURCES = ("moonraker", "prusalink")


class Config(NamedTuple):
    cameras: Tuple[Camera, ...]  # every enabled camera, with its upload settings; camera 1 first
    frame_server_url: str  # the frame server's own port on the camera network, without a path
    connect_url: str
    state_dir: str
    health_file: str
    state_port: int  # GET /state, on the camera network
    upload_when: str  # "always" or "printing"
    idle_interval: float  # seconds between uploads while not printing (UPLOAD_WHEN=printing); 0: none
    state_source: str  # "moonraker" or "prusalink"
    gate_address: str  # where Moonraker is read: "unix:/run/gate/gate.sock", or http://host:port in tests
    prusalink_url: str  # empty unless PRINTER_STATE_SOURCE=prusalink
    prusalink_user: str
    prusalink_password: str  # never in the repr, nor the API key
    prusalink_api_key: str
    warnings: Tuple[str, ...] = ()

    def __repr__(self) -> str:
        return repr_without(self, ("prusalink_password", "prusalink_api_key"))

    @property
    def follows_printer(self) -> bool:
        return self.upload_when == "printing"

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
        values = [camera.upload.token for camera in self.uploading] + [self.prusalink_password, self.prusalink_api_key]
        return tuple(value for value in values if value)


def load(environ: Mapping[str, str]) -> Config:
    env = Env(environ)
    slots = cameras.load(environ, upload=True)
    frame_server = env.http_url("FRAME_SERVER_URL", "http://http:8081")
    warnings = list(slots.warnings)
    upload_when = env.choice("UPLOAD_WHEN", "always", UPLOAD_WHEN)
    idle_interval = env.float("UPLOAD_IDLE_INTERVAL", 0.0, minimum=0, maximum=86400)
    if 0 < idle_interval < MIN_UPLOAD_INTERVAL:
        warnings.append(f"UPLOAD_IDLE_INTERVAL={idle_interval:g} is under Prusa Connect's limit of one image "
                        f"per {MIN_UPLOAD_INTERVAL:g} s: using {MIN_UPLOAD_INTERVAL:g}")
        idle_interval = MIN_UPLOAD_INTERVAL
    source = env.choice("PRINTER_STATE_SOURCE", "moonraker", STATE_SOURCES)
    prusalink = _prusalink(env, needed=upload_when == "printing" and source == "prusalink")
    if upload_when == "always":
        unused = [name for name, used in (("UPLOAD_IDLE_INTERVAL", idle_interval != 0),
                                          ("PRINTER_STATE_SOURCE", source != "moonraker"),
                                          ("PRUSALINK_URL", bool(prusalink[0]))) if used]
        if unused:
            warnings.append(f"{', '.join(unused)} {'is' if len(unused) == 1 else 'are'} set but UPLOAD_WHEN=always: "
                            "not used (set UPLOAD_WHEN=printing to upload only while the printer prints)")
    return Config(
        cameras=tuple(slots),
        frame_server_url=f"{frame_server.scheme}://{frame_server.netloc}",
        connect_url=env.http_url("PRUSA_CONNECT_URL", "https://connect.prusa3d.com", path=True).url.rstrip("/"),
        state_dir=env.str("STATE_DIR", "/var/lib/uploader", pattern=r"/\S*", form="an absolute path"),
        health_file=env.str("HEALTH_FILE", "/tmp/uploader-health", pattern=r"/\S*[^/]", form="an absolute file path"),
        state_port=env.port("STATE_PORT", 8083),
        upload_when=upload_when,
        idle_interval=idle_interval,
        state_source=source,
        gate_address=_gate_address(env),
        prusalink_url=prusalink[0],
        prusalink_user=prusalink[1],
        prusalink_password=prusalink[2],
        prusalink_api_key=prusalink[3],
        warnings=tuple(warnings),
    )


def _gate_address(env: Env) -> str:
    value = env.str("GATE_ADDRESS", "unix:/run/gate/gate.sock")
    if value.startswith("unix:"):
        return env.str("GATE_ADDRESS", value, pattern=r"unix:/\S+", form="unix:/path/of/the/socket or http://host:port")
    return env.http_url("GATE_ADDRESS", value).url


def _prusalink(env: Env, needed: bool) -> Tuple[str, str, str, str]:
    """(url, user, password, api key); checked whenever set, required when PrusaLink is the source."""
    url = env.http_url("PRUSALINK_URL", "").url if env.str("PRUSALINK_URL", "") else ""
    user = env.str("PRUSALINK_USER", "maker", pattern=r"[!-~]{1,64}", form="1 to 64 printable characters, no spaces")
    password, api_key = env.secret("PRUSALINK_PASSWORD"), env.secret("PRUSALINK_API_KEY")
    if password and api_key:
        raise ConfigError("PRUSALINK_PASSWORD and PRUSALINK_API_KEY are both set: set only one (the password, "
                          "with PRUSALINK_USER, for HTTP digest; the API key for older firmware)")
    if needed and not url:
        raise ConfigError("PRUSALINK_URL is empty but PRINTER_STATE_SOURCE=prusalink needs it: expected the "
                          "printer's address, http://host[:port] (e.g. http://192.168.1.50)")
    if needed and not (password or api_key):
        raise ConfigError("PRUSALINK_PASSWORD is empty but PRINTER_STATE_SOURCE=prusalink needs it: set "
                          "PRUSALINK_USER and PRUSALINK_PASSWORD as the printer shows them for PrusaLink "
                          "(Settings > Network), or PRUSALINK_API_KEY on older firmware")
    return url.rstrip("/"), user, password, api_key
