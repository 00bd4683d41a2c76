"""glibc's float32 ``expf``/``logf`` and ``(float) log(double)``, reproduced bit for bit with numpy.

ctcdecode's log-sum-exp runs in float32 through glibc's ``expf``/``logf`` (glibc >= 2.28 on x86-64, which is
what the CSLR papers ran). numpy's float32 ``exp``/``log`` differ from glibc in the last bit on roughly 1 in
1,000 (exp) and 1 in 100 (log) arguments, and those bits move beam scores and, through ties, beam order.
So the two kernels are evaluated here with glibc's own binary64 arithmetic (the tables and polynomials of
``e_exp2f_data.c`` and ``e_logf_data.c``); every step is one binary64 rounding, as numpy float64 does it.

Checked exhaustively against glibc 2.36 on x86-64 (FMA variant): ``expf`` on every non-positive float
(the only arguments log-sum-exp passes) and ``logf`` on every float in [1, 2] (the only sums it takes the log
of). The FMA build of ``expf`` differs from the plain binary64 model at one non-positive argument only,
``-0x1.f8cbb2p5``; that value is computed here with exact fused multiply-adds.
"""

from __future__ import annotations

from fractions import Fraction
import math
import struct

import numpy as np

FLT_MAX = np.float32(np.finfo(np.float32).max)
FLT_MIN = np.float32(np.finfo(np.float32).tiny)

# e_exp2f_data.c (EXP2F_TABLE_BITS = 5): the bits of 2^(i/32) minus i << 47.
_EXP2F_TABLE = np.array([
    0x3FF0000000000000, 0x3FEFD9B0D3158574, 0x3FEFB5586CF9890F, 0x3FEF9301D0125B51,
    0x3FEF72B83C7D517B, 0x3FEF54873168B9AA, 0x3FEF387A6E756238, 0x3FEF1E9DF51FDEE1,
    0x3FEF06FE0A31B715, 0x3FEEF1A7373AA9CB, 0x3FEEDEA64C123422, 0x3FEECE086061892D,
    0x3FEEBFDAD5362A27, 0x3FEEB42B569D4F82, 0x3FEEAB07DD485429, 0x3FEEA47EB03A5585,
    0x3FEEA09E667F3BCD, 0x3FEE9F75E8EC5F74, 0x3FEEA11473EB0187, 0x3FEEA589994CCE13,
    0x3FEEACE5422AA0DB, 0x3FEEB737B0CDC5E5, 0x3FEEC49182A3F090, 0x3FEED503B23E255D,
    0x3FEEE89F995AD3AD, 0x3FEEFF76F2FB5E47, 0x3FEF199BDD85529C, 0x3FEF3720DCEF9069,
    0x3FEF5818DCFBA487, 0x3FEF7C97337B9B5F, 0x3FEFA4AFA2A490DA, 0x3FEFD0765B6E4540,
], dtype=np.uint64)
_N = 32.0
_INVLN2N = float.fromhex("0x1.71547652b82fep+0") * _N
_SHIFT = float.fromhex("0x1.8p+52")
_C0 = float.fromhex("0x1.c6af84b912394p-5") / _N / _N / _N
_C1 = float.fromhex("0x1.ebfce50fac4f3p-3") / _N / _N
_C2 = float.fromhex("0x1.62e42ff0c52d6p-1") / _N
_EXP_OVERFLOW = np.float32(float.fromhex("0x1.62e42ep6"))  # above: +inf
_EXP_UNDERFLOW = np.float32(float.fromhex("-0x1.9fe368p6"))  # below: +0
_EXP_FMA_ONLY = np.float32(float.fromhex("-0x1.f8cbb2p5"))  # the FMA build rounds differently here

# e_logf_data.c (LOGF_TABLE_BITS = 4): 1/c and log(c) per subinterval, ln2, and the log1p polynomial.
_LOGF_INVC = np.array([float.fromhex(v) for v in (
    "0x1.661ec79f8f3bep+0", "0x1.571ed4aaf883dp+0", "0x1.49539f0f010bp+0", "0x1.3c995b0b80385p+0",
    "0x1.30d190c8864a5p+0", "0x1.25e227b0b8eap+0", "0x1.1bb4a4a1a343fp+0", "0x1.12358f08ae5bap+0",
    "0x1.0953f419900a7p+0", "0x1p+0", "0x1.e608cfd9a47acp-1", "0x1.ca4b31f026aap-1",
    "0x1.b2036576afce6p-1", "0x1.9c2d163a1aa2dp-1", "0x1.886e6037841edp-1", "0x1.767dcf5534862p-1")])
