"""Synthetic continuous signing: small videos in which each gloss is a distinct hand motion.

A signer (head, torso, background, skin tone, size and position vary per signer) rests a hand, then signs a
sentence: each gloss moves a hand-like shape (palm and fingers, open or closed) along its own trajectory at the
signer's speed, with co-articulation between glosses and jitter on every frame. Written in the PHOENIX-2014
release layout (corpus CSVs + PNG frames), the same files the real reader takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import write_samples_frames
from bench.data.phoenix import Phoenix2014, write_phoenix2014

# trajectory of each gloss in unit coordinates (0..1, y down), t in [0, 1]; with the hand shape below, each gloss
# differs from every other one even when mirrored, since training flips clips left-right (as the official recipe)
_PATHS = {
    "REGEN": lambda t: (0.35, 0.25 + 0.5 * t),  # down, open
    "SCHNEE": lambda t: (0.35, 0.25 + 0.5 * t),  # down, closed
    "NORD": lambda t: (0.5, 0.75 - 0.5 * t),  # up, open
    "SUED": lambda t: (0.5, 0.75 - 0.5 * t),  # up, closed
    "WOLKE": lambda t: (0.25 + 0.5 * t, 0.3),  # across, high, open
    "WIND": lambda t: (0.25 + 0.5 * t, 0.62 + 0.1 * math.sin(4 * math.pi * t)),  # zigzag across, low, closed
    "SONNE": lambda t: (0.5 + 0.22 * math.cos(2 * math.pi * t), 0.45 + 0.22 * math.sin(2 * math.pi * t)),  # closed
    "MORGEN": lambda t: (0.5 + 0.22 * math.cos(2 * math.pi * t), 0.45 + 0.22 * math.sin(2 * math.pi * t)),  # open
    "WARM": lambda t: (0.3 + 0.4 * t, 0.3 + 0.4 * t),  # diagonal, open
    "KALT": lambda t: (0.3 + 0.4 * t, 0.3 + 0.4 * t),  # diagonal, closed
    "HEUTE": lambda t: (0.5 + 0.12 * math.sin(6 * math.pi * t), 0.2),  # shake sideways at the head, closed
    "GRAD": lambda t: (0.62, 0.5 + 0.1 * math.sin(6 * math.pi * t)),  # shake up and down at the chest, open
}
_CLOSED = {"SCHNEE", "SUED", "WIND", "SONNE", "KALT", "HEUTE"}  # fist instead of an open hand
GLOSSES = tuple(sorted(_PATHS))
REST = (0.5, 0.92)


@dataclass(frozen=True)
class Signer:
    background: tuple[int, int, int]
    skin: tuple[int, int, int]
    clothes: tuple[int, int, int]
    scale: float
    offset: tuple[float, float]
    frames_per_gloss: int


def make_signer(rng: np.random.Generator) -> Signer:
    tone = rng.uniform(0.55, 1.0)
    return Signer(tuple(int(v) for v in rng.integers(10, 90, 3)), (int(255 * tone), int(200 * tone), int(160 * tone)),
                  tuple(int(v) for v in rng.integers(40, 200, 3)), float(rng.uniform(0.85, 1.15)),
                  (float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.04, 0.04))), int(rng.integers(6, 10)))


def _disc(frame: np.ndarray, cx: float, cy: float, radius: float, color) -> None:
    size = frame.shape[0]
    yy, xx = np.mgrid[0:size, 0:size]
    frame[(xx - cx * size) ** 2 + (yy - cy * size) ** 2 <= (radius * size) ** 2] = color


def _hand(frame: np.ndarray, x: float, y: float, signer: Signer, closed: bool) -> None:
    palm = 0.07 * signer.scale
    _disc(frame, x, y, palm, signer.skin)
    if not closed:  # four fingers above the palm
        for k in range(4):
            angle = math.pi * (0.6 + 0.27 * k) + math.pi
            _disc(frame, x + 1.6 * palm * math.cos(angle), y + 1.6 * palm * math.sin(angle), palm * 0.45, signer.skin)


def render_signing(glosses: tuple[str, ...], signer: Signer, size: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``[T, size, size, 3]`` uint8 of signed glosses, and the hand's track ``[T, 3]``: x, y (0..1, as
    drawn) and 1 for a closed hand."""
    points: list[tuple[float, float, bool]] = [(*REST, False)] * int(rng.integers(3, 6))
    previous = REST
    for gloss in glosses:
        path, closed = _PATHS[gloss], gloss in _CLOSED
        first = path(0.0)
        for k in range(1, 3):  # co-articulation: move to where the next gloss starts
            a = k / 3
            points.append((previous[0] + a * (first[0] - previous[0]), previous[1] + a * (first[1] - previous[1]), False))
        n = max(4, signer.frames_per_gloss + int(rng.integers(-1, 2)))
        points += [(*path(i / (n - 1)), closed) for i in range(n)]
        previous = path(1.0)
    points += [(*REST, False)] * int(rng.integers(3, 6))
    frames = np.empty((len(points), size, size, 3), dtype=np.uint8)
    track = np.empty((len(points), 3), dtype=np.float32)
    base = np.empty((size, size, 3), dtype=np.uint8)
    base[:] = signer.background
    ox, oy = signer.offset
    _disc(base, 0.5 + ox, 0.18 + oy, 0.11 * signer.scale, signer.skin)  # head
    base[int((0.32 + oy) * size):, int((0.3 + ox) * size):int((0.7 + ox) * size)] = signer.clothes  # torso
    for i, (x, y, closed) in enumerate(points):
        frame = base.copy()
        jitter = rng.normal(0.0, 0.01, 2)
        track[i] = (x + ox + jitter[0], y + oy + jitter[1], float(closed))
        _hand(frame, track[i, 0], track[i, 1], signer, closed)
        noise = rng.integers(-12, 13, frame.shape, dtype=np.int16)
        frames[i] = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return frames, track


