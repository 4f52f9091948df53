"""``refinery inspect PATH... [--name NAME] [--check] [--conf FILE] [--lines N]``: propose the
ingest source that reads a file, glob, folder or Delta table, from a bounded sample of it.

The YAML goes to stdout (a config file of its own: redirect it to ``my.yaml`` and run
``make run CONF=my.yaml``); notes go to stderr. ``--check`` then ingests the first ``--lines``
records with the proposed stanza in local Spark and appends what ingest did as ``#`` lines.
Exit codes: 0 done, 1 the check's ingest failed, 2 bad arguments (or nothing to read).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from refinery.config import ConfigError, load_settings
from refinery.inspect.stanza import render_config
from refinery.runtime.runner import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from refinery.sources.sniff import Proposal, SniffError, sniff, source_name

#: The config the printed YAML extends when ``--conf`` is not given.
DEFAULT_CONF = "conf/local.yaml"


def argument_parser() -> argparse.ArgumentParser:
    """``refinery inspect``'s options."""
    parser = argparse.ArgumentParser(prog="refinery inspect", description="Propose an ingest source for PATH.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, glob or folder (several: one source)")
    parser.add_argument("--name", default=None, help="source name (default: from the first PATH)")
    parser.add_argument("--check", action="store_true", help="ingest a sample with the stanza and print counts")
    parser.add_argument("--conf", default=None, metavar="FILE", help=f"config to extend (default: {DEFAULT_CONF})")
    parser.add_argument("--lines", type=int, default=1_000, metavar="N", help="lines (records) to sample")
    return parser


def main(argv: Sequence[str]) -> int:
    """Parse, sniff, print the YAML; with ``--check``, ingest the sample and print counts."""
    try:
        args = argument_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    if args.lines < 1:
        print("refinery inspect: --lines must be at least 1", file=sys.stderr)
        return EXIT_CONFIG
    base_conf = args.conf or _default_conf()
    if args.conf is not None and not os.path.isfile(args.conf):
        print(f"refinery inspect: --conf {args.conf} not found", file=sys.stderr)
        return EXIT_CONFIG
    try:
        proposal = sniff(args.paths, args.lines)
    except SniffError as exc:
        print(f"refinery inspect: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    name = args.name or source_name(args.paths)
    _note_name_clash(name, base_conf)
    print(render_config(proposal, name, _relative(base_conf)), end="")
    if not args.check:
        return EXIT_OK
    return _check(proposal, name, base_conf, args.lines)


def _default_conf() -> str:
    """``conf/local.yaml`` of the working directory, else of ``REFINERY_HOME``, else of the
    checkout this package is installed from (editable install)."""
    homes = [Path("."), Path(os.environ.get("REFINERY_HOME", ".")), Path(__file__).resolve().parents[3]]
    found = next((home / DEFAULT_CONF for home in homes if (home / DEFAULT_CONF).is_file()), Path(DEFAULT_CONF))
    return str(found)


def _relative(path: str) -> str:
    """``path`` relative to the working directory (where the YAML is saved), when it can be."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return os.path.abspath(path)


def _note_name_clash(name: str, base_conf: str) -> None:
    """Warn when ``base_conf`` already has a source called ``name``: the loader merges the two."""
    try:
        sources = load_settings([base_conf]).ingest.sources
    except ConfigError:
        return
    if name in sources:
        print(
            f"refinery inspect: note: {base_conf} already has a source {name!r}; its keys merge into this "
            "stanza's when loaded: pass --name to pick another name",
            file=sys.stderr,
        )


def _check(proposal: Proposal, name: str, base_conf: str, records: int) -> int:
    from refinery.inspect.check import check_settings, report_lines, run_check

    with tempfile.TemporaryDirectory(prefix="refinery-inspect-") as folder:
        try:
            settings = check_settings(proposal.files, proposal.settings, name, base_conf, folder, records)
        except ConfigError as exc:
            print(f"refinery inspect --check: {exc}", file=sys.stderr)
            return EXIT_FAILED
        result = run_check(settings, name)
    print("\n".join(report_lines(result)))
    return result.exit_code
