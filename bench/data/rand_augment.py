"""EVL / SignVLM's training RandAugment (``rand-m7-n4-mstd0.5-inc1``), one set of draws for a whole clip.

The official code (``video_dataset/rand_augment.py`` of OpenGVLab/efficient-video-recognition, SlowFast's video
port of timm's ``auto_augment.py``) is followed draw for draw; this is a rewrite, nothing of it is copied.

Per clip (``create_random_augment`` builds a fresh transform for every ``__getitem__``):

- the ``n`` ops are chosen with ``np.random.choice(ops, n)``: uniform, *with* replacement (no ``w`` weights);
- each chosen op, in order, is skipped when ``random.random() > 0.5``; otherwise its magnitude is
  ``random.gauss(m, mstd)`` (drawn only when ``mstd > 0``) clipped to [0, 10], and ops with a signed range draw
  their sign with ``random.random() > 0.5`` (negative); the op is then applied to every frame with these values;
- the fill colour of the geometric ops is (128, 128, 128) (``img_mean`` is never set); their resampling is fixed
  by ``--interpolation`` (default ``bicubic``; ``bilinear``; ``random`` draws ``random.choice((BILINEAR,
  BICUBIC))`` again for every frame and every geometric op);
- ``translate_const`` (absolute translation) is set by the dataset but unused: the sets translate relatively.

The ops (``inc1`` names; the plain set has ``Posterize``, ``Solarize``, ``Color``, ... in the same places), with
``s = magnitude / 10`` and ``+-`` a drawn sign:

- AutoContrast, Equalize, Invert: ``ImageOps.autocontrast`` / ``equalize`` / ``invert`` (Invert is in both sets);
- Rotate: ``img.rotate(+-30 s)``;
- PosterizeIncreasing: ``ImageOps.posterize`` keeping ``4 - int(4 s)`` bits (plain: ``int(4 s)``); 0 bits (a black
  frame, as Pillow 9 gave the official code; Pillow 13 raises) is reached at magnitude 10 only (plain: below 2.5);
- SolarizeIncreasing: ``ImageOps.solarize`` at threshold ``256 - int(256 s)`` (plain: ``int(256 s)``);
- SolarizeAdd: ``+int(110 s)``, saturating at 255, to values below 128;
- Color-, Contrast-, Brightness-, SharpnessIncreasing: ``ImageEnhance.*`` at ``1 +- 0.9 s`` (plain: ``1.8 s + 0.1``,
  no sign draw);
- ShearX, ShearY: affine ``(1, +-0.3 s, 0, 0, 1, 0)`` / ``(1, 0, 0, +-0.3 s, 1, 0)``;
- TranslateXRel, TranslateYRel: affine shift by ``+-0.45 s`` times the width / height.

Frames: the dataset turns uint8 frames into ``x / 255`` floats, ``ToPILImage`` turns those back with
``mul(255).byte()``, and ``ToTensor`` divides by 255 again. For all 256 values ``float32(x / 255) * 255`` is
exactly ``x`` (checked in the tests), so working on uint8 frames here is exact: ours / 255 is the official tensor.

Parser differences: the official parser silently ignores parts it does not know and reads ``inc0`` as
``bool("0") = True`` (the increasing set); here both raise a ``ValueError``, as does ``w`` (weighted choice,
unused by SignVLM).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

MAX_LEVEL = 10.0
FILL = (128, 128, 128)
APPLY_PROBABILITY = 0.5
RESAMPLE = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
OPS = ("AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "Solarize", "SolarizeAdd", "Color", "Contrast",
       "Brightness", "Sharpness", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel")
_HAS_INCREASING = {"Posterize", "Solarize", "Color", "Contrast", "Brightness", "Sharpness"}
_ENHANCERS = {"Color": ImageEnhance.Color, "Contrast": ImageEnhance.Contrast,
              "Brightness": ImageEnhance.Brightness, "Sharpness": ImageEnhance.Sharpness}
_GEOMETRIC = {"Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel"}


@dataclass(frozen=True)
class RandAugmentSpec:
    """A parsed ``rand-...`` string; the defaults are the official ones (``rand`` alone: m10, n2, no noise)."""

    magnitude: int = 10
    num_ops: int = 2
    magnitude_std: float = 0.0
    increasing: bool = False

    @property
    def ops(self) -> tuple[str, ...]:
        """The op names to choose from, in the official list order (the order ``np.random.choice`` indexes)."""
        return tuple(f"{name}Increasing" if self.increasing and name in _HAS_INCREASING else name for name in OPS)


def parse_rand_augment(spec: str) -> RandAugmentSpec:
    """Parse a timm-style string such as ``rand-m7-n4-mstd0.5-inc1`` (parts after ``rand`` in any order)."""
    parts = spec.split("-")
    if parts[0] != "rand":
        raise ValueError(f"RandAugment spec {spec!r}: must start with 'rand', found {parts[0]!r}")
    fields: dict = {}
    for part in parts[1:]:
        match = re.fullmatch(r"([a-z]+)(\d.*)", part)
        key, value = match.groups() if match else (part, "")
        try:
            if key == "m":
                fields["magnitude"] = int(value)
            elif key == "n" and int(value) >= 0:
                fields["num_ops"] = int(value)
            elif key == "mstd" and float(value) >= 0:
                fields["magnitude_std"] = float(value)
            elif key == "inc" and value == "1":
                fields["increasing"] = True
            else:
                raise ValueError
        except ValueError:
            hint = (" (the official code reads inc0 as the increasing set too; write inc1 or leave inc out)"
                    if key == "inc" else "")
            raise ValueError(f"RandAugment spec {spec!r}: cannot read part {part!r}; expected m<int>, n<int >= 0>, "
                             f"mstd<float >= 0> or inc1{hint}") from None
    return RandAugmentSpec(**fields)


def rand_augment_clip(frames: np.ndarray, spec: RandAugmentSpec, rng: random.Random,
                      nprng: np.random.Generator | np.random.RandomState,
                      interpolation: str = "bicubic") -> np.ndarray:
    """RandAugment ``frames`` (uint8 ``[T, H, W, 3]``) with one set of draws for the whole clip.

    ``rng`` plays the official global ``random`` (apply, magnitude, sign and ``random`` interpolation draws),
    ``nprng`` the global ``np.random`` (op choice); a ``np.random.RandomState`` seeded as ``np.random.seed`` gives
    the official op choices. ``interpolation``: ``bicubic`` (EVL's default), ``bilinear`` or ``random``.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"rand_augment_clip: expected uint8 frames [T, H, W, 3], found {frames.dtype} "
                         f"{tuple(frames.shape)}")
    if interpolation not in RESAMPLE and interpolation != "random":
        raise ValueError(f"rand_augment_clip: interpolation {interpolation!r}; expected bicubic, bilinear or random")
    names = spec.ops
    images = [Image.fromarray(frame) for frame in frames]
    for index in nprng.choice(len(names), spec.num_ops, replace=True):
        name = names[index]
        if rng.random() > APPLY_PROBABILITY:
            continue
        magnitude = rng.gauss(spec.magnitude, spec.magnitude_std) if spec.magnitude_std > 0 else spec.magnitude
        magnitude = min(MAX_LEVEL, max(0, magnitude))
        argument = _level_argument(name, magnitude, rng)
        images = [_apply(name, image, argument, _resample(name, interpolation, rng)) for image in images]
    out = np.empty_like(frames)
    for t, image in enumerate(images):
        out[t] = np.asarray(image)
    return out


