"""ASL-Citizen (Microsoft, 2023): 83,399 clips of 2,731 ASL glosses by 52 signers, read from the release.

Layout under the root (the release as downloaded)::

    splits/train.csv, splits/val.csv, splits/test.csv
        header ``Participant ID,Video file,Gloss,ASL-LEX Code``; one row per clip (train 40,154 / val 10,304 /
        test 32,941; the signers of the three splits are disjoint)
    videos/<id>-<GLOSS>.mp4
        the clip a row's ``Video file`` names (the name's gloss part is not the label: some carry a ``seed``
        prefix or a variant number; the Gloss column is)

Class index = position in the sorted unique glosses of ``splits/train.csv`` (the release's code and SignNet's
2,731-class head). A sample's id is its video file's stem, its signer the Participant ID (so a report can give
per-signer accuracy), its ``info`` the ASL-LEX code. A gloss of val/test absent from train is an error naming the
file and line. The paper's extra metrics are top-10/top-20, DCG and MRR (``metric_ks`` and ``rank_metrics``).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Mapping, Sequence

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import DatasetError
from bench.data.listed import ListedClip, ListedIslrDataset, read_csv_rows
from bench.io.atomic import atomic_open
from bench.io.video import write_video

SPLITS = ("train", "val", "test")
COLUMNS = ("Participant ID", "Video file", "Gloss", "ASL-LEX Code")


@DATASETS.register("asl_citizen")
class AslCitizen(ListedIslrDataset):
    """ASL-Citizen: 2,731 glosses in sorted train order; signer-independent train / val / test."""

    name = "asl_citizen"
    splits = SPLITS
    num_classes = 2731
    release_videos = "videos"
    metric_ks = (10, 20)  # the paper's top-10 and top-20, beside the card's top-k
    rank_metrics = ("dcg", "mrr")
    per_signer = True
    layout = ("splits/{train,val,test}.csv (header 'Participant ID,Video file,Gloss,ASL-LEX Code') and "
              "videos/<Video file> under the root")

    def _source(self, split: str) -> Path:
        return self.root / "splits" / f"{split}.csv"

    def _read_classes(self) -> list[str]:
        return sorted({gloss for _id, _file, gloss, _signer, _lex, _where in self._rows("train")})

    def _list(self, split: str) -> list[ListedClip]:
        index = {gloss: i for i, gloss in enumerate(self.classes())}
        clips = []
        for sample_id, video, gloss, signer, lex, where in self._rows(split):
            if gloss not in index:
                raise DatasetError(f"{where}: sample {sample_id!r} has the gloss {gloss!r}, which no train row has "
                                   f"(classes are the sorted glosses of splits/train.csv); check that the split "
                                   f"files belong together")
            clips.append(ListedClip(sample_id, self.clip(video), index[gloss], where, signer=signer,
                                    info={"asl_lex_code": lex}))
        return clips

    def _rows(self, split: str) -> list[tuple[str, str, str, str, str, str]]:
        """``(id, video file, gloss, signer, ASL-LEX code, "file:line")`` of a split file, read once."""
        if split not in self._split_rows:
            path = self._require(self._source(split), f"the {split} split splits/{split}.csv")
            rows = read_csv_rows(path, 1, f"expected {self.layout}")
            header, body = (rows[0][0], rows[1:]) if rows else ([], [])
            missing = [c for c in COLUMNS[:3] if c not in header]
            if missing:
                raise DatasetError(f"{path}:1: expected the header {','.join(COLUMNS)}, found {','.join(header)!r} "
                                   f"(missing {', '.join(missing)})")
            at = [header.index(c) for c in COLUMNS[:3]]
            lex = header.index(COLUMNS[3]) if COLUMNS[3] in header else None
            parsed = []
            for fields, where in body:
                if len(fields) <= max(at) or not fields[at[1]] or not fields[at[2]]:
                    raise DatasetError(f"{where}: expected {len(header)} fields ({','.join(header)}) with a video "
                                       f"file and a gloss, found {fields!r}")
                video = fields[at[1]]
                stem = PurePosixPath(video).name.removesuffix(".mp4")
                parsed.append((stem, video, fields[at[2]], fields[at[0]],
                               fields[lex] if lex is not None and lex < len(fields) else "", where))
            self._split_rows[split] = parsed
        return self._split_rows[split]

    @cached_property
    def _split_rows(self) -> dict[str, list]:
        return {}


def write_asl_citizen(root: str | os.PathLike, rows_by_split: Mapping[str, Sequence[tuple[str, str, str, str]]],
                      frames_by_file: Mapping[str, np.ndarray] | None = None, fps: int = 30) -> Path:
    """Write an ASL-Citizen release under ``root``: ``splits/<split>.csv`` (the release's header) from
    ``(participant, video file, gloss, ASL-LEX code)`` rows and ``videos/<file>`` (H.264) for ``frames_by_file``."""
    root = Path(root)
    (root / "splits").mkdir(parents=True, exist_ok=True)
    for split, rows in rows_by_split.items():
        with atomic_open(root / "splits" / f"{split}.csv") as handle:
            handle.write(",".join(COLUMNS) + "\n")
            handle.writelines(",".join(row) + "\n" for row in rows)
    for name, frames in (frames_by_file or {}).items():
        write_video(root / "videos" / name, frames, fps=fps)
    return root
