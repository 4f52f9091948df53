"""Where the ``ingest`` job reads: each selected source's locations, checked and resolved
(:func:`source_locations`), the Delta sources' increments planned (:func:`plan_increments`), and
the name of an ``auto`` batch (:func:`auto_batch_name`)."""

from __future__ import annotations

import glob
import hashlib
import os

from pyspark.sql import SparkSession

from refinery.config import CATALOG_PREFIX, ConfigError, resolve_path
from refinery.ingest.delta_increments import Increment, plan_increment
from refinery.ingest.settings import IngestSettings
from refinery.sources.splits import InputFile


def source_locations(cfg: IngestSettings) -> dict[str, list[str]]:
    """Absolute locations of each selected source; each local path must match a file (a
    Delta source's local folder must hold a ``_delta_log``; catalog tables and other URIs are
    checked once Spark runs)."""
    if not cfg.sources:
        raise ConfigError("config key 'ingest.sources': no source defined; fix: add one (see conf/local.yaml)")
    root = resolve_path(cfg.input_root)
    locations = {}
    for name, spec in cfg.selected_sources().items():
        paths = [spec.path] if isinstance(spec.path, str) else spec.path
        resolved = [resolve_path(path, root) for path in paths]
        for location in resolved:
            local = "://" not in location and not location.startswith(("file:", CATALOG_PREFIX))
            if spec.format == "delta":
                if local and not os.path.isdir(os.path.join(location, "_delta_log")):
                    raise ConfigError(
                        f"config key 'ingest.sources.{name}.path': no Delta table at {location} (no _delta_log "
                        "folder); fix: point it at a Delta table's folder or catalog:db.table (plain Parquet "
                        "files are format: parquet)"
                    )
            elif local and not glob.glob(location):
                raise ConfigError(
                    f"config key 'ingest.sources.{name}.path': nothing at {location}; fix: point it at an "
                    "existing file, folder or glob (relative paths start at ingest.input_root)"
                )
        locations[name] = resolved
    if not locations:
        raise ConfigError("config key 'ingest.only': selects no source; fix: name at least one enabled source")
    return locations


def plan_increments(
    spark: SparkSession, cfg: IngestSettings, locations: dict[str, list[str]], state: str, batch: str | None
) -> dict[str, Increment]:
    """The table versions ``batch`` reads of each Delta source (``None``: an ``auto`` batch,
    named after them); a rewritten source stops the run here, before anything is written."""
    return {
        name: plan_increment(spark, name, location[0], state, batch, cfg.sources[name].full_refresh)
        for name, location in locations.items()
        if cfg.sources[name].format == "delta"
    }


def auto_batch_name(files: dict[str, list[InputFile]], increments: dict[str, Increment] | None = None) -> str:
    """``auto-<hash>`` of the sorted (file path, size) of every input file (``files``: per
    file source, from :func:`refinery.ingest.read.list_files`), and of each Delta
    source's (table id, versions read): the same input gives the same batch, so re-ingesting
    it replaces rather than appends."""
    listing: list[tuple] = [(i.table_id, i.start, i.end) for i in (increments or {}).values()]
    listing += [(file.path, file.size) for found in files.values() for file in found]
    digest = hashlib.sha256(repr(sorted(listing, key=repr)).encode()).hexdigest()[:12]
    return f"auto-{digest}"
