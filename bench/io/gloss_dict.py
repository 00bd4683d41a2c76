"""The CSLR repositories' ``gloss_dict.npy``: ``{gloss: [class id, count]}`` saved by ``np.save`` as a pickled object.

The official code builds its vocabulary from this file (``preprocess/<dataset>/gloss_dict.npy``), so a user with an
official checkpoint and one split's data has it even without the other splits' annotations. It is read with a
restricted unpickler: only numpy's array reconstruction and plain dicts, lists, strings and integers, so a file
from anywhere cannot run code.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

BLANK = "<blank>"  # class id 0, the CTC blank (the official decoders' blank_id=0)
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype")}


class _NumpyObjectUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing {module}.{name}: a gloss_dict.npy holds only a dict of lists")


def read_gloss_dict(path: str | os.PathLike) -> dict[int, str]:
    """Class id -> gloss, with 0 -> ``<blank>``, from an official ``gloss_dict.npy``; errors name the file."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            version = npy_format.read_magic(handle)
            read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
            shape, _, dtype = read_header(handle)
            if dtype != np.dtype(object) or shape != ():
                raise ValueError(f"a 0-d object array, found shape {shape} of {dtype}")
            array = _NumpyObjectUnpickler(io.BytesIO(handle.read())).load()
        table = array.item() if isinstance(array, np.ndarray) else array
        ids = {int(entry[0]): str(gloss) for gloss, entry in table.items()}
    except (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError, TypeError, IndexError) as err:
        raise ValueError(f"{path}: expected the official gloss_dict.npy ({{gloss: [class id, count]}} saved with "
                         f"np.save): {err}") from err
    if sorted(ids) != list(range(1, len(ids) + 1)):
        raise ValueError(f"{path}: expected class ids 1..{len(ids)} (0 is the blank), found "
                         f"{sorted(set(range(1, len(ids) + 1)) - set(ids))[:5]} missing")
    return {0: BLANK, **dict(sorted(ids.items()))}
