"""Run every benchmark and write one JSON file per benchmark under ``bench/results/``.

    python -m bench.run [name ...]        # default: all

The machine is shared and noisy, so every benchmark reports ratios measured in one run
(ours against the plain library call, against the single-core limit), next to the raw
numbers.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BENCHMARKS = {
    "ingest": "bench.ingest_bench",
    "ingest_scale": "bench.ingest_scale_bench",
    "ingest_delta": "bench.ingest_delta_bench",
    "normalize": "bench.normalize_bench",
    "pii": "bench.pii_bench",
    "redos": "bench.redos_bench",
    "langid": "bench.langid_bench",
    "segment": "bench.segment_bench",
    "chain": "bench.chain_bench",
    "clean": "bench.clean_bench",
    "clean_peer": "bench.clean_peer_bench",
    "dedup": "bench.dedup_bench",
    "score": "bench.score_bench",
    "rebalance": "bench.rebalance_bench",
    "select": "bench.select_bench",
    "quality": "bench.quality_bench",
    "crash": "bench.crash_bench",
    "scale": "bench.scale",
    "cluster_parity": "bench.cluster_parity",
    "score_memory": "bench.score_memory",
    "delta_features": "bench.delta_features_bench",
    "pins": "bench.pins_bench",
    "capacity": "bench.capacity",  # last: computed from the files the others wrote
}


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    import pyspark

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "pyspark": pyspark.__version__,
        "platform": platform.platform(),
    }


def main(names: list[str]) -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names or list(BENCHMARKS):
        result = importlib.import_module(BENCHMARKS[name]).run()
        result.update(benchmark=name, measured_at=datetime.now(UTC).isoformat(), machine=machine())
        path = RESULTS / f"{name}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{name}: {json.dumps(result.get('ratios', {}))} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
