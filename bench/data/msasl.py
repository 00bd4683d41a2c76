"""MS-ASL-100/200/500/1000: the JSON release plus the clips' frames as the user extracted them.

MS-ASL ships annotations only (YouTube URLs with the sign's frame range); NLA-SLR reads each clip as PNG frames
``{:04d}.png`` numbered from 0 (lossless, so no decoder differences). The layout read here::

    MSASL_classes.json                        the 1000 glosses, frequency order (as released)
    MSASL_{train,val,test}.json               [{"label", "clean_text", "url", "start", "end", "fps", "signer_id", ...}]
    frames/{split}/{index:05d}/0000.png ...   clip ``index`` (0-based position in MSASL_{split}.json): frames
                                              ``start .. end`` of the downloaded video, renumbered from 0000

(e.g. ``ffmpeg -i <video> -vf "select=between(n\\,START\\,END)" -vsync 0 -start_number 0 %04d.png``). A sample's
id is ``{split}/{index:05d}``. Vocabulary: the first N glosses of ``MSASL_classes.json``; a subset keeps the
clips whose ``label`` is below N (NLA-SLR keeps clips whose gloss is in that vocabulary).

NLA-SLR's data package is read too (layout detected; see :mod:`bench.data.isolated`): ``MSASL_classes.json``,
``{train,dev,test}.pkl`` (``label`` = gloss; records whose gloss is outside the first N are dropped, as the official
loader does) and ``msasl_frames1.zip`` holding ``<video_file>0000.png ...``; the frame count is ``seq_len``.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import DatasetError
from bench.data.isolated import IslrDataset, IslrSample, load_json, write_frame_folder, write_json

SPLITS = ("train", "val", "test")
SUBSETS = (100, 200, 500, 1000)
CLASSES_FILE = "MSASL_classes.json"
FRAME_PATTERN = "{:04d}.png"


class _MsAsl(IslrDataset):
    """What the four MS-ASL subsets share; a subclass only sets ``num_classes`` and ``name``."""

    splits = SPLITS
    storage = "frames"
    frame_pattern = FRAME_PATTERN
    layout = (f"{CLASSES_FILE} and MSASL_{{train,val,test}}.json in the root, clip frames at "
              f"frames/<split>/<index:05d>/{FRAME_PATTERN.format(0)}... (index = position in the split's JSON)")
    release_videos = "frames"
    package_zip = "msasl_frames1.zip"
    package_extra_files = f", {CLASSES_FILE}"

    def split_file(self, split: str) -> Path:
        return self.root / f"MSASL_{split}.json"

    def _release_marker(self) -> Path:
        return self.split_file("train")

    def _read_package_classes(self) -> list[str]:
        return self._read_classes()  # the first N of MSASL_classes.json in both layouts

    def _package_keeps(self, record) -> bool:
        return record["label"] in self._vocabulary  # the official loader drops glosses outside the first N

    @cached_property
    def _vocabulary(self) -> set[str]:
        return set(self.classes())

    def _read_classes(self) -> list[str]:
        return self._all_classes[:self.num_classes]

    @cached_property
    def _all_classes(self) -> list[str]:
        path = self._require(self.root / CLASSES_FILE, f"the class list {CLASSES_FILE}")
        classes = load_json(path)
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise DatasetError(f"{path}: expected a JSON list of glosses")
        if len(classes) < self.num_classes:
            raise DatasetError(f"{path}: {len(classes)} glosses, fewer than the {self.num_classes} of {self.name}")
        return classes

    def _read_split(self, split: str) -> list[IslrSample]:
        path = self._require(self.split_file(split), f"the {split} annotation MSASL_{split}.json")
        entries = load_json(path)
        if not isinstance(entries, list):
            raise DatasetError(f"{path}: expected a JSON list of clip records")
        classes, records = self._all_classes, []
        for index, entry in enumerate(entries):
            label = entry.get("label") if isinstance(entry, dict) else None
            if not isinstance(label, int) or not 0 <= label < len(classes):
                raise DatasetError(f"{path}: record {index} has label {label!r}; expected an index into the "
                                   f"{len(classes)} glosses of {CLASSES_FILE}")
            if label >= self.num_classes:
                continue
            sample_id = f"{split}/{index:05d}"
            signer = entry.get("signer_id")
            records.append((sample_id, self.clip(sample_id), classes[label],
                            {"frame_start": entry.get("start"), "frame_end": entry.get("end"),
                             "signer": None if signer is None else str(signer), "info": dict(entry)}))
        return self._labelled(split, records, path)


@DATASETS.register("msasl100")
class MsAsl100(_MsAsl):
    """MS-ASL-100: the first 100 glosses of MSASL_classes.json."""

    name = "msasl100"
    num_classes = 100


@DATASETS.register("msasl200")
class MsAsl200(_MsAsl):
    """MS-ASL-200: the first 200 glosses of MSASL_classes.json."""

    name = "msasl200"
    num_classes = 200


@DATASETS.register("msasl500")
class MsAsl500(_MsAsl):
    """MS-ASL-500: the first 500 glosses of MSASL_classes.json."""

    name = "msasl500"
    num_classes = 500


@DATASETS.register("msasl1000")
class MsAsl1000(_MsAsl):
    """MS-ASL-1000: all 1000 glosses of MSASL_classes.json."""

    name = "msasl1000"
    num_classes = 1000


def write_msasl(root: str | os.PathLike, classes: Sequence[str], entries_by_split: Mapping[str, Sequence[Mapping]],
                frames_by_id: Mapping[str, np.ndarray] | None = None, frames: str = "frames") -> Path:
    """Write an MS-ASL release under ``root``: the class list, ``MSASL_{split}.json`` (each entry needs ``label``;
    ``clean_text``, ``start``, ``end``, ``fps``, ``signer_id``, ``url`` are filled in when absent) and PNG frames
    for ``frames_by_id`` (keys ``{split}/{index:05d}``)."""
    root = Path(root)
    write_json(root / CLASSES_FILE, list(classes))
    for split, entries in entries_by_split.items():
        rows = []
        for index, entry in enumerate(entries):
            clip = (frames_by_id or {}).get(f"{split}/{index:05d}")
            rows.append({"clean_text": classes[entry["label"]], "text": classes[entry["label"]], "start": 0,
                         "end": len(clip) - 1 if clip is not None else 0, "fps": 30.0, "signer_id": 0,
                         "url": f"https://www.youtube.com/watch?v={split}{index:06d}", **entry})
        write_json(root / f"MSASL_{split}.json", rows)
    for sample_id, clip in (frames_by_id or {}).items():
        write_frame_folder(root / frames / sample_id, clip, FRAME_PATTERN)
    return root

