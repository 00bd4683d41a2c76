"""EVL / SignVLM's training RandAugment: spec parsing, each op against hand-computed pixels, clip-wide draws.

Parity with the official module on random clips and seeds is ``benchmarks/official_parity_rand_augment.py``.
"""

import random

import numpy as np
import pytest
import torch
from PIL import Image

from bench.data import rand_augment as ra
from bench.data.rand_augment import RandAugmentSpec, parse_rand_augment, rand_augment_clip

SIGNVLM = "rand-m7-n4-mstd0.5-inc1"


class FixedRandom:
    """A ``random.Random`` stand-in whose ``random()`` always returns ``value`` (> 0.5 draws a negative sign)."""

    def __init__(self, value: float):
        self.value = value

    def random(self) -> float:
        return self.value


def image(height: int = 6, width: int = 10, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def apply(name: str, pixels: np.ndarray, argument, resample=Image.BICUBIC) -> np.ndarray:
    return np.asarray(ra._apply(name, Image.fromarray(pixels), argument, resample))


def test_parse_signvlm_spec():
    spec = parse_rand_augment(SIGNVLM)
    assert spec == RandAugmentSpec(magnitude=7, num_ops=4, magnitude_std=0.5, increasing=True)
    assert parse_rand_augment("rand-inc1-mstd0.5-n4-m7") == spec  # parts in any order
    assert parse_rand_augment("rand") == RandAugmentSpec(magnitude=10, num_ops=2, magnitude_std=0.0, increasing=False)


def test_op_sets_follow_the_official_order():
    assert parse_rand_augment(SIGNVLM).ops == (
        "AutoContrast", "Equalize", "Invert", "Rotate", "PosterizeIncreasing", "SolarizeIncreasing", "SolarizeAdd",
        "ColorIncreasing", "ContrastIncreasing", "BrightnessIncreasing", "SharpnessIncreasing", "ShearX", "ShearY",
        "TranslateXRel", "TranslateYRel")
    assert parse_rand_augment("rand-m9").ops[4:11] == (
        "Posterize", "Solarize", "SolarizeAdd", "Color", "Contrast", "Brightness", "Sharpness")


@pytest.mark.parametrize("spec, bad", [("rnd-m7-n4", "'rnd'"), ("rand-m7-x3", "'x3'"), ("rand-m7.5", "'m7.5'"),
                                       ("rand-inc0", "inc0 as the increasing set"), ("rand-w0", "'w0'"),
                                       ("rand-n", "'n'"), ("rand-m7-", "''")])
def test_parse_names_the_bad_part(spec, bad):
    with pytest.raises(ValueError, match=bad):
        parse_rand_augment(spec)


def test_uint8_round_trip_through_float_frames_is_exact():
    values = torch.arange(256, dtype=torch.uint8)
    # dataset: .float() / 255; ToPILImage: mul(255).byte(); ToTensor: / 255
    assert torch.equal((values.float() / 255.0).mul(255).byte(), values)


@pytest.mark.parametrize("name, sign, expected", [
    ("Rotate", 0.1, 21.0), ("Rotate", 0.9, -21.0), ("PosterizeIncreasing", 0.1, 2), ("Posterize", 0.1, 2),
    ("SolarizeIncreasing", 0.1, 77), ("Solarize", 0.1, 179), ("SolarizeAdd", 0.1, 77),
    ("ColorIncreasing", 0.1, 1.63), ("ContrastIncreasing", 0.9, 0.37), ("Brightness", 0.9, 1.36),
    ("ShearX", 0.1, 0.21), ("ShearY", 0.9, -0.21), ("TranslateXRel", 0.1, 0.315), ("TranslateYRel", 0.9, -0.315),
    ("AutoContrast", 0.1, None), ("Invert", 0.1, None)])
def test_level_arguments_at_magnitude_7(name, sign, expected):
    argument = ra._level_argument(name, 7, FixedRandom(sign))
    assert argument == pytest.approx(expected) if expected is not None else argument is None


def test_invert_posterize_solarize_pixels():
    x = image()
    assert np.array_equal(apply("Invert", x, None), 255 - x)
    assert np.array_equal(apply("PosterizeIncreasing", x, 2), x & 0b11000000)
    assert np.array_equal(apply("Posterize", x, 0), np.zeros_like(x))  # what Pillow 9 gave the official code
    assert np.array_equal(apply("SolarizeIncreasing", x, 100), np.where(x >= 100, 255 - x, x))
    expected = np.where(x < 128, np.minimum(255, x.astype(int) + 77), x)
    assert np.array_equal(apply("SolarizeAdd", x, 77), expected)


def test_autocontrast_stretches_and_equalize_keeps_a_flat_image():
    x = np.array([[60, 80, 120]], np.uint8)[..., None].repeat(3, axis=2)
    assert np.array_equal(apply("AutoContrast", x, None)[..., 0], [[0, 85, 255]])  # (x - 60) * 255 / 60
    flat = np.full((4, 4, 3), 90, np.uint8)
    assert np.array_equal(apply("Equalize", flat, None), flat)


def test_translate_shifts_and_fills_grey():
    x = image()
    for resample in (Image.BILINEAR, Image.BICUBIC):
        left = apply("TranslateXRel", x, 0.2, resample)  # 2 of 10 columns
        assert np.array_equal(left[:, :8], x[:, 2:]) and (left[:, 8:] == 128).all()
        down = apply("TranslateYRel", x, -1 / 3, resample)  # 2 of 6 rows
        assert np.array_equal(down[2:], x[:4]) and (down[:2] == 128).all()


def test_rotate_half_turn_and_shear_fill():
    x = image(8, 8)
    assert np.array_equal(apply("Rotate", x, 180.0), x[::-1, ::-1])
    sheared = apply("ShearX", x, 0.3)
    assert (sheared[-1, -2:] == 128).all()  # the bottom-right corner comes from outside the image


def test_enhance_factors():
    x = image()
    for name in ("Color", "Contrast", "Brightness", "Sharpness"):
        assert np.array_equal(apply(name, x, 1.0), x)
    assert np.array_equal(apply("Brightness", x, 0.0), np.zeros_like(x))
    grey = apply("Color", x, 0.0)
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()


@pytest.mark.parametrize("name", ["Rotate", "SolarizeIncreasing", "SolarizeAdd", "ColorIncreasing",
                                  "ContrastIncreasing", "BrightnessIncreasing", "SharpnessIncreasing", "ShearX",
                                  "ShearY", "TranslateXRel", "TranslateYRel"])
def test_magnitude_zero_is_identity(name):
    x = image()
    assert np.array_equal(apply(name, x, ra._level_argument(name, 0, FixedRandom(0.9))), x)


def test_magnitude_zero_still_posterizes_to_four_bits():
    x = image()
    assert np.array_equal(apply("PosterizeIncreasing", x, ra._level_argument("PosterizeIncreasing", 0, None)),
                          x & 0xF0)


def clip(frames: np.ndarray, seed: int, spec: str = SIGNVLM, interpolation: str = "bicubic") -> np.ndarray:
    return rand_augment_clip(frames, parse_rand_augment(spec), random.Random(seed), np.random.RandomState(seed),
                             interpolation)


def test_every_frame_gets_the_same_draws():
    frames = np.stack([image(12, 16, seed) for seed in range(3)])
    for seed in range(20):
        together = clip(frames, seed)
        alone = np.stack([clip(frames[t:t + 1], seed)[0] for t in range(3)])
        assert np.array_equal(together, alone)


def test_output_shape_dtype_determinism_and_input_untouched():
    frames = np.stack([image(12, 16, seed) for seed in range(4)])
    before = frames.copy()
    outs = [clip(frames, seed) for seed in range(6)]
    assert all(out.shape == frames.shape and out.dtype == np.uint8 for out in outs)
    assert np.array_equal(frames, before)
    assert np.array_equal(clip(frames, 3), outs[3])
    assert any(not np.array_equal(out, frames) for out in outs)
    assert len({out.tobytes() for out in outs}) > 1
    generator = rand_augment_clip(frames, parse_rand_augment(SIGNVLM), random.Random(0), np.random.default_rng(0))
    assert generator.shape == frames.shape and generator.dtype == np.uint8


def test_no_ops_is_identity():
    frames = np.stack([image(6, 8, seed) for seed in range(2)])
    assert np.array_equal(clip(frames, 0, "rand-n0"), frames)


def test_bad_frames_and_interpolation_raise():
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8 frames"):
        clip(frames.astype(np.float32), 0)
    with pytest.raises(ValueError, match="uint8 frames"):
        clip(frames[..., :1], 0)
    with pytest.raises(ValueError, match="lanczos"):
        clip(frames, 0, interpolation="lanczos")
