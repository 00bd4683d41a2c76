"""benchmarks/gpu_suite.py runs on CPU with the reduced cards: forward rows in fp32 and bf16, an end-to-end row with
its profile, and the JSON and markdown it writes."""

import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_quick_suite_on_cpu(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import gpu_suite
    finally:
        sys.path.remove(str(BENCHMARKS))
    assert gpu_suite.main(["--device", "cpu", "--quick", "--cards", "s3d_rgb_tiny", "--repeats", "1",
                           "--e2e-clips", "12", "--workers", "0", "--data", str(tmp_path / "data"),
                           "--out", str(tmp_path / "out")]) == 0
    payload = json.loads((tmp_path / "out" / "suite.json").read_text())
    rows = payload["forward"]
    assert [(r["card"], r["precision"]) for r in rows] == [("s3d_rgb_tiny", "fp32"), ("s3d_rgb_tiny", "bf16")]
    assert rows[0]["clips"] == 4 and rows[0]["clips_per_s"] > 0 and rows[0]["peak_gpu_mib"] is None
    assert 0 < rows[1]["max_rel_logit_shift"] < 0.1  # bf16 moves the logits, a little
    (e2e,) = payload["end_to_end"]
    assert e2e["clips"] == 12 and e2e["workers"] == 0  # 1 clip per class of the 12
    assert abs(sum(e2e["profile"]["main_s"].values()) - e2e["profile"]["wall_s"]) < 0.01
    table = (tmp_path / "out" / "suite.md").read_text()
    assert "| s3d_rgb_tiny | ours | bf16 | 4 |" in table and "end-to-end clips/s" in table
    # the CPU-parity check a GPU run makes, here between 0 and 2 workers on the CPU
    parity = gpu_suite.cpu_parity({**e2e, "workers": 2}, tmp_path / "data", True, 12)
    assert parity == {"card": "s3d_rgb_tiny", "samples": 12, "same_predictions_as_cpu": 12}