def render_sentence(glosses: tuple[str, ...], signer: Signer, size: int, rng: np.random.Generator) -> np.ndarray:
    """Frames ``[T, size, size, 3]`` uint8 of one signed sentence."""
    return render_signing(glosses, signer, size, rng)[0]


@DATASETS.register("synthetic_phoenix2014")
class SyntheticPhoenix2014(Phoenix2014):
    """A synthetic release in PHOENIX-2014's layout, read by the PHOENIX-2014 reader under its own name."""

    name = "synthetic_phoenix2014"
    num_glosses = 0  # the glosses its sentences happen to use


def make_dataset(root: str | Path, sizes: dict[str, int] | None = None, frame_size: int = 36, seed: int = 0,
                 signers: int = 8, min_glosses: int = 2, max_glosses: int = 5) -> SyntheticPhoenix2014:
    """Write a synthetic PHOENIX-2014 release under ``root`` and return its reader.

    Sentences draw 2-5 glosses with no gloss twice in a row; dev and test signers are also seen in training
    (PHOENIX-2014's multi-signer setting).
    """
    sizes = sizes or {"train": 400, "dev": 60, "test": 60}
    rng = np.random.default_rng(seed)
    people = [make_signer(rng) for _ in range(signers)]
    samples_by_split, frames_by_id = {}, {}
    for split, count in sizes.items():
        samples = []
        for i in range(count):
            glosses: list[str] = []
            while len(glosses) < int(rng.integers(min_glosses, max_glosses + 1)):
                choice = str(rng.choice(GLOSSES))
                if not glosses or glosses[-1] != choice:
                    glosses.append(choice)
            who = int(rng.integers(0, signers))
            sample = Phoenix2014.make_sample(split, f"synthetic{split}{i:04d}_signer{who + 1:02d}", glosses,
                                             signer=f"Signer{who + 1:02d}")
            frames_by_id[sample.id] = render_sentence(tuple(glosses), people[who], frame_size, rng)
            samples.append(sample)
        samples_by_split[split] = samples
    write_phoenix2014(root, samples_by_split, frames_by_id)
    return SyntheticPhoenix2014(root)


def resample_frames(clip: np.ndarray, count: int) -> np.ndarray:
    """``clip`` stretched or squeezed in time to exactly ``count`` frames (nearest frame, evenly spaced)."""
    return clip[np.rint(np.linspace(0, len(clip) - 1, count)).astype(np.int64)]


def make_split_like(root: str | Path, rows, split: str = "dev", frame_size: int = 256, seed: int = 0,
                    signers: int = 8) -> SyntheticPhoenix2014:
    """A synthetic split shaped like a real one: ``rows`` give each clip's id, signer, annotation and frame count
    (``{"fileid", "signer", "label", "num_frames"}``, as in the official ``dev_info.npy``); the frames are synthetic
    signing (about one synthetic gloss per 30 frames) stretched to that count, written as ``frame_size`` PNGs
    where PHOENIX-2014 keeps them, clip by clip (memory stays one clip). For speed and memory profiles at the
    release's real size; the annotations are the given ones, so the vocabulary is the real one."""
    rng = np.random.default_rng(seed)
    people = [make_signer(rng) for _ in range(signers)]
    samples = [Phoenix2014.make_sample(split, r["fileid"], r["label"].split(), signer=r["signer"]) for r in rows]
    write_phoenix2014(root, {**{other: [] for other in Phoenix2014.splits}, split: samples})  # empty others
    dataset = SyntheticPhoenix2014(root)
    for sample, row in zip(samples, rows):
        count = int(row["num_frames"])
        glosses = tuple(str(g) for g in rng.choice(GLOSSES, max(1, count // 30)))
        clip = render_sentence(glosses, people[int(rng.integers(0, signers))], frame_size, rng)
        write_samples_frames(dataset, [sample], {sample.id: resample_frames(clip, count)})
    return dataset