_LOGF_LOGC = np.array([float.fromhex(v) for v in (
    "-0x1.57bf7808caadep-2", "-0x1.2bef0a7c06ddbp-2", "-0x1.01eae7f513a67p-2", "-0x1.b31d8a68224e9p-3",
    "-0x1.6574f0ac07758p-3", "-0x1.1aa2bc79c81p-3", "-0x1.a4e76ce8c0e5ep-4", "-0x1.1973c5a611cccp-4",
    "-0x1.252f438e10c1ep-5", "0x0p+0", "0x1.aa5aa5df25984p-5", "0x1.c5e53aa362eb4p-4",
    "0x1.526e57720db08p-3", "0x1.bc2860d22477p-3", "0x1.1058bc8a07ee1p-2", "0x1.4043057b6ee09p-2")])
_LN2 = float.fromhex("0x1.62e42fefa39efp-1")
_A0 = float.fromhex("-0x1.00ea348b88334p-2")
_A1 = float.fromhex("0x1.5575b0be00b6ap-2")
_A2 = float.fromhex("-0x1.ffffef20a4123p-2")


def expf(x: np.ndarray) -> np.ndarray:
    """glibc ``expf`` on a float32 array (finite or -inf arguments; NaN propagates)."""
    x = np.asarray(x, dtype=np.float32)
    z = _INVLN2N * x.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        kd = z + _SHIFT  # rounds z to an integer, ties to even, and keeps it in the low mantissa bits
        ki = kd.view(np.uint64)
        kd = kd - _SHIFT
        r = z - kd
        bits = _EXP2F_TABLE[(ki % np.uint64(32)).astype(np.intp)] + (ki << np.uint64(47))
        s = bits.view(np.float64)
        y = (_C2 * r + 1.0) + (_C0 * r + _C1) * (r * r)
        out = (y * s).astype(np.float32)
    out = np.where(x > _EXP_OVERFLOW, np.float32(np.inf), out)
    out = np.where(x < _EXP_UNDERFLOW, np.float32(0.0), out)
    special = x == _EXP_FMA_ONLY
    if special.any():
        out = np.where(special, _expf_fused(float(_EXP_FMA_ONLY)), out)
    return np.where(np.isnan(x), x, out)


