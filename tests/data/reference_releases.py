"""Release layouts rebuilt in a temporary folder from the shared reference files (../shared/reference/cslr).

The info pickles' ``original_info`` strings are the annotation lines the official preprocessing read, so writing
them back gives the annotation files a user has on disk (no frames). Nothing is copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.io.transcripts import read_stm

# the train row the official PHOENIX-2014 preprocessing drops (index 2390); the reference info has it removed
# already, so a plausible row is put back; its made-up gloss would change the vocabulary if it were kept
BROKEN_PHOENIX_ROW = ("13April_2011_Wednesday_tagesschau_default-14|"
                      "13April_2011_Wednesday_tagesschau_default-14/1/*.png|Signer07|__ON__ WETTER BROKEN-ROW-GLOSS")
PHOENIX_HEADER = "id|folder|signer|annotation"
PHOENIX_T_HEADER = "name|video|start|end|speaker|orth|translation"
VIDEO_MAP_HEADER = "index|name|length|gloss|char|word|postag"


def load_info(path: Path) -> dict:
    """The pickled info dict as saved by the official preprocessing (int keys, maybe a 'prefix' key)."""
    return np.load(path, allow_pickle=True).item()


def info_samples(path: Path) -> list[dict]:
    info = load_info(path)
    return [info[k] for k in sorted(k for k in info if isinstance(k, int))]


def load_gloss_dict(path: Path) -> dict[str, list[int]]:
    return np.load(path, allow_pickle=True).item()


def _write(path: Path, lines: list[str], header: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    path.write_text((header + "\n" if header else "") + text, encoding="utf-8")


def build_phoenix2014(reference: Path, root: Path) -> Path:
    for split in ("train", "dev", "test"):
        lines = [s["original_info"] for s in info_samples(reference / f"{split}_info.npy")]
        if split == "train":
            lines.insert(2390, BROKEN_PHOENIX_ROW)
        _write(root / "annotations" / "manual" / f"{split}.corpus.csv", lines, PHOENIX_HEADER)
    return root


def build_phoenix2014t(reference: Path, root: Path) -> Path:
    for split in ("train", "dev", "test"):
        lines = [s["original_info"] for s in info_samples(reference / f"{split}_info.npy")]
        _write(root / "annotations" / "manual" / f"PHOENIX-2014-T.{split}.corpus.csv", lines, PHOENIX_T_HEADER)
    return root


def build_csl_daily(reference: Path, root: Path) -> Path:
    """video_map.txt from dev/test info lines plus train STM lines (length and text columns made up), name order."""
    lines = {s["fileid"]: s["original_info"] for split in ("dev", "test")
             for s in info_samples(reference / f"{split}_info.npy")}
    for segment in read_stm(reference / "CSL-Daily-groundtruth-train.stm"):
        label = segment.raw.rstrip("\n").split(" ", 5)[5]
        length = 4 * len(segment.words) + 20
        lines[segment.file] = f"{segment.file}|{length}|{label}|{label.replace(' ', '')}|{label}|n\n"
    _write(root / "video_map.txt", [f"{i}|{lines[name]}" for i, name in enumerate(sorted(lines))], VIDEO_MAP_HEADER)
    (root / "split_1.txt").write_text((reference / "split_1.txt").read_text(encoding="utf-8"), encoding="utf-8")
    return root


def build_csl(reference: Path, root: Path) -> Path:
    for split in ("train", "dev"):
        _write(root / f"{split}.txt", [s["original_info"] for s in info_samples(reference / f"{split}_info.npy")])
    return root
