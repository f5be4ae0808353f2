"""Write layers/core/requirements.txt from pyproject's runtime dependencies (`make requirements`).

SAM builds the layer with pip from that file; tests/unit/test_packaging.py proves the two agree.
"""

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "layers" / "core" / "requirements.txt"
HEADER = "# Generated from pyproject.toml by `make requirements`; do not edit.\n"


def expected() -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return HEADER + "".join(f"{d}\n" for d in sorted(dependencies, key=str.lower))


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(0 if TARGET.read_text() == expected() else "layers/core/requirements.txt is stale")
    TARGET.write_text(expected())