def _signed(value: float, rng: random.Random) -> float:
    return -value if rng.random() > 0.5 else value


def _level_argument(name: str, level: float, rng: random.Random) -> float | int | None:
    """The op's argument at ``level`` in [0, 10], computed in the official order of float operations."""
    base = name.removesuffix("Increasing")
    increasing = name != base
    if base in ("AutoContrast", "Equalize", "Invert"):
        return None
    if base == "Rotate":
        return _signed((level / MAX_LEVEL) * 30.0, rng)
    if base == "Posterize":
        bits = int((level / MAX_LEVEL) * 4)
        return 4 - bits if increasing else bits
    if base == "Solarize":
        threshold = int((level / MAX_LEVEL) * 256)
        return 256 - threshold if increasing else threshold
    if base == "SolarizeAdd":
        return int((level / MAX_LEVEL) * 110)
    if base in _ENHANCERS:
        return 1.0 + _signed((level / MAX_LEVEL) * 0.9, rng) if increasing else (level / MAX_LEVEL) * 1.8 + 0.1
    if base in ("ShearX", "ShearY"):
        return _signed((level / MAX_LEVEL) * 0.3, rng)
    return _signed((level / MAX_LEVEL) * 0.45, rng)  # TranslateXRel, TranslateYRel


def _resample(name: str, interpolation: str, rng: random.Random) -> int | None:
    # the official draws the random interpolation per frame, and only for the geometric ops
    if name not in _GEOMETRIC:
        return None
    return rng.choice((Image.BILINEAR, Image.BICUBIC)) if interpolation == "random" else RESAMPLE[interpolation]


def _apply(name: str, image: Image.Image, argument, resample: int | None) -> Image.Image:
    """One op on one RGB image with the Pillow calls the official code makes."""
    base = name.removesuffix("Increasing")
    if base == "AutoContrast":
        return ImageOps.autocontrast(image)
    if base == "Equalize":
        return ImageOps.equalize(image)
    if base == "Invert":
        return ImageOps.invert(image)
    if base == "Posterize":
        mask = ~(2 ** (8 - argument) - 1)  # ImageOps.posterize's table, which Pillow 13 refuses for 0 bits
        return image.point([i & mask for i in range(256)] * 3)
    if base == "Solarize":
        return ImageOps.solarize(image, argument)
    if base == "SolarizeAdd":
        lut = [min(255, i + argument) if i < 128 else i for i in range(256)]
        return image.point(lut * 3)  # one table per RGB channel
    if base in _ENHANCERS:
        return _ENHANCERS[base](image).enhance(argument)
    if base == "Rotate":
        return image.rotate(argument, resample=resample, fillcolor=FILL)
    width, height = image.size
    matrix = {"ShearX": (1, argument, 0, 0, 1, 0), "ShearY": (1, 0, 0, argument, 1, 0),
              "TranslateXRel": (1, 0, argument * width, 0, 1, 0),
              "TranslateYRel": (1, 0, 0, 0, 1, argument * height)}[base]
    return image.transform(image.size, Image.AFFINE, matrix, resample=resample, fillcolor=FILL)
