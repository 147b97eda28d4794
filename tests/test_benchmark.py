"""The speed benchmark runs (two steps of the MLP GAN), so it cannot rot."""
import csv
import os
import sys

from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "benchmarks"))
import train_step_speed  # noqa: E402


def test_benchmark_writes_its_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(train_step_speed, "matmul_rate", lambda: 1e10)  # its 3 s of timing
    rows = train_step_speed.main(["--models", "gan", "--steps", "1", "--warmup", "1", "--rounds", "1",
                                  "--out", str(tmp_path)])
    assert [row["model"] for row in rows] == ["gan"]
    row = rows[0]
    for key in ("train_ms", "plain_ms", "fused_ms", "train_vs_fused", "train_vs_plain"):
        assert row[key] > 0, key
    assert row["gflop_per_step"] > 0.1  # G and D of the MLP recipe, 32 images
    with open(tmp_path / "results.csv") as handle:
        assert [r["model"] for r in csv.DictReader(handle)] == ["gan"]
    table = (tmp_path / "results.md").read_text()
    assert "| gan | 32 |" in table and ("CPU:" in table or "GPU:" in table)
