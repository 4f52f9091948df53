"""One process of the two-process chain limit in ``bench/clean_bench.py``.

    python -m bench.chain_worker TEXTS.parquet CORE GO_FILE [--set key=value ...]

Pins itself to ``CORE``, loads the models and runs :func:`refinery.text.chain.clean_frame` once
over its texts (warm-up, as the Spark workers are warm), prints ``READY``, waits until
``GO_FILE`` exists, runs the chain again in batches of ``BATCH_ROWS`` and prints one
``CHAIN-RESULT {json}`` line: rows, CPU and wall seconds of the timed pass. Two of these started
together measure what two cores of this machine give when both are busy, which is what a
two-worker Spark job can at best reach (shared caches, memory bandwidth and any other load on
the host make it less than twice one core alone).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

BATCH_ROWS = 10_000


def main(argv: list[str]) -> int:
    import pandas as pd

    from refinery.clean.job import clean_options
    from refinery.config import load_settings
    from refinery.text.chain import clean_frame

    parser = argparse.ArgumentParser(prog="python -m bench.chain_worker")
    parser.add_argument("texts")
    parser.add_argument("core", type=int)
    parser.add_argument("go_file")
    parser.add_argument("--conf", default="conf/local.yaml")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})
    frame = pd.read_parquet(args.texts)
    options = clean_options(load_settings([args.conf], args.overrides).clean)
    chunks = [frame.iloc[start : start + BATCH_ROWS] for start in range(0, len(frame), BATCH_ROWS)]
    for chunk in chunks:
        clean_frame(chunk, options)
    print("READY", flush=True)
    while not os.path.exists(args.go_file):
        time.sleep(0.005)
    cpu, wall = time.process_time(), time.perf_counter()
    for chunk in chunks:
        clean_frame(chunk, options)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print("CHAIN-RESULT " + json.dumps({"rows": len(frame), "cpu_seconds": cpu, "wall_seconds": wall}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
