"""Measure how far the golden outputs move across CPU kernel paths: the evidence behind ``golden.TOLERANCE``.

``python tests/zoo/golden_spread.py`` runs every golden suite in a fresh process per kernel path (this CPU's
default, ``ATEN_CPU_CAPABILITY=avx2`` and ``=default``, oneDNN disabled) and prints, per suite and output, the
largest relative difference from the stored fixtures. ``--one`` measures the current process only (used by the
subprocesses; set ``GOLDEN_NO_MKLDNN=1`` to disable oneDNN).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from golden import TOLERANCE, relative_difference  # noqa: E402

SUITES = ("cslr", "slowfastsign", "nla_slr", "signvlm", "videomae")
PATHS = {"native": {}, "avx2": {"ATEN_CPU_CAPABILITY": "avx2"}, "default": {"ATEN_CPU_CAPABILITY": "default"},
         "no-onednn": {"GOLDEN_NO_MKLDNN": "1"}}


def measure() -> dict[str, float]:
    """Largest relative difference from the fixture, per suite, over every case and output."""
    if os.environ.get("GOLDEN_NO_MKLDNN") == "1":
        torch.backends.mkldnn.enabled = False
    worst: dict[str, float] = {}
    for suite in SUITES:
        test = importlib.import_module(f"test_{suite}_golden")
        with np.load(test.GOLDEN) as data:
            golden = dict(data)
        inputs = test.golden_input()
        for case in sorted(test.CASES):
            for name, value in test.run(test.build(case), inputs).items():
                if np.issubdtype(value.dtype, np.floating):
                    rel = relative_difference(value, golden[f"{case}__{name}"])
                    worst[suite] = max(worst.get(suite, 0.0), rel)
    return worst


def main() -> None:
    if "--one" in sys.argv:
        print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), **measure()}))
        return
    print(f"torch {torch.__version__}; tolerance {TOLERANCE:.0e} (max |got - golden| / max |golden|)")
    for label, env in PATHS.items():
        out = subprocess.run([sys.executable, __file__, "--one"], env={**os.environ, **env}, check=True,
                             capture_output=True, text=True).stdout
        figures = json.loads(out.splitlines()[-1])
        print(f"{label:10s} ({figures.pop('capability')}): " +
              ", ".join(f"{suite} {rel:.2e}" for suite, rel in figures.items()))


if __name__ == "__main__":
    main()
