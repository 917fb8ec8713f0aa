"""Makes every service's code importable in one pytest run, as the images lay it out."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (
    ROOT / "services" / "common",
    ROOT / "services" / "http",
    ROOT / "services" / "uploader",
    ROOT / "services" / "feed",
    ROOT / "nginx",
    ROOT / "tests",
):
    sys.path.insert(0, str(path))
