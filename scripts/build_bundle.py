"""Build the ``--py-files`` bundle: a zip of the ``refinery`` package for spark-submit.

python scripts/build_bundle.py dist/refinery.zip
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "libs" / "refinery"


def build_bundle(target: Path) -> int:
    """Zip every ``.py`` file of the package (paths relative to ``libs/``); return the count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in files:
            bundle.write(path, path.relative_to(PACKAGE.parent).as_posix())
    return len(files)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist" / "refinery.zip")
    print(f"{out}: {build_bundle(out)} modules")
