"""``exp`` for non-positive arguments, written so that loops calling it vectorize.

Numba calls the C library's scalar ``exp``, which stops LLVM from vectorizing
any loop around it; without Intel's SVML (not in the PyPI builds) the
sigmoid and softmax loops then cost 5-6 ns per unit, more than the sums of
products feeding them on small layers. :func:`exp_neg` is the textbook
alternative: Cody-Waite range reduction ``x = n ln2 + r``, a polynomial for
``e^r`` and ``2^n`` built from its bits. Its error is within 1 ulp of the
correctly rounded result for every ``x <= 0`` that gives a normal number
(measured on 2 million points, float64 and float32; see the tests). Below
that it returns 0 where the exact result is subnormal (< 2.3e-308 in
float64, < 1.2e-38 in float32); NaN stays NaN.

bpfast only needs ``x <= 0``: the stable sigmoid uses ``exp(-|z|)`` and
softmax ``exp(z - max z)``. Positive arguments are clamped to 0.

Called from plain Python (or with ``NUMBA_DISABLE_JIT=1``), it is ``math.exp``.
"""

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

# Its own fastmath set, without 'reassoc': reassociating (x - n*C1) - n*C2 into
# x - n*(C1 + C2) would undo the range reduction (measured: 107 ulps near -708).
# The flags stay on these instructions when LLVM inlines them into a caller.
_FASTMATH = {"nsz", "arcp", "contract"}


@intrinsic
def _as_float(typingctx, bits):
    """Reinterpret the bits of an int64 (int32) as a float64 (float32)."""
    if bits == types.int64:
        sig, llvm_type = types.float64(types.int64), ir.DoubleType()
    elif bits == types.int32:
        sig, llvm_type = types.float32(types.int32), ir.FloatType()
    else:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_type)

    return sig, codegen


def exp_neg(x):
    """``e**x`` for ``x <= 0`` (see the module docstring)."""
    return math.exp(min(x, 0.0))


@overload(exp_neg, jit_options={"fastmath": _FASTMATH})
def _exp_neg_jit(x):
    if x == types.float64:
        def impl(x):
            t = min(max(x, -708.3964), 0.0)             # smallest n with a normal 2^n: -1022
            n = np.floor(t * 1.4426950408889634 + 0.5)  # t = n ln2 + r, |r| <= ln2 / 2
            r = (t - n * 0.693145751953125) - n * 1.42860682030941723212e-6
            p = 1.0 / 6227020800.0                      # Taylor to r^13: error < 1e-17
            p = p * r + 1.0 / 479001600.0
            p = p * r + 1.0 / 39916800.0
            p = p * r + 1.0 / 3628800.0
            p = p * r + 1.0 / 362880.0
            p = p * r + 1.0 / 40320.0
            p = p * r + 1.0 / 5040.0
            p = p * r + 1.0 / 720.0
            p = p * r + 1.0 / 120.0
            p = p * r + 1.0 / 24.0
            p = p * r + 1.0 / 6.0
            p = p * r + 0.5
            p = p * r + 1.0
            p = p * r + 1.0
            y = p * _as_float((np.int64(n) + 1023) << 52)
            y = 0.0 if x < -708.3964 else y
            return x if x != x else y
        return impl
    if x == types.float32:
        def impl(x):
            t = min(max(x, np.float32(-87.33654)), np.float32(0))
            n = np.floor(t * np.float32(1.442695) + np.float32(0.5))
            r = (t - n * np.float32(0.693359375)) - n * np.float32(-2.12194440e-4)
            p = np.float32(1.9875691500e-4)             # Cephes expf polynomial
            p = p * r + np.float32(1.3981999507e-3)
            p = p * r + np.float32(8.3334519073e-3)
            p = p * r + np.float32(4.1665795894e-2)
            p = p * r + np.float32(1.6666665459e-1)
            p = p * r + np.float32(5.0000001201e-1)
            p = p * r * r + r + np.float32(1)
            y = p * _as_float(np.int32((np.int64(n) + 127) << 23))
            y = np.float32(0) if x < np.float32(-87.33654) else y
            return x if x != x else y
        return impl
    return None
