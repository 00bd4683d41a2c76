"""WLASL-100/300/1000/2000, read from the release as NLA-SLR uses it.

Layout under the root (the WLASL repository's files and the ``videos/`` folder its start kit writes)::

    nslt_{100,300,1000,2000}.json   {video_id: {"subset": train|val|test, "action": [class, start, end]}}
                                    (WLASL repo: code/I3D/preprocess/); the split and subset definition
    WLASL_v0.3.json                 [{"gloss", "instances": [{"video_id", "split", "signer_id", ...}]}, ...]
    wlasl_class_list.txt            idx<TAB>gloss (used for gloss names when WLASL_v0.3.json is absent)
    videos/<video_id>.mp4           one clip per sample, already cut to the sign (start_kit/preprocess.py)

NLA-SLR's data package is read too (layout detected; see :mod:`bench.data.isolated`)::

    train.pkl, dev.pkl, test.pkl    [{"name": video_id, "label": gloss, "seq_len", "video_file"}, ...] (gzip'd or not)
    {100,300,1000,2000}.json        the subset filter, byte-identical to nslt_{N}.json
    WLASL2000.zip                   WLASL2000/<video_id>.mp4, read in place

As the official ``load_annotations``: a subset keeps the records whose ``name`` is in ``<N>.json`` and whose
``video_file`` does not contain "augmentation"; the vocabulary is ``sorted(set(train labels))`` of those; the clip
is ``<name>.mp4`` in the zip; the frame count is ``seq_len - 2`` (seq_len wins over the container).

``action[0]`` indexes the release's class order (frequency order, the order of ``WLASL_v0.3.json``). NLA-SLR
relabels: its vocabulary is ``sorted(set(train glosses))`` of the subset. The class list spells class 163
"losear" (a typo for "lose"); it is corrected on read (``fix_typos``), which leaves the sorted order unchanged.
Frame count: the official loader uses ``decoded length - 2`` (a lintel bug with mp4 tails) and reads frames
``0 .. vlen - 1``; the annotation's start/end frames refer to the source video and are kept as metadata only.
WLASL-2000 test names 2879 clips; 09500 (the only test clip of "caterpillar") is commonly unavailable, so the
usual 2878 leave that class without a test sample.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from bench.data import DATASETS
from bench.data.cslr import DatasetError
from bench.data.isolated import RELEASE, IslrDataset, IslrSample, load_json, sorted_train_vocabulary, write_json
from bench.io.atomic import atomic_open
from bench.io.nla_slr_annotations import write_annotation_pickle
from bench.io.video import write_video

SPLITS = ("train", "val", "test")
SUBSETS = (100, 300, 1000, 2000)
CLASS_LIST_TYPOS = {"losear": "lose"}  # wlasl_class_list.txt index 163
RELEASE_JSON = "WLASL_v0.3.json"
CLASS_LIST = "wlasl_class_list.txt"


class _Wlasl(IslrDataset):
    """What the four WLASL subsets share; a subclass only sets ``num_classes`` and ``name``."""

    splits = SPLITS
    official_frame_drop = 2
    layout = (f"nslt_{{N}}.json and {RELEASE_JSON} (or {CLASS_LIST}) in the root, videos/<video_id>.mp4 "
              f"(the WLASL start kit's output)")
    package_zip = "WLASL2000.zip"
    package_extra_files = ", <N>.json"

    def __init__(self, root: str | os.PathLike, videos: str | os.PathLike | None = None, fix_typos: bool = True):
        """``videos``: the clips folder or zip (default ``videos`` / ``WLASL2000.zip``); ``fix_typos``: correct
        the class list's "losear"."""
        super().__init__(root, videos)
        self.fix_typos = fix_typos

    @property
    def split_file(self) -> Path:
        """The subset's split file: ``nslt_{N}.json`` (release) or its copy ``{N}.json`` (NLA-SLR's package)."""
        package = self.layout_read != RELEASE
        return self.root / (f"{self.num_classes}.json" if package else f"nslt_{self.num_classes}.json")

    def _release_marker(self) -> Path:
        return self.root / f"nslt_{self.num_classes}.json"

    def _package_keeps(self, record: Mapping[str, Any]) -> bool:
        return "augmentation" not in record["video_file"] and record["name"] in self._nslt  # as load_annotations

    def _package_clip(self, record: Mapping[str, Any]) -> str:
        return f"{record['name']}.mp4"  # the official loader opens WLASL2000/<name>.mp4, ignoring video_file

    def release_glosses(self) -> list[str]:
        """The gloss of each release class index (frequency order): ``WLASL_v0.3.json``, else the class list."""
        return list(self._release[0])

    def _read_classes(self) -> list[str]:
        glosses = self.release_glosses()
        return sorted_train_vocabulary(glosses[self._class_index(vid, entry)]
                                       for vid, entry in self._nslt.items() if entry["subset"] == "train")

    def _read_split(self, split: str) -> list[IslrSample]:
        entries = self._nslt  # the split file first: it is what a user most likely lacks
        glosses, instances, _source = self._release
        records = []
        for vid, entry in entries.items():
            if entry["subset"] != split:
                continue
            release_class, start, end = entry["action"]
            info = {"release_class": release_class, **instances.get(vid, {})}
            signer = info.get("signer_id")
            records.append((vid, self.clip(f"{vid}.mp4"), glosses[self._class_index(vid, entry)],
                            {"frame_start": start, "frame_end": end, "info": info,
                             "signer": None if signer is None else str(signer)}))
        return self._labelled(split, records, self.split_file)

    def _class_index(self, vid: str, entry: Mapping[str, Any]) -> int:
        index = entry["action"][0]
        if not 0 <= index < len(self._release[0]):
            raise DatasetError(f"{self.split_file}: {vid!r} has class {index}, outside the {len(self._release[0])} "
                               f"glosses of {self._release[2]}")
        return index

    @cached_property
    def _nslt(self) -> dict[str, dict[str, Any]]:
        path = self._require(self.split_file, f"the split file {self.split_file.name}")
        data = load_json(path)
        if not isinstance(data, dict):
            raise DatasetError(f"{path}: expected an object {{video_id: {{subset, action}}}}, "
                               f"found {type(data).__name__}")
        for vid, entry in data.items():
            action = entry.get("action") if isinstance(entry, dict) else None
            if (not isinstance(action, list) or len(action) != 3 or not all(isinstance(a, int) for a in action)
                    or entry.get("subset") not in SPLITS):
                raise DatasetError(f"{path}: entry {vid!r} is {entry!r}; expected {{\"subset\": one of {SPLITS}, "
                                   f"\"action\": [class, start_frame, end_frame]}}")
        return data

    @cached_property
    def _release(self) -> tuple[list[str], dict[str, dict[str, Any]], Path]:
        """(gloss per release class, instance fields per video_id, the file the glosses came from)."""
        fix = CLASS_LIST_TYPOS if self.fix_typos else {}
        path = self.root / RELEASE_JSON
        if path.is_file():
            data = load_json(path)
            try:
                glosses = [fix.get(entry["gloss"], entry["gloss"]) for entry in data]
                instances = {inst["video_id"]: {k: v for k, v in inst.items() if k != "video_id"}
                             for entry in data for inst in entry["instances"]}
            except (TypeError, KeyError) as error:
                raise DatasetError(f"{path}: expected a list of {{\"gloss\", \"instances\": [{{\"video_id\", ...}}]}}"
                                   f" ({error!r})") from None
            return glosses, instances, path
        path = self._require(self.root / CLASS_LIST, f"{RELEASE_JSON} or {CLASS_LIST}")
        glosses = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            index, _, gloss = line.partition("\t")
            if not index.isdigit() or int(index) != len(glosses) or not gloss:
                raise DatasetError(f"{path}:{number}: expected '{len(glosses)}<TAB>gloss', found {line!r}")
            glosses.append(fix.get(gloss, gloss))
        return glosses, {}, path


