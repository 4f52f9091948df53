"""scripts/gpu_check.sh, the one-command GPU check of the scorer, run here on the CPU with a
small corpus: it must produce every number the closing note of a GPU session reports."""

from __future__ import annotations

import json
import os
import subprocess

from tests.support.paths import ROOT, corpora_dir


def test_gpu_check_reports_throughput_and_learns(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path), "REFINERY_CORPORA": str(corpora_dir())}
    args = ["--device", "cpu", "--rows", "4000", "--crossfit-rows", "300", "--batch-size", "256"]
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu_check.sh"), *args],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text(encoding="utf-8"))
    assert report["rows"] == 4000 and report["device"] != ""
    for key in ("featurize_rows_per_s_cpu_1_process", "train_rows_per_s_one_epoch", "infer_rows_per_s"):
        assert report[key] > 0
    assert report["crossfit_5_folds_10_epochs"]["rows"] == 300
    # 14 classes: chance is about 0.07; one epoch over real texts must do far better
    assert report["train_accuracy_after_one_epoch"] > 0.3
    assert "peak_gpu_memory_gib" not in report  # CPU run: no GPU figure invented
