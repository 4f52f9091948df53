"""Build the ``--py-files`` bundle: a zip of the ``refinery`` package for spark-submit.

python scripts/build_bundle.py dist/refinery.zip
"""

from __future__ import annotations

import os
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "libs" / "refinery"
#: Package data read with importlib.resources (works from the zip too); as setup.py ships it.
DATA_FILES = ("text/models/*.json",)


def build_bundle(target: Path) -> int:
    """Zip every ``.py`` file of the package and its :data:`DATA_FILES` (paths relative to
    ``libs/``); return the count.

    The zip is written beside ``target`` and moved over it only when its bytes differ, in one
    atomic rename: a spark-submit that is importing from the old bundle (``zipimport`` reopens
    the file for every module) never reads a half-written or shifted one.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
    files += sorted(p for pattern in DATA_FILES for p in PACKAGE.glob(pattern))
    handle, scratch = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in files:
                bundle.write(path, path.relative_to(PACKAGE.parent).as_posix())
        if target.exists() and Path(scratch).read_bytes() == target.read_bytes():
            os.unlink(scratch)
        else:
            os.chmod(scratch, 0o644)
            os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return len(files)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist" / "refinery.zip")
    print(f"{out}: {build_bundle(out)} files")
