"""glibc expf/logf reproduction: vector and scalar paths agree, and both equal the host glibc where it is one."""

import ctypes
import ctypes.util
import math
import platform

import numpy as np
import pytest

from bench.decoding import libm


def _glibc_libm():
    if platform.system() != "Linux" or platform.machine() != "x86_64" or platform.libc_ver()[0] != "glibc":
        pytest.skip("the bit-for-bit comparison is against glibc on x86-64")
    lib = ctypes.CDLL(ctypes.util.find_library("m"))
    for name in ("expf", "logf"):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return lib


def _bits(x):
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def test_expf_equals_glibc_on_sampled_non_positive_floats():
    lib = _glibc_libm()
    rng = np.random.default_rng(0)
    words = rng.integers(0x80000000, 0xC2D00000, size=20000, dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([words.view(np.float32), np.float32([0.0, -0.0, -np.inf, -104.0, -103.5, -87.4]),
                        np.float32([libm._EXP_FMA_ONLY])])
    expected = np.array([lib.expf(float(v)) for v in x], dtype=np.float32)
    assert (_bits(libm.expf(x)) == _bits(expected)).all()
    assert (_bits([libm.expf_scalar(float(v)) for v in x]) == _bits(expected)).all()


def test_the_one_argument_where_the_fma_build_differs():
    # glibc's FMA expf differs from the plain binary64 evaluation only here among non-positive floats
    x = np.array([0xC27C65D9], dtype=np.uint32).view(np.float32)
    assert _bits(libm.expf(x))[0] == 0x11FA2993
    assert _bits(libm.expf_scalar(float(x[0]))) == 0x11FA2993


def test_logf_equals_glibc_on_one_to_two():
    lib = _glibc_libm()
    words = np.arange(0x3F800000, 0x40000001, 4099, dtype=np.uint32)
    x = words.view(np.float32)
    expected = np.array([lib.logf(float(v)) for v in x], dtype=np.float32)
    assert (_bits(libm.logf(x)) == _bits(expected)).all()
    assert (_bits([libm.logf_scalar(float(v)) for v in x]) == _bits(expected)).all()


def test_log_sum_exp_semantics():
    neg = libm.FLT_MAX * -1
    assert libm.log_sum_exp(np.float32(neg), np.float32(-3.5)) == np.float32(-3.5)
    assert libm.log_sum_exp(np.float32(-2.0), np.float32(neg)) == np.float32(-2.0)
    assert libm.log_sum_exp(np.float32(neg), np.float32(neg)) == neg
    # log(e^-1 + e^-1) = -1 + log 2, in float32
    assert libm.log_sum_exp(np.float32(-1.0), np.float32(-1.0)) == np.float32(np.float32(math.log(2.0)) + np.float32(-1.0))
    rng = np.random.default_rng(1)
    a = (rng.standard_normal(5000) * 30).astype(np.float32)
    b = (rng.standard_normal(5000) * 30).astype(np.float32)
    vector = libm.log_sum_exp(a, b)
    assert (_bits(vector) == _bits(libm.log_sum_exp(b, a))).all()  # symmetric, as ctcdecode's is
    scalar = [libm.log_sum_exp_scalar(float(x), float(y)) for x, y in zip(a, b)]
    assert (_bits(vector) == _bits(scalar)).all()
    assert np.allclose(vector, np.logaddexp(a.astype(np.float64), b.astype(np.float64)), rtol=1e-6, atol=1e-5)


def test_log_probs_is_float_of_double_log_with_flt_min():
    p = np.float32([0.0, 1.0, 0.5, 1e-30, 3e-39, 0.25])
    expected = np.float32([math.log(float(v) + float(libm.FLT_MIN)) for v in p])
    assert (_bits(libm.log_probs(p)) == _bits(expected)).all()
    assert libm.log_probs(np.float32([0.0]))[0] == np.float32(-126 * math.log(2.0))  # log FLT_MIN, finite