@DATASETS.register("wlasl100")
class Wlasl100(_Wlasl):
    """WLASL-100 (nslt_100.json): train 1442, val 338, test 258 clips named."""

    name = "wlasl100"
    num_classes = 100


@DATASETS.register("wlasl300")
class Wlasl300(_Wlasl):
    """WLASL-300 (nslt_300.json): train 3549, val 901, test 668 clips named."""

    name = "wlasl300"
    num_classes = 300


@DATASETS.register("wlasl1000")
class Wlasl1000(_Wlasl):
    """WLASL-1000 (nslt_1000.json): train 8978, val 2320, test 1876 clips named."""

    name = "wlasl1000"
    num_classes = 1000


@DATASETS.register("wlasl2000")
class Wlasl2000(_Wlasl):
    """WLASL-2000 (nslt_2000.json): train 14296, val 3920, test 2879 clips named (2878 commonly available)."""

    name = "wlasl2000"
    num_classes = 2000


class _WlaslSignnet(_Wlasl):
    """A WLASL subset as SignNet's code labels it (``wlasl<N>_signnet``): the same release, read with its facts.

    SignNet (``data_preprocessing/create_wlasl_config.py``) sorts the clips into one folder per gloss, turns spaces
    into ``_`` and labels a clip by the index of its folder in the sorted train folder names
    (``misc/label_map_wlasl2000.txt``); a subset's labels are alphabetical within the subset. Here: the class
    names are the glosses with ``_`` for spaces, sorted. On WLASL this order equals NLA-SLR's (no gloss pair sorts
    differently with ``_`` than with a space: checked against the label map for all 2000 classes), so labels agree
    with ``wlasl<N>``; the spelling differs, and the frame count: SignNet's decord loader uses every decoded frame
    (no ``len - 2`` drop, which is NLA-SLR's lintel quirk).
    """

    official_frame_drop = 0

    def _read_classes(self) -> list[str]:
        return sorted({signnet_folder(g) for g in super()._read_classes()})

    def _read_package_classes(self) -> list[str]:
        return sorted({signnet_folder(g) for g in super()._read_package_classes()})

    def _labelled(self, split, records, source):
        return super()._labelled(split, [(i, v, signnet_folder(g), f) for i, v, g, f in records], source)


