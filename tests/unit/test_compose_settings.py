"""Every user setting has one default, in the service that reads it, and every document agrees.

compose.yaml passes each user setting as `VAR: "${VAR:-}"`, so an unset variable reaches the
service empty and the service's own default applies (an empty value counts as unset);
`.env.example` and the README's table show that default. The defaults are read from the services
themselves: each config module is loaded from an empty environment, and from one holding the
documented default, and the two must be equal. Only the settings compose itself reads (log
rotation, the published address and port) keep their default in compose.yaml.
"""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# compose service -> the config modules of the processes its container runs
SERVICES = {
    "feed": ("feedrunner.config", "synthcam.config", "usbcam.config"),
    "http": ("frameserver.config",),
    "uploader": ("uploader.config",),
    "nginx": ("nginxconf",),
    "moonraker-gate": ("moonraker_gate.config",),
}
# Read by a service but never from compose: the feed runner sets them for the camera processes it starts.
SET_BY_THE_SERVICE = {"feed": {"FEED_CAMERA", "FEED_BIND", "FEED_PORT", "SYNTHETIC_KEEP_SERVING"}}
# The environment a config module needs beyond compose's to load at all: the USB camera process
# runs only for a camera whose source is usb.
NEEDS = {"usbcam.config": {"FEED_SOURCE": "usb", "CAMERA_DEVICE": "/dev/video0"}}
ANOTHER_CAMERA = re.compile(r"CAMERA([2-9])_")
ALL_CAMERAS_ON = {f"CAMERA{n}_SOURCE": "synthetic" for n in (2, 3, 4)}


class AskedEnviron(dict):
    """A real environment that remembers every variable the code under test asked for."""

    def __init__(self, *args):
        super().__init__(*args)
        self.asked = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def configs(service, without=None):
    """(load, what it NEEDS) of each of the service's config modules; none that NEEDS `without`."""
    return [(importlib.import_module(name).load, NEEDS.get(name, {})) for name in SERVICES[service]
            if without not in NEEDS.get(name, {})]


def variables_read(service):
    """Every variable the service's config modules read, with cameras 2-4 off and on."""
    asked = set()
    for load, needs in configs(service):
        for extra in ({}, ALL_CAMERAS_ON):
            environ = AskedEnviron({**needs, **extra})
            load(environ)
            asked |= environ.asked
    return asked


def compose_text():
    return (ROOT / "compose.yaml").read_text()


def compose_environments():
    """compose service -> its `environment:` mapping, with `<<: *anchor` merges resolved.

    compose.yaml keeps to one shape: anchored `x-…` mappings of `KEY: "value"` lines at the top,
    and services whose environment is a mapping; this reads exactly that shape.
    """
    anchors, environments = {}, {}
    target, service, in_services = None, None, False
    for line in compose_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(":")
        value = value.strip()
        if indent == 0:
            target = None
            anchor = re.fullmatch(r"&([\w-]+)", value)
            if key.startswith("x-") and anchor:
                target = anchors.setdefault(anchor.group(1), {})
            in_services = key == "services"
        elif in_services and indent == 2:
            service, target = key, None
        elif in_services and indent == 4:
            target = environments.setdefault(service, {}) if key == "environment" else None
        elif target is not None and indent in (2, 6):
            if key == "<<":
                target.update(anchors[value.lstrip("*")])
            else:
                target[key] = value[1:-1] if value[:1] == value[-1:] == '"' else value
    return environments


def compose_own_defaults():
    """The settings compose itself reads (outside any environment), with their defaults."""
    text = "\n".join(line for line in compose_text().splitlines() if not line.lstrip().startswith("#"))
    passed = {value for environment in compose_environments().values() for value in environment.values()}
    return {name: default for name, default in re.findall(r"\$\{(\w+):-([^}]*)\}", text)
            if not any(f"${{{name}:-" in value for value in passed)}


def env_example():
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert key not in pairs, f".env.example sets {key} twice"
            pairs[key] = value
    return pairs


