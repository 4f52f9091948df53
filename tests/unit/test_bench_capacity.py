"""The capacity model is arithmetic on the committed benchmark results: every rate it uses is
read from the file it cites, and every figure follows from those rates by its formula."""

from __future__ import annotations

import json

import pytest

from bench.capacity import CLUSTER, MB_PER_TB, RESULTS, model


def _cited(citation: str) -> float:
    name, path = citation.split(":")
    value = json.loads((RESULTS / name).read_text(encoding="utf-8"))
    for key in path.split("."):
        value = value[key]
    return float(value)


def test_every_rate_is_the_number_in_the_file_it_cites():
    sources = model()["sources"]
    assert sources  # the model reads something
    for name, (value, citation) in sources.items():
        assert value == _cited(citation), name
        assert value > 0, name


def test_core_hours_follow_from_the_cited_rates():
    out = model()
    rates = {name: value for name, (value, _) in out["sources"].items()}
    cores = CLUSTER["nodes"] * CLUSTER["cores_per_node"]
    for shape in out["shapes"].values():
        hours = shape["core_hours_per_tb"]
        assert hours["dedup"] == pytest.approx(MB_PER_TB / rates["dedup_mb_per_s_per_core"] / 3600, abs=0.05)
        assert hours["ingest"] == pytest.approx(MB_PER_TB / rates["ingest_mb_per_s_per_core"] / 3600, abs=0.05)
        rows = 1e12 / shape["mean_doc_bytes"]
        assert shape["rows_per_tb"] == pytest.approx(rows, rel=1e-3)
        assert shape["score_on_cpu_instead_core_hours_per_tb"] > shape["core_hours_per_tb"]["score_featurize"]
        assert hours["score_featurize"] == pytest.approx(
            rows / rates["score_featurize_rows_per_s_per_core"] / 3600, abs=0.05
        )
        assert shape["core_hours_per_tb_total"] == pytest.approx(sum(hours.values()), abs=0.3)
        assert shape["cluster_wall_hours_per_tb"] == pytest.approx(
            shape["core_hours_per_tb_total"] / cores + shape["score_gpu_hours_per_tb"], abs=0.02
        )
    # per-row costs weigh more on short documents, per-byte ones the same
    short, web = out["shapes"]["short"], out["shapes"]["web"]
    assert short["rows_per_tb"] > web["rows_per_tb"]
    assert short["score_gpu_hours_per_tb"] > web["score_gpu_hours_per_tb"]
    assert short["core_hours_per_tb"]["dedup"] == web["core_hours_per_tb"]["dedup"]


def test_measured_pipeline_is_the_scale_bench_per_mb_cost_per_terabyte():
    scale = json.loads((RESULTS / "scale.json").read_text(encoding="utf-8"))
    for name, shape in model()["shapes"].items():
        measured = shape.get("measured_core_hours_per_tb")
        if name not in scale["shapes"]:
            assert measured is None
            continue
        run = scale["shapes"][name][measured["size"]]
        largest = max(int(size.removesuffix("mb")) for size in scale["shapes"][name])
        assert measured["size"] == f"{largest}mb"
        for job, hours in measured["jobs"].items():
            assert hours == pytest.approx(run["jobs"][job]["cpu_seconds_per_mb"] * MB_PER_TB / 3600, abs=0.05)
        assert measured["total"] == pytest.approx(run["total"]["cpu_seconds_per_mb"] * MB_PER_TB / 3600, abs=0.05)
