"""Synthetic isolated signing in WLASL's release layout: one sign per clip, with COCO-WholeBody keypoints.

Each class is one gloss of :mod:`bench.data.synthetic_signs` (a hand motion and shape); signers vary in build,
colours, position and speed. Written as a WLASL release (``WLASL_v0.3.json``, ``nslt_12.json``, mp4 clips) plus
the keypoint pickle NLA-SLR reads (``{video_id: float32 [T, 133, 3]}`` at 256x256 frame coordinates), with the
body, face and both hands placed where the renderer drew them; :func:`as_nla_slr_package` writes the same data as
NLA-SLR's data package (``WLASL2000.zip``, ``train/dev/test.pkl``, ``12.json``).
"""

from __future__ import annotations

import math
import pickle
import shutil
from pathlib import Path

import numpy as np

from bench.data import DATASETS
from bench.data.synthetic_signs import GLOSSES, REST, Signer, make_signer, render_signing, resample_frames
from bench.data.wlasl import _Wlasl, write_nla_slr_package, write_wlasl
from bench.io.atomic import atomic_open
from bench.io.landmarks import Landmarks, landmark_path, write_landmarks

KEYPOINT_FRAME = 256  # keypoints are in 256x256 frame coordinates, as NLA-SLR's
PACKAGE_KEYPOINTS = "keypoints_hrnet_dark_coco_wholebody.pkl"  # the name NLA-SLR's configs give the pickle


@DATASETS.register("synthetic_wlasl")
class SyntheticWlasl(_Wlasl):
    """A synthetic release in WLASL's layout, read by the WLASL reader (12 classes)."""

    name = "synthetic_wlasl"
    num_classes = len(GLOSSES)


def wholebody_keypoints(track: np.ndarray, signer: Signer) -> np.ndarray:
    """COCO-WholeBody ``[T, 133, 3]`` (x, y, score) at 256x256 for a rendered clip's hand ``track``."""
    size = KEYPOINT_FRAME
    ox, oy = signer.offset
    head = np.array([0.5 + ox, 0.18 + oy])
    frames = len(track)
    points = np.zeros((frames, 133, 3), dtype=np.float32)
    body = {0: head, 1: head + [-0.03, -0.02], 2: head + [0.03, -0.02], 3: head + [-0.08, 0], 4: head + [0.08, 0],
            5: head + [-0.18, 0.16], 6: head + [0.18, 0.16], 7: head + [-0.2, 0.35], 8: head + [0.2, 0.35]}
    for index, xy in body.items():
        points[:, index, :2] = xy
    points[:, 9, :2] = track[:, :2]  # the signing (left wrist in image terms)
    points[:, 10, :2] = [REST[0] + 0.15 + ox, REST[1] + oy]  # the resting one
    angles = np.linspace(0, 2 * math.pi, 68, endpoint=False)  # face contour 23-90 around the head
    points[:, 23:91, 0] = head[0] + 0.09 * signer.scale * np.cos(angles)
    points[:, 23:91, 1] = head[1] + 0.1 * signer.scale * np.sin(angles)
    spread = np.where(track[:, 2:3] > 0, 0.02, 0.07) * signer.scale  # a fist keeps its fingers close
    fingers = np.linspace(math.pi * 1.1, math.pi * 1.9, 21)
    points[:, 91:112, 0] = track[:, :1] + spread * np.cos(fingers)
    points[:, 91:112, 1] = track[:, 1:2] + spread * np.sin(fingers)
    points[:, 112:133, :2] = points[:, 10:11, :2]
    points[..., :2] *= size
    points[..., 2] = 0.9
    return points