def readme_defaults():
    """Each variable of the README's settings table with the default it documents ("empty": "")."""
    text = (ROOT / "README.md").read_text()
    table = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    defaults = {}
    for row in re.findall(r"^\| (`[A-Z].*?) \| (.*?) \|", table, re.M):
        names = re.findall(r"`(\w+)`", row[0])
        values = [value.strip().strip("`") for value in row[1].split(", ")] if len(names) > 1 else [row[1]]
        if len(values) != len(names):
            values = values * len(names)
        for name, value in zip(names, values):
            value = value.strip("`")
            number = ANOTHER_CAMERA.match(name)
            defaults[name] = "" if value == "empty" else value.replace(" N", f" {number.group(1)}") if number else value
    return defaults


def user_settings():
    """variable -> the compose services it is passed to as ${VAR:-}, from compose.yaml."""
    settings = {}
    for service, environment in compose_environments().items():
        for name, value in environment.items():
            if value == f"${{{name}:-}}":
                settings.setdefault(name, set()).add(service)
    return settings


def test_compose_passes_every_setting_empty_or_fixed_and_only_to_services_that_read_it():
    for service, environment in compose_environments().items():
        read = variables_read(service)
        for name, value in environment.items():
            if "$" in value:
                assert value == f"${{{name}:-}}", (
                    f"compose.yaml gives {service} {name}: {value!r}; pass user settings as \"${{{name}:-}}\" "
                    "so that the default lives only in the service's config")
            assert name in read, f"compose.yaml passes {name} to {service}, whose config never reads it"
        unset = read - set(environment) - SET_BY_THE_SERVICE.get(service, set())
        assert not unset, f"{service} reads {sorted(unset)}, which compose.yaml does not pass it"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_an_empty_value_counts_as_unset(service):
    """What compose passes for a setting left out of .env."""
    for load, needs in configs(service):
        for environ in ({**needs}, {**needs, **ALL_CAMERAS_ON}):
            empty = {name: "" for name in variables_read(service) if name not in environ}
            assert load({**environ, **empty}) == load(environ)


def test_every_setting_is_in_env_example_and_the_readme():
    settings = set(user_settings()) | set(compose_own_defaults())
    assert sorted(set(env_example()) - settings) == [], ".env.example sets variables compose.yaml never passes"
    assert sorted(settings - set(env_example())) == [], "missing from .env.example"
    assert sorted(set(readme_defaults()) - settings) == [], "the README documents variables compose never passes"
    assert sorted(settings - set(readme_defaults())) == [], "missing from the README's settings table"


def test_compose_own_settings_have_one_default_documented_alike():
    own = compose_own_defaults()
    assert set(own) == {"LOG_MAX_SIZE", "LOG_MAX_FILES", "BIND_ADDRESS", "HTTP_PORT"}
    for name, default in own.items():
        assert (env_example()[name], readme_defaults()[name]) == (default, default), name


@pytest.mark.parametrize("name", sorted(user_settings()))
def test_the_documented_default_is_the_services_own(name):
    documented = readme_defaults()[name]
    camera = ANOTHER_CAMERA.match(name)
    # A camera that is off takes no settings, so .env.example leaves cameras 2-4 empty.
    assert env_example()[name] == ("" if camera else documented), f".env.example and the README disagree on {name}"
    # The documented default, given explicitly, must load the very config that no value loads.
    base = {f"CAMERA{camera.group(1)}_SOURCE": "synthetic"} if camera and not name.endswith("_SOURCE") else {}
    for service in user_settings()[name]:
        for load, needs in configs(service, without=name):
            assert load({**needs, **base, name: documented}) == load({**needs, **base}), (
                f"{service}: {name} documented as {documented!r}, but its default in the code differs")


def test_every_config_module_is_checked():
    modules = {f"{path.parent.name}.config" for path in (ROOT / "services").glob("*/*/config.py")}
    assert modules == {name for names in SERVICES.values() for name in names if name.endswith(".config")}


def test_only_nginx_publishes_a_port():
    text = compose_text()
    services = re.split(r"\n  (?=[a-z-]+:\n)", text.split("\nservices:\n", 1)[1].split("\nnetworks:\n")[0])
    with_ports = [block.split(":", 1)[0].strip() for block in services if "\n    ports:" in block]
    assert with_ports == ["nginx"]
