"""The scale bench's inputs and arithmetic (no Spark): its generated corpora have the shape
they claim, and the curve it reports is the ratio of what it measured."""

from __future__ import annotations

import json
import statistics

import pytest

from bench.scale import curve, parse_runs, write_input


@pytest.mark.parametrize(("shape", "low", "high"), [("short", 80, 400), ("web", 2500, 5000)])
def test_inputs_reach_their_size_with_distinct_ids_and_realistic_lengths(tmp_path, shape, low, high):
    path = tmp_path / "corpus.jsonl"
    info = write_input(path, shape, 2)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert 2 << 20 <= path.stat().st_size < (2 << 20) + 20_000  # stops at the first row past the size
    assert info["rows"] == len(rows) == len({r["id"] for r in rows})
    sizes = [len(r["text"].encode("utf-8")) for r in rows]
    assert low <= statistics.mean(sizes) <= high
    assert all(r["label"] for r in rows)
    if shape == "web":
        # edited copies keep their original's opening; fresh rows start at random offsets
        openings = [r["text"][:50] for r in rows]
        repeated = len(openings) - len(set(openings))
        assert 0.03 * len(rows) < repeated < 0.2 * len(rows)


def test_the_same_seed_writes_the_same_file(tmp_path):
    write_input(tmp_path / "a.jsonl", "short", 1)
    write_input(tmp_path / "b.jsonl", "short", 1)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def _measured(mb: float, seconds: float, cpu: float, jvm: float) -> dict:
    job = {"seconds": seconds, "cpu_seconds": {"total": cpu}, "peak_rss_mb": {"jvm": jvm}}
    memory = {"peak_rss_mb": {"jvm": jvm}, "peak_anon_mb": {"jvm": jvm / 2}}
    total = {"seconds": seconds, "cpu_seconds": cpu, **memory}
    return {"input": {"file_mb": mb}, "jobs": {"clean": job}, "total": total}


def test_the_curve_is_the_largest_size_over_the_smallest():
    out = curve(
        {100: _measured(100, 50, 90, 2000), 300: _measured(300, 140, 260, 2100), 1024: _measured(1024, 600, 1000, 2200)}
    )
    assert out["sizes_mb"] == [100, 1024] and out["bytes_ratio"] == 10.24
    assert out["seconds_ratio"] == 12.0 and out["meets_target"] is False
    assert out["per_job"]["clean"] == {"seconds": 12.0, "cpu_seconds": 11.11}
    assert out["peak_rss_ratio"] == out["peak_anon_ratio"] == {"jvm": 1.1}
    assert curve({100: _measured(100, 50, 90, 2000), 300: _measured(300, 140, 260, 2000)})["meets_target"] is None


def test_runs_are_parsed_and_bad_ones_refused():
    assert parse_runs("short:300,100; web:1024") == [("short", [100, 300]), ("web", [1024])]
    with pytest.raises(SystemExit, match="shape:MB"):
        parse_runs("long:100")


def test_a_run_of_one_shape_keeps_the_other_shapes_results(tmp_path, monkeypatch):
    from bench import scale

    monkeypatch.setattr(scale, "RESULTS", tmp_path / "scale.json")
    assert scale._earlier_shapes({"web"}) == {}
    earlier = {"measured_at": "T1", "shapes": {"short": {"100mb": 1}, "web": {"100mb": 2}}, "curves": {"short": 3}}
    scale.RESULTS.write_text(json.dumps(earlier))
    kept = scale._earlier_shapes({"web"})
    assert kept == {"shapes": {"short": {"100mb": 1}}, "curves": {"short": 3}, "carried_over": {"short": "T1"}}
