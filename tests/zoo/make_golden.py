"""Write the golden fixtures of ``test_{suite}_golden.py``: ``python tests/zoo/make_golden.py cslr|slowfastsign|nla_slr|signvlm|videomae``.

Run from the repository root. Only regenerate when a change of the numbers is intended; the full-size models'
parity with the official code is checked by ``benchmarks/official_parity*.py``. Refuses a case that is ill
conditioned, or whose best paths / top-5 hang on a near tie (either would make the fixture CPU-dependent).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden import (CONDITIONING_LIMIT, assert_well_conditioned, best_path_margin, perturbation_response,  # noqa: E402
                    inputs_sha256, weights_sha256)

MIN_MARGIN = 1e-3  # gaps between ranked logits, relative to the largest: 10x the tolerance


def main(suite: str) -> None:
    test = importlib.import_module(f"test_{suite}_golden")
    inputs = test.golden_input()
    arrays: dict[str, np.ndarray] = {"input_sha256": np.array(inputs_sha256(inputs))}
    for case in sorted(test.CASES):
        model = test.build(case)
        out = test.run(model, inputs)
        response = perturbation_response(lambda streams: test.run(model, streams), inputs)
        assert_well_conditioned(response, case)
        for name, value in test.ranked(out).items():
            margin = best_path_margin(value, top=test.RANKED)
            if margin < MIN_MARGIN:
                raise SystemExit(f"{case} {name}: ranking margin {margin:.1e} < {MIN_MARGIN}; change SEED")
            print(f"{case} {name}: {out[name].shape}, max |value| {np.abs(value).max():.3f}, margin {margin:.1e}, "
                  f"input response {response[name]:.1e} (limit {CONDITIONING_LIMIT:.0e})")
        arrays.update({f"{case}__{name}": value for name, value in out.items()})
        arrays[f"{case}__weights_sha256"] = np.array(weights_sha256(model))
    test.GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(test.GOLDEN, **arrays)
    print(f"wrote {test.GOLDEN} ({test.GOLDEN.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
