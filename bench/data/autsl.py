"""AUTSL (ChaLearn LAP 2021, Turkish isolated signs): 226 signs, 43 signers, Kinect RGB and depth at 512x512.

Layout under the root (the challenge release)::

    SignList_ClassId_TR_EN.csv            ClassId,TR,EN per class (a header row is allowed)
    train_labels.csv                      signerX_sampleY,label per line, no header
    val/ground_truth.csv, test/ground_truth.csv
    train/, val/, test/                   signerX_sampleY_color.mp4 (RGB) and signerX_sampleY_depth.mp4

Splits ``train`` / ``val`` / ``test`` (signer-independent: 31 / 6 / 6 signers; 28,142 / 4,418 / 3,742 samples).
The RGB clip is the sample's stream; the depth clip is :meth:`Autsl.depth_path` (also ``info["depth"]``). A
sample's id is ``signerX_sampleY``, its signer ``X``, its label the file's class index; :meth:`classes` gives the
English names (the EN column). A clip listed but absent is counted missing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import DatasetError
from bench.data.listed import ListedClip, ListedIslrDataset, read_csv_rows
from bench.io.atomic import atomic_open
from bench.io.video import write_video
from bench.io.zip_members import ZipMember, resolve

CLASS_LIST = "SignList_ClassId_TR_EN.csv"
LABEL_FILES = {"train": "train_labels.csv", "val": "val/ground_truth.csv", "test": "test/ground_truth.csv"}
SAMPLE_ID = re.compile(r"signer(\d+)_sample(\d+)")


@DATASETS.register("autsl")
class Autsl(ListedIslrDataset):
    """AUTSL: 226 classes; the challenge's train / val / test splits, RGB read, depth path exposed."""

    name = "autsl"
    splits = ("train", "val", "test")
    num_classes = 226
    keypoint_frame_size = (512, 512)
    layout = (f"{CLASS_LIST}, train_labels.csv, val/ground_truth.csv and test/ground_truth.csv "
              "('signerX_sampleY,label' per line, no header) in the root, clips at "
              "<split>/signerX_sampleY_color.mp4 (and _depth.mp4)")

    def _source(self, split: str) -> Path:
        return self.root / LABEL_FILES[split]

    def _read_classes(self) -> list[str]:
        path = self._require(self.root / CLASS_LIST, f"the class list {CLASS_LIST}")
        rows = read_csv_rows(path, 3, f"expected ClassId,TR,EN rows in {CLASS_LIST}")
        if rows and not rows[0][0][0].isdigit():
            rows = rows[1:]  # the header ClassId,TR,EN
        names = []
        for fields, where in rows:
            if fields[0] != str(len(names)):
                raise DatasetError(f"{where}: expected class id {len(names)} (ids in order from 0), found "
                                   f"{fields[0]!r}; expected ClassId,TR,EN rows in {CLASS_LIST}")
            names.append(fields[2])
        if len(names) != self.num_classes:
            raise DatasetError(f"{path}: {len(names)} classes; AUTSL has {self.num_classes}")
        return names

    def _list(self, split: str) -> list[ListedClip]:
        path = self._require(self._source(split), f"the {split} labels {LABEL_FILES[split]}")
        clips = []
        for fields, where in read_csv_rows(path, 2, f"expected {self.layout}"):
            sample_id, label = fields[0], fields[1]
            match = SAMPLE_ID.fullmatch(sample_id)
            if match is None or not label.isdigit():
                raise DatasetError(f"{where}: expected 'signerX_sampleY,label', found {','.join(fields)!r}; "
                                   f"{self.layout}")
            clips.append(ListedClip(sample_id, self.clip(f"{split}/{sample_id}_color.mp4"), int(label), where,
                                    signer=match.group(1),
                                    info={"depth": self.clip(f"{split}/{sample_id}_depth.mp4")}))
        return clips

    def depth_path(self, sample) -> Path | ZipMember:
        """The sample's depth clip (``signerX_sampleY_depth.mp4`` beside the RGB one)."""
        return resolve(self.root, sample.info["depth"])


def write_autsl(root: str | os.PathLike, class_names: Sequence[tuple[str, str]],
                labels_by_split: Mapping[str, Sequence[tuple[str, int]]],
                frames_by_id: Mapping[str, np.ndarray] | None = None, depth: bool = True, fps: int = 30) -> Path:
    """Write an AUTSL release under ``root``: the class list from ``(TR, EN)`` names (with its header), the label
    files of ``labels_by_split`` (``(signerX_sampleY, label)`` rows) and, for ``frames_by_id`` (keys
    ``<split>/signerX_sampleY``), ``_color.mp4`` clips and (``depth``) ``_depth.mp4`` ones of the same frames."""
    root = Path(root)
    with atomic_open(root / CLASS_LIST) as handle:
        handle.write("ClassId,TR,EN\n")
        handle.writelines(f"{i},{tr},{en}\n" for i, (tr, en) in enumerate(class_names))
    for split, rows in labels_by_split.items():
        (root / LABEL_FILES[split]).parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(root / LABEL_FILES[split]) as handle:
            handle.writelines(f"{sample_id},{label}\n" for sample_id, label in rows)
    for key, frames in (frames_by_id or {}).items():
        write_video(root / f"{key}_color.mp4", frames, fps=fps)
        if depth:
            write_video(root / f"{key}_depth.mp4", frames, fps=fps)
    return root
