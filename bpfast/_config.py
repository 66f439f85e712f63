"""Every tunable of bpfast in one place: dtypes, names, tolerances, Numba options."""

import numpy as np

# ---------------------------------------------------------------- dtypes
DTYPES = {"float64": np.dtype(np.float64), "float32": np.dtype(np.float32)}
DEFAULT_DTYPE = "float64"

# ---------------------------------------------------------------- names
# The integer codes are what the kernels see; the names are what users type.
ACTIVATIONS = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "softmax": 4}
LOSSES = {"sse": 0, "mse": 1, "cross_entropy": 2}
BACKENDS = ("loops", "vectorized")
INITS = ("glorot", "uniform")
BIAS_GRADIENTS = ("sum", "mean")

# ---------------------------------------------------------------- tolerances
# Loops vs. matrix form: the two sum the same products in different orders
# (and the blocked sums may reassociate, see SUMS_FASTMATH), so they agree to rounding.
# Rounding errors of sums are bounded normwise, so an array passes when
#     max|loops - vectorized| <= atol + rtol * max(|loops|, |vectorized|)
# with both maxima taken over the whole array.
EQUIVALENCE_TOL = {
    "float64": {"rtol": 1e-10, "atol": 1e-13},
    "float32": {"rtol": 5e-5, "atol": 1e-6},
}

# Central finite differences (always evaluated in float64): the step, and the
# largest relative error allowed for the analytic gradient of each dtype.
# Relative error of an element: |analytic - numeric| / max(|analytic|, |numeric|, floor),
# floor = abs_floor * max(1, |C|) + array_floor * max|numeric| over the array:
# the first absorbs the rounding of the differences (about 1e-16 |C| / eps), the
# second their truncation error (eps^2 times a third derivative) and, in float32,
# the rounding of the analytic gradient: both scale with the array, not with each
# element. A wrong gradient is off by the size of the gradient itself, far above
# these floors. Measured: 0 false failures in 7680 cases of `bpfast check` (40 seeds).
GRADCHECK = {
    "eps": 1e-5,
    "abs_floor": 1e-7,
    "float64": {"max_rel": 1e-5, "mean_rel": 1e-6, "array_floor": 1e-3},
    "float32": {"max_rel": 1e-3, "mean_rel": 1e-4, "array_floor": 1e-2},
}

# ---------------------------------------------------------------- Numba
# Never 'nnan' or 'ninf' (a fastmath of True includes both; with them, a float32
# sigmoid overflow silently became NaN weights when measured).
# Every kernel keeps its sums in the order written, so a function gives the same
# bits whichever caller LLVM inlines it into (serial or parallel; measured: with
# 'reassoc' they differed by 3e-17 depending on what the on-disk cache held) ...
FASTMATH = {"nsz", "arcp", "contract", "afn"}
JIT_OPTIONS = {"nogil": True, "cache": True, "fastmath": FASTMATH, "error_model": "numpy"}
# ... except the blocked sums of products, which may reassociate so that they
# vectorize. They are compiled once and shared by both variants.
SUMS_FASTMATH = FASTMATH | {"reassoc"}
SUMS_JIT_OPTIONS = {**JIT_OPTIONS, "fastmath": SUMS_FASTMATH}