def holistic_landmarks(track: np.ndarray, signer: Signer, frame_size: int, fps: float = 25.0) -> Landmarks:
    """Landmarks in :mod:`bench.io.landmarks`' format (as MediaPipe Holistic's) where the renderer drew the
    head and the signing hand (``left_hand``, the hand of the keypoints' left wrist); the resting hand is not
    drawn, so ``right_hand`` is absent, as a hand Holistic misses."""
    frames = len(track)
    ox, oy = signer.offset
    head = np.array([0.5 + ox, 0.18 + oy], np.float64)
    landmarks = Landmarks.empty(frames, (frame_size, frame_size), fps, "synthetic signer (bench.data.synthetic_isolated)")
    spiral = np.arange(468) * math.pi * (3 - math.sqrt(5))  # a face's 468 points spread over the head disc
    radius = 0.1 * signer.scale * np.sqrt((np.arange(468) + 0.5) / 468)
    face = head + np.stack([radius * np.cos(spiral), radius * np.sin(spiral)], axis=1)
    landmarks.xy["face"][:] = face.astype(np.float32)
    landmarks.present["face"][:] = True
    palm = 0.07 * signer.scale
    for t, (x, y, closed) in enumerate(track):
        points = [(x, y + 0.9 * palm)]  # wrist
        points += [(x + 0.6 * palm * math.cos(a), y + 0.6 * palm * math.sin(a)) for a in (0.2, 1.2, 2.0, 2.9)]
        for k in range(4):  # four fingers as _hand draws them: 4 joints out from the palm (in the fist: inside it)
            angle = math.pi * (0.6 + 0.27 * k) + math.pi
            reach = (0.3, 0.5, 0.7, 0.9) if closed else (1.0, 1.4, 1.8, 2.05)
            points += [(x + r * palm * math.cos(angle), y + r * palm * math.sin(angle)) for r in reach]
        landmarks.xy["left_hand"][t] = np.array(points, np.float32)
    landmarks.present["left_hand"][:] = True
    pose = np.zeros((33, 2))
    pose[:11] = head + np.linspace(-0.05, 0.05, 11)[:, None] * [1, 0.3]  # nose, eyes, ears, mouth
    pose[11:17] = head + [[-0.18, 0.16], [0.18, 0.16], [-0.2, 0.35], [0.2, 0.35], [0, 0], [0.15, 0.74]]
    pose[[18, 20, 22]] = pose[16]  # the resting hand's points
    pose[23:] = head + np.array([[-0.1, 0.6], [0.1, 0.6]] + [[0.1 * (k % 2) - 0.05, 0.9 + 0.2 * (k // 2)]
                                                             for k in range(8)])  # hips, then legs off the frame
    landmarks.xy["pose"][:] = pose.astype(np.float32)
    landmarks.xy["pose"][:, [15, 17, 19, 21]] = track[:, None, :2]  # the signing wrist and its hand points
    landmarks.present["pose"][:] = True
    landmarks.pose_visibility[:] = 1
    return landmarks


def make_dataset(root: str | Path, per_class: dict[str, int] | None = None, frame_size: int = 64, seed: int = 0,
                 signers: int = 8, landmarks: bool = False, clip_frames: tuple[int, int] | None = None
                 ) -> tuple[SyntheticWlasl, Path]:
    """Write a synthetic WLASL release and its keypoint pickle under ``root``; return the reader and the pickle.
    ``landmarks``: also each clip's landmarks under ``root/landmarks`` (the default of ``--landmarks``), for H&HT;
    the release itself is the same with or without them. ``clip_frames=(low, high)``: each clip stretched to a
    length drawn uniformly in that range (real-size profiles; default: as rendered, about 20 frames)."""
    per_class = per_class or {"train": 16, "val": 2, "test": 4}
    rng = np.random.default_rng(seed)
    people = [make_signer(rng) for _ in range(signers)]
    instances, frames, keypoints, marks = [], {}, {}, {}
    for split, count in per_class.items():
        for gloss in GLOSSES:
            for _ in range(count):
                vid = f"{len(instances):05d}"
                who = int(rng.integers(0, signers))
                clip, track = render_signing((gloss,), people[who], frame_size, rng)
                if clip_frames is not None:
                    length = int(rng.integers(clip_frames[0], clip_frames[1] + 1))
                    clip, track = resample_frames(clip, length), resample_frames(track, length)
                instances.append({"video_id": vid, "gloss": gloss.lower(), "split": split, "signer_id": who})
                frames[vid] = clip
                keypoints[vid] = wholebody_keypoints(track, people[who])
                if landmarks:
                    marks[vid] = holistic_landmarks(track, people[who], frame_size)
    root = Path(root)
    write_wlasl(root, [g.lower() for g in GLOSSES], instances, frames, subsets=(len(GLOSSES),))
    pickle_path = root / "keypoints_synthetic_wholebody.pkl"
    with atomic_open(pickle_path, binary=True) as handle:
        pickle.dump(keypoints, handle)
    release = SyntheticWlasl(root)
    for sample in (s for split in per_class for s in release.samples(split) if s.id in marks):
        write_landmarks(landmark_path(root / "landmarks", sample), marks[sample.id])
    return release, pickle_path


def as_nla_slr_package(release: SyntheticWlasl, keypoints: str | Path, out: str | Path,
                       seq_lens: dict[str, int] | None = None) -> tuple[SyntheticWlasl, Path]:
    """The synthetic ``release`` (from :func:`make_dataset`) written again under ``out`` as NLA-SLR's data package,
    with its keypoint pickle; ``seq_lens`` overrides some clips' ``seq_len``. Returns the reader and the pickle."""
    out = write_nla_slr_package(release, out, seq_lens)
    pickle_path = out / PACKAGE_KEYPOINTS
    shutil.copyfile(keypoints, pickle_path)
    return SyntheticWlasl(out), pickle_path
