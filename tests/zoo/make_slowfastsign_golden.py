"""Write ``tests/fixtures/slowfastsign_golden.npz``: golden outputs of the reduced SlowFastSign of
test_slowfastsign_golden.py.

Run from the repository root: ``python tests/zoo/make_slowfastsign_golden.py``. Only regenerate when a change of
the numbers is intended (or torch's RNG changed); the full-size model's parity with the official code is checked
by ``benchmarks/official_parity_slowfastsign.py``. Refuses to write outputs whose best paths hang on a near tie.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_slowfastsign_golden import GOLDEN, HEADS, build, golden_input, input_sha256, run  # noqa: E402
from test_cslr_golden import weights_sha256  # noqa: E402

MIN_MARGIN = 1e-3  # top-1 minus top-2 logit, relative to the largest logit: keeps best paths platform-stable


def main() -> None:
    video, lengths = golden_input()
    model = build()
    out = run(model, video, lengths)
    for key, logits in out.items():
        if not key.endswith(HEADS):
            continue
        for b, steps in enumerate(out["feat_len"]):
            top = np.sort(logits[:steps, b], axis=-1)
            margin = float((top[:, -1] - top[:, -2]).min() / np.abs(logits).max())
            if margin < MIN_MARGIN:
                raise SystemExit(f"{key} sample {b}: best-path margin {margin:.1e} < {MIN_MARGIN}; "
                                 "change SEED in test_slowfastsign_golden.py")
        print(f"{key}: {logits.shape}, max |logit| {np.abs(logits).max():.3f}")
    arrays = {"input_sha256": np.array(input_sha256(video, lengths)), "weights_sha256": np.array(weights_sha256(model)),
              **out}
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(GOLDEN, **arrays)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes), feat_len {out['feat_len'].tolist()}")


if __name__ == "__main__":
    main()
