"""Write ``tests/fixtures/cslr_golden.npz``: golden outputs of the reduced CorrNet/VAC models of test_cslr_golden.py.

Run from the repository root: ``python tests/zoo/make_cslr_golden.py``. Only regenerate when a change of the
numbers is intended (or torch's RNG changed); the full-size models' parity with the official code is checked by
``benchmarks/official_parity.py``. Refuses to write outputs whose best paths hang on a near tie.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_cslr_golden import CASES, GOLDEN, build, golden_input, input_sha256, run, weights_sha256  # noqa: E402

MIN_MARGIN = 1e-3  # top-1 minus top-2 logit, relative to the largest logit: keeps best paths platform-stable


def main() -> None:
    video, lengths = golden_input()
    arrays: dict[str, np.ndarray] = {"input_sha256": np.array(input_sha256(video, lengths))}
    for case in sorted(CASES):
        model = build(case)
        out = run(model, video, lengths)
        for head in ("conv_logits", "sequence_logits"):
            for b, steps in enumerate(out["feat_len"]):
                top = np.sort(out[head][:steps, b], axis=-1)
                margin = float((top[:, -1] - top[:, -2]).min() / np.abs(out[head]).max())
                if margin < MIN_MARGIN:
                    raise SystemExit(f"{case} {head} sample {b}: best-path margin {margin:.1e} < {MIN_MARGIN}; "
                                     "change SEED in test_cslr_golden.py")
        arrays[f"{case}__weights_sha256"] = np.array(weights_sha256(model))
        arrays.update({f"{case}__{key}": value for key, value in out.items()})
        print(f"{case}: feat_len {out['feat_len'].tolist()}, sequence_logits {out['sequence_logits'].shape}, "
              f"max |logit| {np.abs(out['sequence_logits']).max():.3f}")
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(GOLDEN, **arrays)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