def signnet_folder(gloss: str) -> str:
    """SignNet's class folder name of a WLASL gloss: spaces turned into ``_``."""
    return gloss.replace(" ", "_")


@DATASETS.register("wlasl100_signnet")
class Wlasl100Signnet(_WlaslSignnet):
    """WLASL-100 as SignNet labels it (alphabetical within the subset, spaces as ``_``)."""

    name = "wlasl100_signnet"
    num_classes = 100


@DATASETS.register("wlasl300_signnet")
class Wlasl300Signnet(_WlaslSignnet):
    """WLASL-300 as SignNet labels it."""

    name = "wlasl300_signnet"
    num_classes = 300


@DATASETS.register("wlasl1000_signnet")
class Wlasl1000Signnet(_WlaslSignnet):
    """WLASL-1000 as SignNet labels it."""

    name = "wlasl1000_signnet"
    num_classes = 1000


@DATASETS.register("wlasl2000_signnet")
class Wlasl2000Signnet(_WlaslSignnet):
    """WLASL-2000 as SignNet labels it (``label_map_wlasl2000.txt``)."""

    name = "wlasl2000_signnet"
    num_classes = 2000


def write_wlasl(root: str | os.PathLike, glosses: Sequence[str], instances: Sequence[Mapping[str, Any]],
                frames_by_id: Mapping[str, np.ndarray] | None = None, subsets: Sequence[int] = SUBSETS,
                fps: int = 25) -> Path:
    """Write a WLASL release under ``root``: ``WLASL_v0.3.json``, ``wlasl_class_list.txt``, ``nslt_{N}.json`` for
    each of ``subsets`` (the instances of the first N ``glosses``) and ``videos/<video_id>.mp4`` (H.264) for
    ``frames_by_id``. ``glosses`` is the release (frequency) order; each instance has ``video_id``, ``gloss`` and
    ``split``, optionally ``frame_start`` (default 1), ``frame_end`` (default: its frame count, else -1),
    ``signer_id``."""
    root, frames_by_id = Path(root), frames_by_id or {}
    index = {gloss: i for i, gloss in enumerate(glosses)}
    rows = []
    for inst in instances:
        frames = frames_by_id.get(inst["video_id"])
        end = inst.get("frame_end", len(frames) if frames is not None else -1)
        rows.append({"video_id": inst["video_id"], "gloss": inst["gloss"], "split": inst["split"],
                     "frame_start": inst.get("frame_start", 1), "frame_end": end,
                     "signer_id": inst.get("signer_id", 0), "fps": fps})
    release = [{"gloss": g, "instances": [{k: v for k, v in r.items() if k != "gloss"}
                                          for r in rows if r["gloss"] == g]} for g in glosses]
    write_json(root / RELEASE_JSON, release)
    with atomic_open(root / CLASS_LIST) as handle:
        handle.writelines(f"{i}\t{g}\n" for i, g in enumerate(glosses))
    for size in subsets:
        write_json(root / f"nslt_{size}.json", {
            r["video_id"]: {"subset": r["split"], "action": [index[r["gloss"]], r["frame_start"], r["frame_end"]]}
            for r in rows if index[r["gloss"]] < size})
    for vid, frames in frames_by_id.items():
        write_video(root / "videos" / f"{vid}.mp4", frames, fps=fps)
    return root



def write_nla_slr_package(release: _Wlasl, out: str | os.PathLike,
                          seq_lens: Mapping[str, int] | None = None) -> Path:
    """Write the clips and splits of a WLASL ``release`` (read in its release layout) as NLA-SLR's data package
    under ``out``: ``WLASL2000.zip`` (``WLASL2000/<id>.mp4``, the same bytes), ``train/dev/test.pkl`` (gzip'd
    ``{name, label, seq_len, video_file}`` records of the clips present) and ``<N>.json`` copies of every
    ``nslt_<N>.json``. ``seq_len``: the stored frame count (what the official tools counted), or ``seq_lens[id]``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    members: dict[str, Path] = {}
    for split, pickle_name in release.package_files.items():
        records = []
        for sample in release.samples(split):
            path = release.video_path(sample)
            if not path.is_file():
                continue  # a dead link: the official package holds only downloaded clips
            member = f"WLASL2000/{sample.id}.mp4"
            members[member] = path
            count = (seq_lens or {}).get(sample.id, release.stored_frame_count(sample))
            records.append({"name": sample.id, "label": sample.gloss, "seq_len": count, "video_file": member})
        write_annotation_pickle(out / pickle_name, records)
    partial = out / f".{release.package_zip}.tmp"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, path in sorted(members.items()):
            archive.write(path, member)
    os.replace(partial, out / release.package_zip)
    for split_file in release.root.glob("nslt_*.json"):
        shutil.copyfile(split_file, out / split_file.name.removeprefix("nslt_"))
    return out