def _fma(a: float, b: float, c: float) -> float:
    """Correctly rounded a*b+c in binary64 (Fraction arithmetic is exact, float() rounds once)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def _expf_fused(x: float) -> np.float32:
    """The FMA build of glibc ``expf`` for one argument: every a*b+c step is fused."""
    kd = _fma(_INVLN2N, x, _SHIFT)  # gcc contracts both uses of z = InvLn2N * x
    ki = int(np.float64(kd).view(np.uint64))
    kd -= _SHIFT
    r = _fma(_INVLN2N, x, -kd)
    bits = (int(_EXP2F_TABLE[ki % 32]) + (ki << 47)) & 0xFFFFFFFFFFFFFFFF
    s = float(np.uint64(bits).view(np.float64))
    y = _fma(_fma(_C0, r, _C1), r * r, _fma(_C2, r, 1.0))
    return np.float32(y * s)


def logf(x: np.ndarray) -> np.ndarray:
    """glibc ``logf`` on a float32 array of positive normal numbers (the caller's sums lie in [1, 2])."""
    x = np.asarray(x, dtype=np.float32)
    ix = x.view(np.uint32).astype(np.int64)
    tmp = ix - 0x3F330000  # subinterval containing x, centred around 1
    i = (tmp >> 19) & 15
    k = tmp >> 23  # arithmetic shift: the exponent relative to the subinterval
    z = (ix - (tmp & ~0x7FFFFF)).astype(np.uint32).view(np.float32).astype(np.float64)
    r = z * _LOGF_INVC[i] - 1.0
    y0 = _LOGF_LOGC[i] + k.astype(np.float64) * _LN2
    r2 = r * r
    y = _A1 * r + _A2
    y = _A0 * r2 + y
    y = y * r2 + (y0 + r)
    return np.where(x == 1.0, np.float32(0.0), y.astype(np.float32))


def log_sum_exp(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ctcdecode's ``log_sum_exp<float>``: -FLT_MAX is log 0, and the result is symmetric in x and y."""
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    m = np.maximum(x, y)
    with np.errstate(over="ignore", invalid="ignore"):
        total = expf(x - m) + expf(y - m)
        out = logf(total) + m
    out = np.where(y <= -FLT_MAX, x, out)
    return np.where(x <= -FLT_MAX, y, out)


def log_probs(p: np.ndarray) -> np.ndarray:
    """ctcdecode's per-character log probability: ``(float) log((double) p + (double) FLT_MIN)``.

    numpy's binary64 log may differ from glibc's in the last bit; that changes the float32 result only when
    the binary64 value lies next to a float32 rounding boundary, so those few are recomputed with ``math.log``.
    """
    d = np.asarray(p, dtype=np.float32).astype(np.float64) + float(FLT_MIN)
    y = np.log(d)
    out = y.astype(np.float32)
    # distance to the nearest float32 rounding boundary, in units of the binary64 result's magnitude
    half_ulp = np.abs(np.spacing(out).astype(np.float64)) / 2.0
    residue = np.abs(np.abs(y - out.astype(np.float64)) - half_ulp)
    close = residue <= np.abs(y) * 2.0 ** -48
    if close.any():
        idx = np.flatnonzero(close)
        flat = out.reshape(-1)
        src = d.reshape(-1)
        for j in idx:
            flat[j] = np.float32(math.log(float(src[j])))
    return out


# --- the same functions on Python floats, for the scalar (trie) decoder ---------------------------------------

_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")
_U64 = struct.Struct("<Q")
_NEG_FLT_MAX = float(-FLT_MAX)
_EXP_TABLE_INTS = [int(v) for v in _EXP2F_TABLE]
_LOGF_INVC_F = [float(v) for v in _LOGF_INVC]
_LOGF_LOGC_F = [float(v) for v in _LOGF_LOGC]
_EXP_OVERFLOW_F, _EXP_UNDERFLOW_F, _EXP_FMA_ONLY_F = float(_EXP_OVERFLOW), float(_EXP_UNDERFLOW), float(_EXP_FMA_ONLY)
_EXP_FMA_ONLY_VALUE = float(_expf_fused(_EXP_FMA_ONLY_F))


def f32(x: float) -> float:
    """Round a Python float to float32 (binary64 holds any float32 sum or difference exactly enough:
    rounding it once more to float32 gives the float32 operation's result)."""
    return _F32.unpack(_F32.pack(x))[0]


def expf_scalar(x: float) -> float:
    """glibc ``expf`` for one float32 value held in a Python float."""
    if x > _EXP_OVERFLOW_F:
        return math.inf
    if x < _EXP_UNDERFLOW_F:
        return 0.0
    if x == _EXP_FMA_ONLY_F:
        return _EXP_FMA_ONLY_VALUE
    z = _INVLN2N * x
    kd = z + _SHIFT
    ki = _U64.unpack(_F64.pack(kd))[0]
    kd -= _SHIFT
    r = z - kd
    s = _F64.unpack(_U64.pack((_EXP_TABLE_INTS[ki & 31] + (ki << 47)) & 0xFFFFFFFFFFFFFFFF))[0]
    y = (_C2 * r + 1.0) + (_C0 * r + _C1) * (r * r)
    return f32(y * s)


def logf_scalar(x: float) -> float:
    """glibc ``logf`` for one positive normal float32 value held in a Python float."""
    ix = _U32.unpack(_F32.pack(x))[0]
    if ix == 0x3F800000:
        return 0.0
    tmp = ix - 0x3F330000
    i = (tmp >> 19) & 15
    k = tmp >> 23
    z = _F32.unpack(_U32.pack((ix - (tmp & ~0x7FFFFF)) & 0xFFFFFFFF))[0]
    r = z * _LOGF_INVC_F[i] - 1.0
    y0 = _LOGF_LOGC_F[i] + k * _LN2
    r2 = r * r
    y = _A1 * r + _A2
    y = _A0 * r2 + y
    return f32(y * r2 + (y0 + r))


def log_sum_exp_scalar(x: float, y: float) -> float:
    """ctcdecode's ``log_sum_exp<float>`` on two float32 values held in Python floats."""
    if x <= _NEG_FLT_MAX:
        return y
    if y <= _NEG_FLT_MAX:
        return x
    m = x if x > y else y
    return f32(logf_scalar(f32(expf_scalar(f32(x - m)) + expf_scalar(f32(y - m)))) + m)
