"""Small synthetic CSLR data the project generates itself, written in the PHOENIX-2014 release's formats.

Until a model is trained on generated videos, the embedded default simulates what a CTC recogniser emits:
per gloss a few peaked frames, blanks between glosses, and confusions, skipped and spurious glosses, so that
decoding and scoring run on realistic posteriors with a known reference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# weather-forecast glosses in PHOENIX's style (German, upper case, markers); a few carry clean-up prefixes
GLOSSES = (
    "__ON__", "__OFF__", "HEUTE", "MORGEN", "NACHT", "TAG", "REGEN", "SONNE", "WOLKE", "SCHNEE", "WIND", "GEWITTER",
    "NORD", "SUED", "WEST", "OST", "REGION", "TEMPERATUR", "GRAD", "WARM", "KALT", "FROST", "NEBEL", "STARK",
    "SCHWACH", "BISSCHEN", "MEHR", "AUCH", "DANN", "IX", "ZEIGEN-BILDSCHIRM", "WIE-AUSSEHEN", "MINUS", "PLUS",
    "ZEHN", "ZWANZIG", "DREISSIG", "BERG", "KUESTE", "FLUSS",
)
SIGNERS = ("Signer01", "Signer02", "Signer03", "Signer04", "Signer05")


@dataclass(frozen=True)
class Sample:
    id: str
    signer: str
    glosses: tuple[str, ...]


def make_corpus(num_samples: int, seed: int = 0, split: str = "dev") -> list[Sample]:
    """Samples with PHOENIX-style ids (``01April_2010_Thursday_heute_default-3``) and 4-12 glosses each."""
    rng = np.random.default_rng(seed)
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    months = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
    samples = []
    for i in range(num_samples):
        name = (f"{1 + i % 28:02d}{months[i % len(months)]}_{2009 + i % 4}_{days[i % 7]}_"
                f"{'tagesschau' if i % 3 else 'heute'}_default-{i}")
        words = rng.choice(len(GLOSSES) - 2, size=int(rng.integers(4, 13))) + 2
        glosses = tuple(GLOSSES[w] for w in words)
        if rng.random() < 0.4:
            glosses = ("__ON__",) + glosses
        if rng.random() < 0.4:
            glosses = glosses + ("__OFF__",)
        samples.append(Sample(f"{split}_{name}" if split != "dev" else name, str(rng.choice(SIGNERS)), glosses))
    return samples


def vocabulary() -> dict[str, int]:
    """Gloss -> class id, ids 1..N in ``sorted()`` order, 0 the CTC blank (the CSLR repositories' rule)."""
    return {g: i + 1 for i, g in enumerate(sorted(GLOSSES))}


def simulate_posteriors(samples: list[Sample], seed: int = 0, confusion: float = 0.06, skip: float = 0.03,
                        spurious: float = 0.03, noise: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Softmax outputs ``[B, T, C]`` and lengths ``[B]`` of an imperfect recogniser for ``samples``."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    classes = len(vocab) + 1
    paths = []
    for sample in samples:
        frames: list[int] = [0] * int(rng.integers(1, 4))
        for gloss in sample.glosses:
            if rng.random() < skip:
                continue
            label = vocab[gloss] if rng.random() >= confusion else int(rng.integers(1, classes))
            frames += [label] * int(rng.integers(2, 6)) + [0] * int(rng.integers(1, 4))
            if rng.random() < spurious:
                frames += [int(rng.integers(1, classes))] + [0] * int(rng.integers(1, 3))
        paths.append(frames)
    lengths = np.array([len(p) for p in paths])
    logits = rng.normal(0.0, noise, size=(len(paths), int(lengths.max()), classes)).astype(np.float32)
    for b, path in enumerate(paths):
        logits[b, np.arange(len(path)), path] += rng.uniform(4.0, 8.0, size=len(path)).astype(np.float32)
    probs = np.exp(logits - logits.max(axis=2, keepdims=True))
    return (probs / probs.sum(axis=2, keepdims=True)).astype(np.float32), lengths


def write_phoenix_annotations(samples: list[Sample], root: Path, split: str = "dev") -> Path:
    """``annotations/manual/{split}.corpus.csv`` of the PHOENIX-2014 release: ``id|folder|signer|annotation``."""
    path = Path(root) / "annotations" / "manual" / f"{split}.corpus.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["id|folder|signer|annotation"]
    lines += [f"{s.id}|{s.id}/1/*.png|{s.signer}|{' '.join(s.glosses)}" for s in samples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


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
