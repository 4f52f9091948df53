"""The ``refinery`` command.

refinery <job> --conf FILE [--set key=value ...] [--run-id ID] [--log-level LEVEL]
                                                                one job (see ``jobs``)
refinery pipeline --conf FILE [...]                             every job, in order (not import_reviews)
refinery summary --conf FILE [...]                              rows per table, reasons, the report's path
refinery inspect PATH... [--name NAME] [--check] [--conf FILE] [--lines N]
                                                                propose an ingest source (YAML) for a file,
                                                                glob or folder; --check ingests a sample
refinery jobs                                                   list the jobs
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from refinery.config import ConfigError, load_settings
from refinery.logs import set_log_level
from refinery.runtime.runner import ALL_JOBS, EXIT_CONFIG, EXIT_OK, JOBS, argument_parser, main_for, run_jobs


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return EXIT_OK if argv else EXIT_CONFIG
    command, rest = argv[0], argv[1:]
    if command in ALL_JOBS:
        return main_for(command, rest)
    if command == "jobs":
        print("\n".join(ALL_JOBS))
        return EXIT_OK
    if command == "inspect":
        from refinery.inspect.command import main as inspect_main

        return inspect_main(rest)
    if command in ("pipeline", "summary"):
        try:
            args = argument_parser(f"refinery {command}").parse_args(rest)
        except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
            return int(exc.code or 0)
        set_log_level(args.log_level)
        try:
            settings = load_settings(args.conf, args.overrides)
        except ConfigError as exc:
            print(f"refinery {command}: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        if command == "pipeline":
            return run_jobs(list(JOBS), settings, args.run_id)
        return print_summary(settings)
    commands = ", ".join([*ALL_JOBS, "pipeline", "summary", "inspect", "jobs"])
    print(f"refinery: unknown command {command!r}; one of: {commands}", file=sys.stderr)
    return EXIT_CONFIG


def print_summary(settings) -> int:
    """Print :func:`refinery.report.summary.summary_lines` for the configured tables."""
    from refinery.report.summary import summary_lines
    from refinery.spark.session import build_spark

    spark = build_spark(settings.spark, f"{settings.app_name}-summary")
    try:
        print("\n".join(summary_lines(spark, settings)))
    finally:
        spark.stop()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
