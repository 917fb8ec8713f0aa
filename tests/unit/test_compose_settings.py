"""compose.yaml, .env.example and the README tell the same story about every setting."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def compose_defaults():
    text = (ROOT / "compose.yaml").read_text()
    return dict(re.findall(r"\$\{(\w+):-([^}]*)\}", text))


def env_example():
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def test_every_compose_variable_is_in_env_example_with_the_same_default():
    assert env_example() == compose_defaults()


def test_every_variable_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in compose_defaults() if f"`{name}`" not in readme]
    assert missing == []


def test_only_nginx_publishes_a_port():
    text = (ROOT / "compose.yaml").read_text()
    services = re.split(r"\n  (?=[a-z-]+:\n)", text.split("\nservices:\n", 1)[1].split("\nnetworks:\n")[0])
    with_ports = [block.split(":", 1)[0].strip() for block in services if "\n    ports:" in block]
    assert with_ports == ["nginx"]
