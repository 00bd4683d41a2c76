"""Reference/hypothesis pairs the project generates to check scorers (against sclite) and time them."""

from __future__ import annotations

import random


def edited_transcripts(vocabulary: list[str], num: int, seed: int = 0, long: bool = True
                       ) -> tuple[list[tuple[str, tuple[str, ...]]], dict[str, list[str]]]:
    """Reference/hypothesis pairs for scorer checks: ``([(id, reference glosses)], {id: hypothesis glosses})``.

    Lengths up to 100 glosses (``long``; else PHOENIX-like 5-25), small gloss pools so that glosses repeat,
    substitutions, deletions and insertions mixed, 5% empty hypotheses and 10% unrelated ones.
    """
    rng = random.Random(seed)
    references, hypotheses = [], {}
    for i in range(num):
        length = rng.choice([1, 2, 3, 5, 8, 12, 15, 20, 30, 60, 100]) if long else rng.randint(5, 25)
        pool = rng.sample(vocabulary, rng.choice([3, 10, 50]))
        ref = [rng.choice(pool) for _ in range(length)]
        if rng.random() < 0.05:
            hyp: list[str] = []
        elif rng.random() < 0.1:
            hyp = [rng.choice(pool) for _ in range(rng.randint(1, 2 * length))]
        else:
            hyp = list(ref)
            for _ in range(rng.randint(0, max(1, length // 2))):
                op = rng.random()
                if op < 0.3 and hyp:
                    hyp[rng.randrange(len(hyp))] = rng.choice(pool)
                elif op < 0.6 and hyp:
                    del hyp[rng.randrange(len(hyp))]
                else:
                    hyp.insert(rng.randint(0, len(hyp)), rng.choice(pool))
        key = f"{i:04d}_sample"
        references.append((key, tuple(ref)))
        hypotheses[key] = hyp
    return references, hypotheses
