"""The real ``ctcdecode`` package as a backend, where it happens to be installed (it rarely builds)."""

from __future__ import annotations

import numpy as np


def decode_with_ctcdecode(probs: np.ndarray, lengths: np.ndarray, beam_width: int, blank: int, cutoff_top_n: int,
                          cutoff_prob: float) -> list[list[tuple[list[int], float]]]:
    try:
        import ctcdecode
        import torch
    except ImportError as err:
        raise RuntimeError("backend 'ctcdecode' needs the ctcdecode package and torch; "
                           "use backend='bench', which reproduces it exactly") from err
    labels = [chr(20000 + i) for i in range(probs.shape[2])]  # as the CSLR repositories build it
    decoder = ctcdecode.CTCBeamDecoder(labels, beam_width=beam_width, blank_id=blank, cutoff_top_n=cutoff_top_n,
                                       cutoff_prob=cutoff_prob, num_processes=1, log_probs_input=False)
    result, scores, _, out_lens = decoder.decode(torch.from_numpy(probs), torch.from_numpy(lengths.astype(np.int32)))
    out = []
    for b in range(probs.shape[0]):
        beams = []
        for i in range(result.shape[1]):
            n = int(out_lens[b, i])
            if n == 0 and float(scores[b, i]) == 0 and i > 0:
                break
            beams.append(([int(x) for x in result[b, i, :n]], float(scores[b, i])))
        out.append(beams)
    return out
