"""SignNet's list files with a label map: the revised WLASL-2000 (ASLLRP relabelling, 1518 or 1573 classes).

Layout under the root (SignNet's ``--data_path`` with the files its scripts name)::

    label_map_wlasl1518.txt          one class name per line, line i = class i (SignNet's ``misc/``; 1573 alike)
    train.csv, val.csv, test.csv     ``<path> <label>`` per line, no header (``VideoClsDataset`` reads them with
                                     ``pd.read_csv(header=None, delimiter=' ')``); labels index the label map
    WLASL2000/<video_id>.mp4         the clips the lists name, relative to the root

The revised sets relabel WLASL-2000's clips: 1518 classes (train 12,477 / test 2,602 clips) or 1573 (12,656 /
2,660); in SignNet's lists the val file equals the test file, so a "val" figure is a test figure. The lists are
not in this repository (they are SignNet's): bring them with the label map. Which of the two sets the paper's
revised figure used is not stated. SignNet's decord loader reads every decoded frame (no frame drop).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from bench.data import DATASETS
from bench.data.cslr import DatasetError
from bench.data.signvlm_lists import SignvlmList


class SignnetList(SignvlmList):
    """Samples of SignNet's ``<split>.csv`` lists, classes from a label map file; video clips."""

    label_map = ""  # the label map's file name in the root
    list_suffix = ".csv"
    official_frame_drop = 0
    release_videos = ""

    def __init__(self, root, videos=None):
        """``videos``: where the listed paths start (default: the root)."""
        super().__init__(root, videos, frames=False)

    def list_path(self, split: str) -> Path:
        """``<split>.csv`` in the root, or the list file a split with a suffix names."""
        return self.root / split if PurePosixPath(split).suffix else self.root / f"{split}{self.list_suffix}"

    def _read_classes(self) -> list[str]:
        path = self._require(self.root / self.label_map, f"the label map {self.label_map}")
        names = path.read_text(encoding="utf-8").splitlines()
        while names and not names[-1].strip():
            names.pop()  # SignNet writes no newline after the last name; a file that has one is the same map
        if len(names) != self.num_classes or not all(n.strip() for n in names):
            raise DatasetError(f"{path}: expected {self.num_classes} class names, one per line, found {len(names)} "
                               f"lines{'' if all(n.strip() for n in names) else ' (some blank)'}")
        return [n.strip() for n in names]


@DATASETS.register("wlasl1518_revised")
class Wlasl1518Revised(SignnetList):
    """Revised WLASL-2000, 1518 classes (``label_map_wlasl1518.txt``); SignNet's lists."""

    name = "wlasl1518_revised"
    num_classes = 1518
    label_map = "label_map_wlasl1518.txt"
    layout = ("label_map_wlasl1518.txt and SignNet's {train,val,test}.csv ('<path> <label>' lines) in the root, "
              "clips at the listed paths (WLASL2000/<video_id>.mp4)")


@DATASETS.register("wlasl1573_revised")
class Wlasl1573Revised(SignnetList):
    """Revised WLASL-2000, 1573 classes (``label_map_wlasl1573.txt``); SignNet's lists."""

    name = "wlasl1573_revised"
    num_classes = 1573
    label_map = "label_map_wlasl1573.txt"
    layout = ("label_map_wlasl1573.txt and SignNet's {train,val,test}.csv ('<path> <label>' lines) in the root, "
              "clips at the listed paths (WLASL2000/<video_id>.mp4)")
