"""Output locations: paths made absolute, the rules file found, write probes run before Spark."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from refinery.config.errors import ConfigError

if TYPE_CHECKING:
    from refinery.config.settings import Settings

CATALOG_PREFIX = "catalog:"


def check_writable(settings: Settings, keys: Iterable[str]) -> None:
    """Raise :class:`ConfigError` naming every key of ``keys`` (``tables.bronze``,
    ``report.dir`` …) whose local location cannot be written: a file where a folder must be
    (the location itself, or a parent), or a folder in which no sub-folder can be created
    (read-only, no permission, a pseudo file system). Checked before Spark starts, so a run
    that could not write its tables stops with exit code 2 and writes nothing.

    What is checked: table locations in local mode, and ``file:`` URIs in any mode (a plain
    path on a cluster is resolved by the cluster's default file system, HDFS for instance,
    which the driver cannot see); ``report.dir``, ``select.export_dir`` and ``score.work_dir``
    always, since the driver writes them itself. Catalog tables and other URI schemes are
    left to Spark. Nothing is created: the check makes and removes one empty probe folder in
    the nearest existing folder."""
    problems = []
    for key in keys:
        section, name = key.split(".", 1)
        location = getattr(getattr(settings, section), name)
        path = _local_path(location, is_table=section == "tables", local_mode=settings.spark.mode == "local")
        if path is None:
            continue
        problem = _write_problem(path)
        if problem is not None:
            problems.append(
                f"config key '{key}': {location} cannot be written: {problem}; fix: point {key} at a folder "
                "this user can create and write (a path under a writable folder, not under a file)"
            )
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def _local_path(location: str | None, is_table: bool, local_mode: bool) -> Path | None:
    if location is None or location.startswith(CATALOG_PREFIX):
        return None
    if location.startswith("file:"):
        rest = location[len("file:") :]
        return Path("/" + rest.lstrip("/")) if rest.startswith("//") or rest.startswith("/") else Path(rest).resolve()
    if "://" in location or (is_table and not local_mode):
        return None
    return Path(location)


def _write_problem(path: Path) -> str | None:
    """Why no folder can be created (or written) at ``path``, or ``None`` when it can."""
    existing = path
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        if existing == path:
            return f"{path} is a file, not a folder"
        return f"{existing} is a file, not a folder, so nothing can be created under it"
    probe = existing / f".refinery-write-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError as exc:
        return f"cannot create folders in {existing} ({exc.strerror or exc})"
    probe.rmdir()
    return None


def rules_file(path: str) -> Path:
    """The rules file that ``clean.rules`` names: an absolute path as it is; a relative one
    from the working directory, else from ``REFINERY_HOME`` (the project root), so
    ``conf/rules.yaml`` is found wherever the job is started from. Raises
    :class:`FileNotFoundError` whose message names the paths tried and the fix."""
    given = Path(os.path.expanduser(path))
    if given.is_absolute():
        candidates = [given]
    else:
        candidates = [Path.cwd() / given]
        home = os.environ.get("REFINERY_HOME")
        if home:
            candidates.append(Path(home) / given)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    tried = " or ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"no rules file at {tried}; fix: give an existing YAML file (absolute, or relative to the working "
        "directory or REFINERY_HOME), or null for no rules"
    )


def resolve_path(path: str, root: str | os.PathLike[str] | None = None) -> str:
    """``path`` made absolute against ``root`` (default: the working directory), unless it
    carries a URI scheme (``s3a://``, ``hdfs://``, ``file:``) or names a catalog table."""
    if path.startswith(CATALOG_PREFIX) or "://" in path or path.startswith("file:"):
        return path
    base = Path(root) if root is not None else Path.cwd()
    return str((base / os.path.expanduser(path)).resolve())
