"""Write ``tests/fixtures/nla_slr_golden.npz``: golden outputs of the reduced-input models of test_nla_slr_golden.py.

Run from the repository root: ``python tests/zoo/make_nla_slr_golden.py``. Only regenerate when a change of the
numbers is intended (or torch's RNG changed); the full-size models' parity with the official code is checked by
``benchmarks/official_parity_nla_slr.py``. Refuses outputs whose top-5 order hangs on a near tie.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_nla_slr_golden import CASES, GOLDEN, build, golden_input, input_sha256, run, weights_sha256  # noqa: E402

MIN_MARGIN = 1e-4  # gaps between the top-6 values relative to the largest magnitude: 10x the test tolerance


def main() -> None:
    inputs = golden_input()
    arrays: dict[str, np.ndarray] = {"input_sha256": np.array(input_sha256(inputs))}
    for case in sorted(CASES):
        model = build(case)
        out = run(model, inputs)
        for name, value in out.items():
            top = -np.sort(-value, axis=-1)[:, :6]
            margin = float(np.min(top[:, :-1] - top[:, 1:]) / np.abs(value).max())
            if margin < MIN_MARGIN:
                raise SystemExit(f"{case} {name}: top-5 margin {margin:.1e} < {MIN_MARGIN}; change SEED")
            arrays[f"{case}__{name}"] = value
            print(f"{case} {name}: {value.shape}, max |value| {np.abs(value).max():.3f}, margin {margin:.1e}, "
                  f"top-1 {value.argmax(-1).tolist()}")
        arrays[f"{case}__weights_sha256"] = np.array(weights_sha256(model))
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(GOLDEN, **arrays)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
