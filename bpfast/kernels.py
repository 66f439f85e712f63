"""Loop kernels: the article's element-wise equations (5)-(15), (21)-(22) as scalar loops.

Every function here is compiled with Numba (``@njit``) and can be called from a
user's own ``@njit`` code. They are written for one reader first: each loop
says, in a comment, which equation it computes. There is no matrix product in
this module; the matrix form lives in :mod:`bpfast.reference`.

Storage
-------
All parameters of a network live in one flat buffer ``params``. Layer ``i``
(the article's ``w^i``, shape ``(n_in, n_out)``) is stored *transposed*, as
``n_out`` rows of ``n_in`` contiguous weights, followed by its ``n_out``
biases. Storing the fan-in contiguously makes the innermost loop of (5)/(6),
(15) and (21) run over consecutive memory.

``layers`` is a small ``int64`` table, one row per weight layer, whose
columns are named by the constants ``N_IN, N_OUT, W_OFF, B_OFF, U_IN, U_OUT,
ACT``: the layer's widths, where its weights and biases start in ``params``,
where its input and output units start in a row of the unit buffers, and its
activation code. Build it with :func:`layer_table`.

The unit buffers ``z``, ``a``, ``delta`` and ``gz`` have shape
``(n_rows, n_units)``: row ``s`` holds, side by side, every unit of the
network for sample ``s`` (input units first). For the layer that maps units
``U_IN:U_IN+N_IN`` to ``U_OUT:U_OUT+N_OUT``:

- ``z[s, U_OUT + k]`` is the article's ``z^i_k`` (pre-activation),
- ``a[s, U_OUT + k]`` is ``a^{i+1}_k`` (``a[s, :N_IN of layer 0]`` is ``x``),
- ``delta[s, U_OUT + k]`` is ``delta^{i+1}_k = dC/da^{i+1}_k``,
- ``gz[s, U_OUT + k]`` is ``g'(z^i_k) * delta^{i+1}_k = dC/dz^i_k``.

``z``, ``delta`` and ``gz`` hold nothing for the input units, so they may also
leave them out: with shape ``(n_rows, n_units - n_inputs)``, unit ``u`` is
their column ``u - n_inputs``. Each kernel tells the two apart by comparing
their width with ``a``'s (which always has every unit). :func:`train` holds z
so; at MNIST size that is 784 of its 922 columns less.

The caller allocates every buffer (see :func:`allocate`); the kernels only
fill them, so they never allocate inside a training step.

Example
-------
>>> import numpy as np
>>> from numba import njit
>>> from bpfast import kernels as K
>>> layers, n_params, n_units = K.layer_table([3, 3, 2], ["sigmoid", "sigmoid"])
>>> @njit
... def my_cost(params, layers, X, Y):
...     rows = np.arange(X.shape[0])
...     z = np.empty((X.shape[0], 8)); a = np.empty_like(z)
...     K.forward(params, layers, X, rows, z, a)
...     return K.loss_sum(layers, K.SSE, Y, rows, z, a)
"""

import math
import types

import numba
import numpy as np
from numba import njit, prange

from . import _validate as V
from ._config import ACTIVATIONS, DTYPES, JIT_OPTIONS, LOSSES, SUMS_JIT_OPTIONS
from ._exp import exp_neg

__all__ = [
    "N_IN", "N_OUT", "W_OFF", "B_OFF", "U_IN", "U_OUT", "ACT", "NJIT_OPTIONS",
    "IDENTITY", "SIGMOID", "TANH", "RELU", "SOFTMAX", "SSE", "MSE", "CROSS_ENTROPY",
    "layer_table", "allocate", "work_size", "scratch", "pack", "unpack",
    "forward", "loss_sum", "loss_delta", "backward", "sgd_update", "train_step",
    "total_cost", "train", "train_from_python", "shuffle", "parallel", "forward_parallel", "backward_parallel",
    "train_step_parallel", "train_parallel",
]

# Columns of the layer table.
N_IN, N_OUT, W_OFF, B_OFF, U_IN, U_OUT, ACT = range(7)

#: Compile your own ``@njit`` code that calls the kernels with ``@njit(**K.NJIT_OPTIONS)``.
#: ``loss_delta``, ``backward`` and ``sgd_update`` are inlined into their caller and compile
#: with its options: with these they compute, bit for bit, what ``MLP`` and the parallel twins
#: compute, and a division by zero gives inf as in NumPy (plain ``@njit`` raises
#: ZeroDivisionError, e.g. on a softmax output that underflowed to 0). ``forward`` is compiled
#: once, with bpfast's options, whoever calls it (inlined into train_step, the training loop and
#: total_cost it took 0.9 s more of the first fit's compile, for no speed measured).
NJIT_OPTIONS = {"fastmath": JIT_OPTIONS["fastmath"], "error_model": JIT_OPTIONS["error_model"]}

# Activation and loss codes (the names are in bpfast._config).
IDENTITY = ACTIVATIONS["identity"]
SIGMOID = ACTIVATIONS["sigmoid"]
TANH = ACTIVATIONS["tanh"]
RELU = ACTIVATIONS["relu"]
SOFTMAX = ACTIVATIONS["softmax"]
SSE = LOSSES["sse"]
MSE = LOSSES["mse"]
CROSS_ENTROPY = LOSSES["cross_entropy"]


def _njit(**options):
    """``numba.njit(**options)``, falling back to no on-disk cache where none can be written.

    In a read-only install with a read-only home directory Numba finds no
    cache location and refuses to decorate (RuntimeError); the kernels then
    compile at first use in each process instead.
    """
    def decorate(fn):
        try:
            return njit(**options)(fn)
        except RuntimeError:
            return njit(**{**options, "cache": False})(fn)
    return decorate


# The kernels allocate nothing, so they run without Numba's reference counting
# ('_nrt': False): its atomic increments and decrements of every array argument,
# which LLVM could not remove around the loops over the layers, cost more than
# the whole forward pass of the article's net (measured: 0.138 -> 0.084 us).
# Only train(), which allocates its buffers, keeps it. No kernel returns an array.
_NO_NRT = {**JIT_OPTIONS, "_nrt": False}
jit = _njit(**_NO_NRT)                               # every sum in the order written ...
jit_inline = _njit(inline="always", **_NO_NRT)       # (helpers inlined in Numba IR)
jit_sums = _njit(**{**SUMS_JIT_OPTIONS, "_nrt": False})   # ... but the blocked sums (see _config)
_KC_BYTES = 4096   # bytes of a row per chunk of a sum of products (keeps operands in cache)
_MC = 32           # rows of C per parallel task (a multiple of 4)
_NC = 128          # rows of Q per block, so a block of Q (x _KC_BYTES: 512 KiB) stays in cache
_ROWS = 64         # samples per parallel task of the element-wise loops
# A constant passed to a compiled function makes Numba compile it once more, for that
# Literal[int] value (measured: _gemm_nt three times, 6 s of 20): call sites wrap them in _int.
_int = np.int64
_CHUNK_BYTES = 2048   # bytes per unit of a transposed block of samples of the sums over samples
                      # (128 doubles, 256 floats: it bounds the work space; see _backward_big)
_PANEL = 128       # units of a layer transposed at a time (evenly split, see _panel): bounds the work space
_SMALL = 128       # layers with fewer weights use the literal loops, not the blocked sums
_SHORT = 8         # loops over fewer units do not vectorize
_FEW = 16          # (15) sums over fewer outputs k add their terms one k at a time (_delta_few)


# ------------------------------------------------------------------ layout (Python)
def layer_table(layer_sizes, activations):
    """Build the layer table for a network.

    Parameters
    ----------
    layer_sizes : sequence of int, length L
        Units per layer, input first: ``[3, 3, 2]`` is the article's network.
    activations : sequence of str or int, length L - 1
        Activation of each weight layer, by name or code.

    Returns
    -------
    layers : ndarray of shape (L - 1, 7), int64
    n_params : int
        Length of the flat parameter buffer.
    n_units : int
        Width of a row of the unit buffers (``sum(layer_sizes)``).
    """
    sizes = [int(n) for n in layer_sizes]
    layers = np.zeros((len(sizes) - 1, 7), dtype=np.int64)
    w_off = 0
    u_in = 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        act = activations[i]
        code = ACTIVATIONS[act] if isinstance(act, str) else int(act)
        layers[i] = (n_in, n_out, w_off, w_off + n_in * n_out, u_in, u_in + n_in, code)
        w_off += n_in * n_out + n_out
        u_in += n_in
    return layers, w_off, sum(sizes)


def allocate(layers, n_rows, dtype=np.float64):
    """Unit buffers ``z, a, delta, gz`` as one array of shape (4, n_rows, n_units).

    ``z, a, delta, gz = allocate(...)`` unpacks them; :func:`train_step` takes the whole array.
    """
    n_units = int(layers[-1, U_OUT] + layers[-1, N_OUT])
    return np.zeros((4, n_rows, n_units), dtype=_dtype(dtype))


def _dtype(dtype):
    """float64 or float32 (native byte order) for the buffers, else ValueError: the kernels
    are compiled for these two only (a float16 buffer gave a Numba typing error)."""
    return DTYPES[V.dtype_name(dtype)]


@jit_inline
def _panel(n):
    """Width of the panels of at most ``_PANEL`` units that the transposes cut ``n`` units into:
    even, rounded up to 4 so that the 4 x 4 sums stay whole (784 units: 7 panels of 112)."""
    n_panels = (n + _PANEL - 1) // _PANEL
    return min(n, ((n + n_panels - 1) // max(n_panels, 1) + 3) // 4 * 4)


@_njit(cache=True)
def work_size(layers, n_rows, itemsize=4):
    """Elements of scratch space :func:`backward` needs for batches of up to ``n_rows`` samples
    of ``itemsize`` bytes each (the default, float32's, is enough for float64 too)."""
    size = 0
    chunk = _CHUNK_BYTES // itemsize
    for i in range(layers.shape[0]):
        n_in = layers[i, N_IN]
        n_out = layers[i, N_OUT]
        size = max(size, (n_out + _panel(n_in)) * min(n_rows, chunk))   # the transposed chunks
        if i > 0 and n_out >= _FEW:
            size = max(size, _panel(n_in) * n_out)                        # the transposed weights
    return size


def scratch(layers, n_rows, dtype=np.float64):
    """The gradient buffer followed by the work space, as :func:`train_step` takes them."""
    n_params = int(layers[-1, B_OFF] + layers[-1, N_OUT])
    dtype = _dtype(dtype)
    return np.zeros(n_params + work_size(layers, n_rows, dtype.itemsize), dtype=dtype)


def pack(weights, biases, layers, dtype=np.float64):
    """Flat parameter buffer from the article's ``w^i`` (n_in, n_out) and ``b^i`` (n_out,)."""
    n_params = int(layers[-1, B_OFF] + layers[-1, N_OUT])
    params = np.empty(n_params, dtype=_dtype(dtype))
    for i, (w, b) in enumerate(zip(weights, biases)):
        n_in, n_out, w0, b0 = layers[i, :4]
        params[w0:b0] = np.asarray(w).T.ravel()       # stored out x in
        params[b0:b0 + n_out] = b
    return params


def unpack(buffer, layers):
    """Split a flat buffer (parameters or gradients) into lists of fresh arrays.

    Returns ``(w_list, b_list)`` with ``w_list[i]`` of shape (n_in, n_out) and
    ``b_list[i]`` of shape (n_out,), each a C-contiguous copy.
    """
    ws, bs = [], []
    for n_in, n_out, w0, b0, *_ in layers:
        ws.append(np.ascontiguousarray(buffer[w0:b0].reshape(n_out, n_in).T))
        bs.append(buffer[b0:b0 + n_out].copy())
    return ws, bs


# ------------------------------------------------------------------ scalars
@jit_inline
def _sigmoid(x, one):
    """(1), split on the sign of x so exp never overflows: ``exp(-|x|)`` is in (0, 1]."""
    e = exp_neg(-abs(x))
    r = one / (one + e)
    return r if x >= 0 else e * r                      # a select, not a branch: loops vectorize


@jit_inline
def _activate(x, act, one):
    """g(x) for an element-wise activation code."""
    if act == SIGMOID:
        return _sigmoid(x, one)
    return _activate_other(x, act, one)


@jit_inline
def _activate_other(x, act, one):
    """g(x) for the element-wise activations other than the sigmoid."""
    if act == TANH:
        return math.tanh(x)
    if act == RELU:                                    # NaN stays NaN (as np.maximum), so a
        return one - one if x <= 0 else x              # diverged fit shows in its cost
    return x                                           # IDENTITY


@jit_inline
def _activate_scalar(x, act, one):
    """:func:`_activate` for code that does not vectorize: the sigmoid (1) takes
    libm's ``exp``, whose latency is shorter than ``exp_neg``'s, and a branch.
    It does not reach ``exp_neg``, so :mod:`bpfast.tiny` does not compile it (0.12 s)."""
    if act == SIGMOID:
        e = math.exp(-abs(x))
        return one / (one + e) if x >= 0 else e / (one + e)
    return _activate_other(x, act, one)


@jit_inline
def _derivative(a, act, one):
    """(12): g'(z) for an element-wise activation, from a = g(z) alone.

    (For relu, a > 0 exactly when z > 0.) Not needing z lets training
    overwrite z with dC/dz on the way back.
    """
    if act == SIGMOID:
        return a * (one - a)
    if act == TANH:
        return one - a * a
    if act == RELU:
        return one if a > 0 else one - one
    return one                                         # IDENTITY


# ------------------------------------------------------------------ sums of products
@jit
def _gemm_nt(P, p0, ps, Q, q0, qs, C, c0, cs, M, N, K, add):
    """The sums behind (5)/(6), (15) and (21): ``C[m, n] = sum_p P[m, p] * Q[n, p]``.

    All three are sums of products along a contiguous index; this loop nest
    computes them for every (m, n) pair. The operands are flat buffers:
    row ``m`` of P is ``P[p0 + m*ps : p0 + m*ps + K]``, row ``n`` of Q is
    ``Q[q0 + n*qs : ...]``, and ``C[m, n]`` is ``C[c0 + m*cs + n]``. With
    ``add`` nonzero the sums are added to C instead of replacing it.

    The loops are blocked, not reordered: 4 rows of P against 4 rows of Q
    give 16 running sums that stay in registers, so each value loaded is
    used 4 times; the sums run over ``p`` in chunks of ``_KC_BYTES`` so that the
    chunk of Q stays in cache while ``_MC`` rows of P pass over it. Each
    ``C[m, n]`` belongs to exactly one iteration of the outer ``prange`` and
    is summed in the same order with or without threads, so the parallel
    variant gives bit-identical results.
    """
    n_panels = (M + _MC - 1) // _MC
    if n_panels == 1:
        _gemm_rows(P, p0, ps, Q, q0, qs, C, c0, cs, _int(0), M, N, K, add)
    else:
        _gemm_panels(P, p0, ps, Q, q0, qs, C, c0, cs, M, N, K, add, n_panels)


@jit
def _gemm_panels(P, p0, ps, Q, q0, qs, C, c0, cs, M, N, K, add, n_panels):
    """:func:`_gemm_nt` in panels of ``_MC`` rows, one task each (a ``prange``)."""
    for panel in prange(n_panels):                     # each thread owns whole rows of C
        _gemm_rows(P, p0, ps, Q, q0, qs, C, c0, cs, panel * _MC, min(panel * _MC + _MC, M), N, K, add)


@jit_sums
def _gemm_rows(P, p0, ps, Q, q0, qs, C, c0, cs, m_lo, m_hi, N, K, add):
    """Rows ``m_lo <= m < m_hi`` of :func:`_gemm_nt` (kept out of the ``prange`` body,
    where Numba's parallel lowering measured 30% slower)."""
    zero = C.dtype.type(0)
    # Chunks of at most _KC_BYTES of a row, of one length rounded up to 64 bytes (so 784
    # doubles are 2 x 400 - 16, not 512 + 272, and 784 floats stay one chunk): the horizontal
    # sums that end each 4 x 4 block then stay a small part of it (float32: 78 -> 97 GFLOP/s).
    kc = _KC_BYTES // P.itemsize
    n_chunks = (K + kc - 1) // kc
    kc = ((K + n_chunks - 1) // max(n_chunks, 1) + 15) // 16 * 16
    for kt in range(0, K, max(kc, 1)):
        kn = min(kc, K - kt)
        first = kt == 0 and add == 0
        for nt in range(0, N, _NC):                    # a block of Q rows stays in cache
            n_hi = min(nt + _NC, N)
            for m in range(m_lo, m_hi, 4):
                if m + 4 > m_hi:                           # the last rows, one at a time
                    for mm in range(m, m_hi):
                        pb = p0 + mm * ps + kt
                        x0 = P[pb:pb + kn]
                        cb = c0 + mm * cs
                        for n in range(nt, n_hi):
                            qb = q0 + n * qs + kt
                            y0 = Q[qb:qb + kn]
                            acc = zero
                            for p in range(kn):
                                acc += x0[p] * y0[p]
                            C[cb + n] = acc if first else C[cb + n] + acc
                    continue
                pb = p0 + m * ps + kt
                x0 = P[pb:pb + kn]
                x1 = P[pb + ps:pb + ps + kn]
                x2 = P[pb + 2 * ps:pb + 2 * ps + kn]
                x3 = P[pb + 3 * ps:pb + 3 * ps + kn]
                c_0 = c0 + m * cs
                c_1 = c_0 + cs
                c_2 = c_1 + cs
                c_3 = c_2 + cs
                n = nt
                while n + 4 <= n_hi:                          # 4 x 4 sums at a time
                    qb = q0 + n * qs + kt
                    y0 = Q[qb:qb + kn]
                    y1 = Q[qb + qs:qb + qs + kn]
                    y2 = Q[qb + 2 * qs:qb + 2 * qs + kn]
                    y3 = Q[qb + 3 * qs:qb + 3 * qs + kn]
                    s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = zero
                    s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = zero
                    for p in range(kn):
                        a0 = x0[p]
                        a1 = x1[p]
                        a2 = x2[p]
                        a3 = x3[p]
                        b0 = y0[p]
                        b1 = y1[p]
                        b2 = y2[p]
                        b3 = y3[p]
                        s00 += a0 * b0
                        s01 += a0 * b1
                        s02 += a0 * b2
                        s03 += a0 * b3
                        s10 += a1 * b0
                        s11 += a1 * b1
                        s12 += a1 * b2
                        s13 += a1 * b3
                        s20 += a2 * b0
                        s21 += a2 * b1
                        s22 += a2 * b2
                        s23 += a2 * b3
                        s30 += a3 * b0
                        s31 += a3 * b1
                        s32 += a3 * b2
                        s33 += a3 * b3
                    if not first:
                        s00 += C[c_0 + n]
                        s01 += C[c_0 + n + 1]
                        s02 += C[c_0 + n + 2]
                        s03 += C[c_0 + n + 3]
                        s10 += C[c_1 + n]
                        s11 += C[c_1 + n + 1]
                        s12 += C[c_1 + n + 2]
                        s13 += C[c_1 + n + 3]
                        s20 += C[c_2 + n]
                        s21 += C[c_2 + n + 1]
                        s22 += C[c_2 + n + 2]
                        s23 += C[c_2 + n + 3]
                        s30 += C[c_3 + n]
                        s31 += C[c_3 + n + 1]
                        s32 += C[c_3 + n + 2]
                        s33 += C[c_3 + n + 3]
                    C[c_0 + n] = s00
                    C[c_0 + n + 1] = s01
                    C[c_0 + n + 2] = s02
                    C[c_0 + n + 3] = s03
                    C[c_1 + n] = s10
                    C[c_1 + n + 1] = s11
                    C[c_1 + n + 2] = s12
                    C[c_1 + n + 3] = s13
                    C[c_2 + n] = s20
                    C[c_2 + n + 1] = s21
                    C[c_2 + n + 2] = s22
                    C[c_2 + n + 3] = s23
                    C[c_3 + n] = s30
                    C[c_3 + n + 1] = s31
                    C[c_3 + n + 2] = s32
                    C[c_3 + n + 3] = s33
                    n += 4
                while n < n_hi:                               # the last columns: 4 x 1 sums
                    qb = q0 + n * qs + kt
                    y0 = Q[qb:qb + kn]
                    s00 = s10 = s20 = s30 = zero
                    for p in range(kn):
                        b0 = y0[p]
                        s00 += x0[p] * b0
                        s10 += x1[p] * b0
                        s20 += x2[p] * b0
                        s30 += x3[p] * b0
                    if not first:
                        s00 += C[c_0 + n]
                        s10 += C[c_1 + n]
                        s20 += C[c_2 + n]
                        s30 += C[c_3 + n]
                    C[c_0 + n] = s00
                    C[c_1 + n] = s10
                    C[c_2 + n] = s20
                    C[c_3 + n] = s30
                    n += 1


@jit
def _transpose(src, s0, ss, rows, cols, dst):
    """``dst[c * rows + r] = src[s0 + r * ss + c]``: columns of a unit buffer as contiguous rows."""
    for c in prange(cols):
        base = c * rows
        for r in range(rows):
            dst[base + r] = src[s0 + r * ss + c]


@jit_inline
def _col(a, buf, u):
    """Column of unit ``u`` in ``buf`` (z, delta or gz), which may leave out the input units:
    ``u`` itself if ``buf`` is as wide as ``a``."""
    return u - (a.shape[1] - buf.shape[1])


@jit_inline
def _flat(buf):
    """A 1-D view of a C-contiguous 2-D buffer."""
    return buf.reshape(buf.shape[0] * buf.shape[1])


# ------------------------------------------------------------------ forward
@jit_inline
def _layer_small(params, w0, b0, n_in, n_out, act, a, u_in, z, u_out, n_rows):
    """(5)/(6) and (11) for a small layer with an element-wise activation, literally:
    ``z_k = b_k + sum_j a_j w_jk``, ``a_k = g(z_k)``.

    For layers with fewer than ``_SMALL`` weights, where blocking and vectorizing
    cost more than they save: each sum runs in one register, in the order of
    the equation, and goes straight through the activation.
    """
    one = params.dtype.type(1)
    zu = _col(a, z, u_out)
    for s in range(n_rows):
        for k in range(n_out):
            acc = params[b0 + k]
            wk = w0 + k * n_in
            for j in range(n_in):
                acc += a[s, u_in + j] * params[wk + j]
            z[s, zu + k] = acc
            a[s, u_out + k] = _activate_scalar(acc, act, one)


@jit_inline
def _softmax(zs, as_):
    """(11) for a softmax layer: ``a_k = exp(z_k - max z) / sum_m exp(z_m - max z)``."""
    n_out = zs.shape[0]
    top = zs[0]
    for k in range(1, n_out):
        top = max(top, zs[k])
    for k in range(n_out):                             # the exps vectorize ...
        as_[k] = exp_neg(zs[k] - top)
    total = as_.dtype.type(0)
    for k in range(n_out):                             # ... the sum runs in order
        total += as_[k]
    for k in range(n_out):
        as_[k] /= total


@jit
def _bias_activation(params, b0, n_out, act, z, a, u_out, s_lo, s_hi):
    """``z_k += b_k``, the rest of (5)/(6), then (11) ``a_k = g(z_k)``, for samples s_lo..s_hi-1."""
    one = params.dtype.type(1)
    zu = _col(a, z, u_out)
    if n_out < _SHORT and act != SOFTMAX:              # too short to vectorize: plain scalar code
        for s in range(s_lo, s_hi):
            for k in range(n_out):
                x = z[s, zu + k] + params[b0 + k]
                z[s, zu + k] = x
                a[s, u_out + k] = _activate_scalar(x, act, one)
        return
    bias = params[b0:b0 + n_out]
    for s in range(s_lo, s_hi):
        zs = z[s, zu:zu + n_out]                       # 1-D views: their loops vectorize
        as_ = a[s, u_out:u_out + n_out]
        for k in range(n_out):
            zs[k] += bias[k]
        # one loop per activation, so that each loop vectorizes
        if act == SIGMOID:
            for k in range(n_out):
                as_[k] = _sigmoid(zs[k], one)
        elif act == SOFTMAX:                           # g = softmax (output layer only)
            _softmax(zs, as_)
        elif act == RELU:
            for k in range(n_out):
                as_[k] = _activate(zs[k], RELU, one)
        else:
            for k in range(n_out):
                as_[k] = _activate(zs[k], act, one)


@jit
def forward(params, layers, X, rows, z, a):
    """Forward pass (5)/(6) and (11) for the samples ``X[rows]``.

    Fills ``z`` and ``a`` for rows ``0..len(rows)-1`` of the unit buffers.
    """
    n_rows = rows.shape[0]
    for s in range(n_rows):                            # a^0 = x
        r = rows[s]
        for j in range(layers[0, N_IN]):
            a[s, j] = X[r, j]
    for i in range(layers.shape[0]):
        n_in = layers[i, N_IN]
        n_out = layers[i, N_OUT]
        if n_in * n_out < _SMALL and layers[i, ACT] != SOFTMAX:  # (5)/(6) and (11), sample by sample
            _layer_small(params, layers[i, W_OFF], layers[i, B_OFF], n_in, n_out, layers[i, ACT],
                         a, layers[i, U_IN], z, layers[i, U_OUT], n_rows)
        else:                                          # (5)/(6) and (11), in blocks
            _layer_big(params, layers[i], z, a, n_rows)


@jit
def _layer_big(params, layer, z, a, n_rows):
    """(5)/(6) and (11) for one row ``layer`` of the layer table, with the blocked sums.

    Kept out of :func:`forward` so that the loop over small layers stays small.
    """
    n_in = layer[N_IN]
    n_out = layer[N_OUT]
    u_out = layer[U_OUT]
    n_units = a.shape[1]
    # (5)/(6): z_k = sum_j a_j w_jk + b_k; first the sums over j, for every sample and k
    _gemm_nt(_flat(a), layer[U_IN], n_units, params, layer[W_OFF], n_in,
             _flat(z), _col(a, z, u_out), z.shape[1], n_rows, n_out, n_in, _int(0))
    # ... then + b_k, and (11)
    if n_rows <= _ROWS:
        _bias_activation(params, layer[B_OFF], n_out, layer[ACT], z, a, u_out, _int(0), n_rows)
    else:
        _bias_activation_tasks(params, layer[B_OFF], n_out, layer[ACT], z, a, u_out, n_rows)


@jit
def _bias_activation_tasks(params, b0, n_out, act, z, a, u_out, n_rows):
    """:func:`_bias_activation` in tasks of ``_ROWS`` samples (a ``prange``)."""
    for c in prange((n_rows + _ROWS - 1) // _ROWS):
        _bias_activation(params, b0, n_out, act, z, a, u_out, c * _ROWS, min(c * _ROWS + _ROWS, n_rows))


# ------------------------------------------------------------------ cost
@jit_inline
def loss_sum(layers, loss, Y, rows, z, a):
    """Unnormalised cost of the batch: (2) summed over samples, or cross-entropy.

    For ``SSE`` and ``MSE`` this is ``sum_s sum_k (a_k - y_k)^2``; ``MSE``
    divides it by ``len(rows) * n_out`` (done by the callers). For
    ``CROSS_ENTROPY`` it is ``-sum_s sum_k y_k log a_k``, with ``log a_k``
    computed from ``z`` (log-softmax), so it stays finite when ``a_k`` underflows.
    """
    last = layers.shape[0] - 1
    n_out = layers[last, N_OUT]
    u = layers[last, U_OUT]
    zu = _col(a, z, u)
    total = z.dtype.type(0)
    for s in range(rows.shape[0]):
        r = rows[s]
        if loss == CROSS_ENTROPY:
            # log a_k = z_k - log sum_m exp(z_m); with the top unit's a = exp(0) / sum,
            # log sum_m exp(z_m) = z_top - log a_top, and a_top >= 1 / n_out never underflows.
            top = 0
            for k in range(1, n_out):
                if z[s, zu + k] > z[s, zu + top]:
                    top = k
            log_norm = z[s, zu + top] - math.log(a[s, u + top])
            for k in range(n_out):
                y = Y[r, k]
                if y != 0:
                    total -= y * (z[s, zu + k] - log_norm)
        else:
            for k in range(n_out):                     # (2)
                d = a[s, u + k] - Y[r, k]
                total += d * d
    return total


@jit_inline
def loss_delta(layers, loss, Y, rows, z, a, delta, gz):
    """Output layer: the cost (2), its derivative (13), and dC/dz = (12) * (13).

    Fills ``delta`` and ``gz`` of the output units and returns the batch cost
    (``MSE`` already divided by ``len(rows) * n_out``).
    """
    one = a.dtype.type(1)
    last = layers.shape[0] - 1
    n_out = layers[last, N_OUT]
    u = layers[last, U_OUT]
    act = layers[last, ACT]
    n_rows = rows.shape[0]
    du = _col(a, delta, u)
    gu = _col(a, gz, u)
    cost = loss_sum(layers, loss, Y, rows, z, a)
    scale = one
    if loss == MSE:
        count = a.dtype.type(n_rows * n_out)
        scale = one / count                            # times the reciprocal, as total_cost: with
        cost *= scale                                  # 'arcp' a division may or may not become one
    for s in range(n_rows):
        r = rows[s]
        if loss == CROSS_ENTROPY:
            y_sum = one - one
            for k in range(n_out):
                y = Y[r, k]
                y_sum += y
                # (13) for C = -sum y log a: dC/da_k = -y_k / a_k (0 where y_k = 0)
                delta[s, du + k] = -y / a[s, u + k] if y != 0 else one - one
            for k in range(n_out):                     # softmax Jacobian times (13), simplified
                gz[s, gu + k] = a[s, u + k] * y_sum - Y[r, k]
            continue
        for k in range(n_out):                         # (13): dC/da_k = 2 (a_k - y_k)
            delta[s, du + k] = (scale + scale) * (a[s, u + k] - Y[r, k])
        if act == SOFTMAX:                             # dC/dz_k = a_k (delta_k - sum_m a_m delta_m)
            dot = one - one
            for k in range(n_out):
                dot += a[s, u + k] * delta[s, du + k]
            for k in range(n_out):
                gz[s, gu + k] = a[s, u + k] * (delta[s, du + k] - dot)
        else:
            for k in range(n_out):                     # (12) * (13)
                gz[s, gu + k] = _derivative(a[s, u + k], act, one) * delta[s, du + k]
    return cost


# ------------------------------------------------------------------ backward
@jit_inline
def _backward_small(params, w0, b0, n_in, n_out, a, u_in, gz, u_out, delta, act_below, n_rows, grad):
    """(15) and (12) one layer down (if ``act_below >= 0``), then (21)/(22), literally.

    For small layers, where blocking costs more than it saves: every sum
    runs in one register, in order, and is stored once.
    """
    one = params.dtype.type(1)
    zero = one - one
    g_out = _col(a, gz, u_out)
    if act_below >= 0:
        d_in = _col(a, delta, u_in)
        g_in = _col(a, gz, u_in)
        for s in range(n_rows):
            for j in range(n_in):
                acc = zero
                for k in range(n_out):                 # (15): delta_j = sum_k of the (14.x) path
                    acc += params[w0 + k * n_in + j] * gz[s, g_out + k]   # terms w_jk g'(z_k) delta_k
                delta[s, d_in + j] = acc
                gz[s, g_in + j] = _derivative(a[s, u_in + j], act_below, one) * acc   # (12)
    for k in range(n_out):
        acc = zero
        for s in range(n_rows):                        # (22): dC/db_k = sum_s g'(z_k) delta_k
            acc += gz[s, g_out + k]
        grad[b0 + k] = acc
        wk = w0 + k * n_in
        for j in range(n_in):
            acc = zero
            for s in range(n_rows):                    # (21): dC/dw_jk = sum_s a_j g'(z_k) delta_k
                acc += a[s, u_in + j] * gz[s, g_out + k]
            grad[wk + j] = acc


@jit
def _gz_below(a, delta, gz, u, n, act, s_lo, s_hi):
    """(12): ``dC/dz_j = g'(z_j) delta_j`` one layer down, for samples s_lo..s_hi-1."""
    one = a.dtype.type(1)
    gu = _col(a, gz, u)
    du = _col(a, delta, u)
    for s in range(s_lo, s_hi):
        for j in range(n):
            gz[s, gu + j] = _derivative(a[s, u + j], act, one) * delta[s, du + j]


@jit_inline
def backward(params, layers, n_rows, z, a, delta, gz, grad, work):
    """Backward pass: (15) for every delta, (21)/(22) for every gradient.

    Needs ``gz`` of the output units (from :func:`loss_delta`). Overwrites
    ``grad`` (same layout as ``params``) with the gradient of the cost summed
    over the ``n_rows`` samples, and fills ``delta`` and ``gz`` of the hidden
    units. ``work`` is scratch space of :func:`work_size` elements. ``z`` is
    not read: (12) is computed from ``a = g(z)``.
    """
    for i in range(layers.shape[0] - 1, -1, -1):       # (18): from the output layer down
        _backward_layer(params, layers, i, n_rows, a, delta, gz, grad, work)


@jit_inline
def _backward_layer(params, layers, i, n_rows, a, delta, gz, grad, work):
    """Layer ``i`` of :func:`backward`: its (21)/(22), and (15) and (12) for the layer below."""
    n_in = layers[i, N_IN]
    n_out = layers[i, N_OUT]
    act_below = layers[i - 1, ACT] if i > 0 else -1    # -1: no delta for the input layer
    if n_in * n_out < _SMALL:
        _backward_small(params, layers[i, W_OFF], layers[i, B_OFF], n_in, n_out, a, layers[i, U_IN],
                        gz, layers[i, U_OUT], delta, act_below, n_rows, grad)
    else:
        _backward_big(params, layers[i], act_below, n_rows, a, delta, gz, grad, work)


@jit
def _backward_big(params, layer, act_below, n_rows, a, delta, gz, grad, work):
    """:func:`_backward_layer` with the blocked sums, for one row ``layer`` of the layer table."""
    n_in = layer[N_IN]
    n_out = layer[N_OUT]
    w0 = layer[W_OFF]
    u_in = layer[U_IN]
    u_out = layer[U_OUT]
    n_units = a.shape[1]
    # The sums over the samples, a chunk of _CHUNK_BYTES per unit at a time (so the work space
    # stays small), samples become the contiguous index: gz_t[k, s] = g'(z_k) delta_k, a_t[j, s] = a_j,
    # the a_j a panel of at most _PANEL units at a time (the work space at MNIST size: 0.93 -> 0.25 MB).
    # In bytes, not samples: the longer the sums, the fewer the horizontal sums that end each
    # 4 x 4 block. 2 KiB (256 float64, 512 float32 samples), against 1 KiB, measured on the dC/dw
    # sums of the large net, 2 threads, AMD Zen 4: float32 4.8 -> 4.35 ms (layer 0) and
    # 3.24 -> 2.82 ms (layer 1); float64 9.3 -> 8.5 ms and 5.8 -> 5.4 ms (at 128 -> 256 samples).
    chunk = _CHUNK_BYTES // a.itemsize
    panel = _panel(n_in)
    for s0 in range(0, n_rows, chunk):
        m = min(chunk, n_rows - s0)
        gz_t = work[:n_out * m]
        _transpose(_flat(gz), _col(a, gz, u_out) + s0 * gz.shape[1], gz.shape[1], m, n_out, gz_t)
        _row_sums(gz_t, n_out, m, grad, layer[B_OFF], s0)   # (22): dC/db_k = sum_s g'(z_k) delta_k
        for j0 in range(0, n_in, panel):
            nj = min(panel, n_in - j0)
            a_t = work[n_out * m:(n_out + nj) * m]
            _transpose(_flat(a), u_in + j0 + s0 * n_units, n_units, m, nj, a_t)
            # (21): dC/dw_jk = sum_s a_j g'(z_k) delta_k  (stored at grad[w0 + k*n_in + j])
            _gemm_nt(gz_t, _int(0), m, a_t, _int(0), m, grad, w0 + j0, n_in, n_out, nj, m, s0)
    if act_below < 0:
        return                                         # no delta for the input layer
    if n_out < _FEW:                                   # (15) and (12), the terms k added one by one
        if n_rows <= _ROWS:
            _delta_few(params, w0, n_in, n_out, a, delta, gz, u_in, u_out, act_below, _int(0), n_rows)
        else:
            _delta_few_tasks(params, w0, n_in, n_out, a, delta, gz, u_in, u_out, act_below, n_rows)
        return
    # (15): delta_j = sum_k of the (14.x) path terms w_jk g'(z_k) delta_k, a panel of j at a time
    for j0 in range(0, n_in, panel):
        nj = min(panel, n_in - j0)
        w_t = work[:nj * n_out]
        _transpose(params, w0 + j0, n_in, n_out, nj, w_t)   # w_t[j, k] = w_jk
        _gemm_nt(_flat(gz), _col(a, gz, u_out), gz.shape[1], w_t, _int(0), n_out,
                 _flat(delta), _col(a, delta, u_in) + j0, delta.shape[1], n_rows, nj, n_out, _int(0))
    if n_rows <= _ROWS:                                # (12) one layer down
        _gz_below(a, delta, gz, u_in, n_in, act_below, _int(0), n_rows)
    else:
        _gz_below_tasks(a, delta, gz, u_in, n_in, act_below, n_rows)


@jit
def _gz_below_tasks(a, delta, gz, u, n, act, n_rows):
    """:func:`_gz_below` in tasks of ``_ROWS`` samples (a ``prange``)."""
    for c in prange((n_rows + _ROWS - 1) // _ROWS):
        _gz_below(a, delta, gz, u, n, act, c * _ROWS, min(c * _ROWS + _ROWS, n_rows))


@jit
def _delta_few(params, w0, n_in, n_out, a, delta, gz, u_in, u_out, act, s_lo, s_hi):
    """(15) and (12) one layer down, for samples s_lo..s_hi-1, when the layer has few outputs.

    A sum over fewer than ``_FEW`` terms k is too short for the blocked sums; here the
    terms are added one k at a time to the whole row of delta, each a loop over j that
    runs along the stored row ``w_{.k}`` (contiguous) and vectorizes. Four terms per
    pass over the row, still added in the order of k. ``delta`` and ``gz`` may be the
    same buffer (as in training).
    """
    one = a.dtype.type(1)
    du = _col(a, delta, u_in)
    g_out = _col(a, gz, u_out)
    g_in = _col(a, gz, u_in)
    for s in range(s_lo, s_hi):
        d = delta[s, du:du + n_in]
        g = gz[s, g_out:g_out + n_out]
        w = params[w0:w0 + n_in]
        g0 = g[0]
        for j in range(n_in):                          # (15): the term k = 0 ...
            d[j] = w[j] * g0
        k = 1
        while k + 4 <= n_out:                          # ... + w_jk g'(z_k) delta_k, k in order
            wa = params[w0 + k * n_in:w0 + (k + 1) * n_in]
            wb = params[w0 + (k + 1) * n_in:w0 + (k + 2) * n_in]
            wc = params[w0 + (k + 2) * n_in:w0 + (k + 3) * n_in]
            wd = params[w0 + (k + 3) * n_in:w0 + (k + 4) * n_in]
            ga, gb, gc, gd = g[k], g[k + 1], g[k + 2], g[k + 3]
            for j in range(n_in):
                d[j] = (((d[j] + wa[j] * ga) + wb[j] * gb) + wc[j] * gc) + wd[j] * gd
            k += 4
        while k < n_out:
            wa = params[w0 + k * n_in:w0 + (k + 1) * n_in]
            ga = g[k]
            for j in range(n_in):
                d[j] += wa[j] * ga
            k += 1
        as_ = a[s, u_in:u_in + n_in]
        gs = gz[s, g_in:g_in + n_in]
        for j in range(n_in):                          # (12) one layer down
            gs[j] = _derivative(as_[j], act, one) * d[j]


@jit
def _delta_few_tasks(params, w0, n_in, n_out, a, delta, gz, u_in, u_out, act, n_rows):
    """:func:`_delta_few` in tasks of ``_ROWS`` samples (a ``prange``)."""
    for c in prange((n_rows + _ROWS - 1) // _ROWS):
        _delta_few(params, w0, n_in, n_out, a, delta, gz, u_in, u_out, act, c * _ROWS,
                   min(c * _ROWS + _ROWS, n_rows))


@jit
def _row_sums(src, rows, cols, dst, d0, add):
    """``dst[d0 + r] = sum_c src[r * cols + c]``; added to ``dst`` if ``add`` is nonzero."""
    for r in prange(rows):
        total = _sum(src[r * cols:(r + 1) * cols])
        dst[d0 + r] = dst[d0 + r] + total if add != 0 else total


@_njit(**{**JIT_OPTIONS, "fastmath": False})
def _sum(x):
    """Sum of a vector, strictly in order: the same bits whichever loop (serial or parallel)
    it ends up compiled into. Cheap: it only adds up the bias gradients (22)."""
    acc = x.dtype.type(0)
    for i in range(x.shape[0]):
        acc += x[i]
    return acc


@jit_inline
def sgd_update(params, layers, grad, learning_rate, bias_scale):
    """Gradient-descent step on every parameter at once (the article's last stage).

    Weights move by ``learning_rate * grad``; biases by
    ``learning_rate * bias_scale * grad``: ``bias_scale = 1`` is the exact
    gradient, ``1 / n_rows`` the article's averaged bias rule (erratum 1).
    """
    for i in range(layers.shape[0]):
        _update_layer(params, layers, i, grad, learning_rate, bias_scale)


@jit_inline
def _update_layer(params, layers, i, grad, learning_rate, bias_scale):
    """:func:`sgd_update` of layer ``i`` alone."""
    b0 = layers[i, B_OFF]
    for w in range(layers[i, W_OFF], b0):
        params[w] -= learning_rate * grad[w]
    step = learning_rate * bias_scale
    for b in range(b0, b0 + layers[i, N_OUT]):
        params[b] -= step * grad[b]


@jit_inline
def _step(params, layers, loss, X, Y, rows, learning_rate, bias_mean, z, a, delta, gz, grad, work):
    """:func:`train_step` on separate buffers, inlined into the loop of :func:`_epochs`,
    which passes ``z`` as ``delta`` and ``gz`` too (see there)."""
    one = params.dtype.type(1)
    n_rows = rows.shape[0]
    bias_scale = one / params.dtype.type(n_rows) if bias_mean else one
    forward(params, layers, X, rows, z, a)
    cost = loss_delta(layers, loss, Y, rows, z, a, delta, gz)
    for i in range(layers.shape[0] - 1, -1, -1):       # backward, and each layer's update as soon
        _backward_layer(params, layers, i, n_rows, a, delta, gz, grad, work)   # as the layer
        _update_layer(params, layers, i, grad, learning_rate, bias_scale)      # below has its delta
    return cost


@jit
def train_step(params, layers, loss, X, Y, rows, learning_rate, bias_mean, buffers, scratch):
    """One full step on the samples ``X[rows]``: forward, backward, update. Returns the cost before it.

    ``buffers`` comes from :func:`allocate` and ``scratch`` from :func:`scratch`,
    both for at least ``len(rows)`` rows.
    """
    n = params.shape[0]
    return _step(params, layers, loss, X, Y, rows, learning_rate, bias_mean,
                 buffers[0], buffers[1], buffers[2], buffers[3], scratch[:n], scratch[n:])


@jit_inline
def total_cost(params, layers, loss, X, Y, seq, z, a):
    """Cost of the whole data set, in chunks of ``z.shape[0]`` rows; ``seq`` is ``arange(len(X))``.

    Inlined into the training loop: as a call of its own, Numba linked in and optimized
    the forward pass once more (1 s of a first fit's compile)."""
    n = X.shape[0]
    chunk = z.shape[0]
    total = z.dtype.type(0)
    for start in range(0, n, chunk):
        rows = seq[start:min(start + chunk, n)]
        forward(params, layers, X, rows, z, a)
        total += loss_sum(layers, loss, Y, rows, z, a)
    if loss == MSE:
        total *= z.dtype.type(1) / z.dtype.type(n * layers[layers.shape[0] - 1, N_OUT])   # as loss_delta
    return total


@jit
def shuffle(order, state):
    """Fisher-Yates shuffle of ``order`` in place, driven by ``state[0]``.

    A Park-Miller generator (multiplier 48271, modulus 2**31 - 1) whose
    products fit in int64: the same sequence with or without the JIT, and no
    global random state touched. ``state[0]`` must be in [1, 2**31 - 2].
    """
    s = state[0]
    for i in range(order.shape[0] - 1, 0, -1):
        s = (s * 48271) % 2147483647
        j = s % (i + 1)
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp
    state[0] = s


@_njit(**JIT_OPTIONS)                                 # allocates: reference counted
def train(params, layers, loss, X, Y, learning_rate, epochs, batch_size, shuffled, bias_mean, state, costs):
    """Train in place: ``epochs`` passes of mini-batch gradient descent, all inside one compiled call.

    Buffers are allocated once, at the start; the steps allocate nothing.
    ``costs[e]`` receives the cost on all of ``(X, Y)`` after epoch ``e``.
    ``state`` carries the shuffle generator (see :func:`shuffle`) from call to call.
    """
    n = X.shape[0]
    n_batch = min(batch_size, n)
    last = layers.shape[0] - 1
    n_units = layers[last, U_OUT] + layers[last, N_OUT]
    a = np.empty((n_batch, n_units), dtype=params.dtype)
    z = np.empty((n_batch, n_units - layers[0, N_IN]), dtype=params.dtype)   # no input units
    grad = np.empty_like(params)
    work = np.empty(work_size(layers, n_batch, params.itemsize), dtype=params.dtype)
    order = np.arange(n)
    _epochs(params, layers, loss, X, Y, learning_rate, epochs, n_batch, shuffled, bias_mean, state, costs,
            z, a, grad, work, order)


def train_from_python(params, layers, loss, X, Y, learning_rate, epochs, batch_size, shuffled, bias_mean, state,
                      costs, parallel=False):
    """:func:`train` (or ``parallel.train``), for callers outside compiled code, as ``MLP.fit``.

    The same buffers and the same compiled loop (:func:`_epochs`), but the buffers
    are made here, in NumPy: Numba compiles a function with every function it calls
    linked in and optimizes the whole again, so a first fit through :func:`train`
    compiled the whole training loop twice over (measured: 13.1 -> 10.7 s).
    """
    n = X.shape[0]
    n_batch = min(batch_size, n)
    n_units = int(layers[-1, U_OUT] + layers[-1, N_OUT])
    a = np.empty((n_batch, n_units), dtype=params.dtype)
    z = np.empty((n_batch, n_units - int(layers[0, N_IN])), dtype=params.dtype)   # no input units
    work = np.empty(work_size(layers, n_batch, params.itemsize), dtype=params.dtype)
    run = _epochs_parallel if parallel else _epochs
    run(params, layers, loss, X, Y, learning_rate, epochs, n_batch, shuffled, bias_mean, state, costs,
        z, a, np.empty_like(params), work, np.arange(n))


@jit
def _epochs(params, layers, loss, X, Y, learning_rate, epochs, n_batch, shuffled, bias_mean, state, costs,
            z, a, grad, work, order):
    """The loop of :func:`train` over epochs and batches, given its buffers (``order``: ``arange(n)``).

    Training holds only ``z`` (without the input units) and ``a``: (12) needs ``a``
    alone, so on the way back each layer's ``delta`` and then ``dC/dz`` overwrite its
    ``z``, which is no longer needed (the fit's peak memory: parameters, z, a, gradients
    and a small work space).
    """
    n = X.shape[0]
    # Full batch in a fixed order: the cost a step computes before its update is the cost
    # after the previous epoch, bit for bit, so only the last epoch needs one more pass.
    reuse = n_batch == n and not shuffled
    for e in range(epochs):
        for r in range(n):                             # each epoch's order depends on state alone,
            order[r] = r                               # so epochs may run one call at a time
        if shuffled:
            shuffle(order, state)
        for start in range(0, n, n_batch):
            rows = order[start:min(start + n_batch, n)]
            cost = _step(params, layers, loss, X, Y, rows, learning_rate, bias_mean, z, a, z, z, grad, work)
        if reuse and e > 0:
            costs[e - 1] = cost
        if not reuse or e == epochs - 1:
            for r in range(n):
                order[r] = r
            costs[e] = total_cost(params, layers, loss, X, Y, order, z, a)


# ------------------------------------------------------------------ parallel variants
def _parallel_variants(names):
    """Compile the functions ``names`` a second time with ``parallel=True``.

    One Python body, two machine codes: each copy gets its own name (so
    Numba's on-disk cache, which ignores ``parallel=``, keeps them apart)
    and a namespace in which the other copies are the parallel ones, so a
    parallel ``train`` calls the parallel ``forward``, which calls the
    parallel ``_gemm_nt``.
    """
    namespace = dict(globals())
    variants = {}
    for name in names:
        fn = getattr(globals()[name], "py_func", globals()[name])
        code = fn.__code__.replace(co_name=f"{name}_parallel", co_qualname=f"{name}_parallel")
        copy = types.FunctionType(code, namespace, code.co_name, fn.__defaults__)
        copy.__doc__ = fn.__doc__
        uses_prange = "prange" in code.co_names
        options = JIT_OPTIONS if name == "train" else _NO_NRT
        variants[name] = namespace[name] = _njit(parallel=uses_prange, **options)(copy)
    return types.SimpleNamespace(**variants)


#: The parallel kernels: ``parallel.forward``, ``parallel.train`` and so on,
#: with the signatures of their serial twins; threads come from ``numba.set_num_threads``.
parallel = _parallel_variants([
    "_gemm_panels", "_gemm_nt", "_transpose", "_row_sums", "_bias_activation_tasks", "_gz_below_tasks",
    "_delta_few_tasks",
    "_layer_big", "_backward_big", "_backward_layer", "forward", "backward", "_step", "train_step", "total_cost",
    "_epochs", "train"])
# Start Numba's thread pool now, at import. A parallel loop inside a kernel that is not itself
# compiled with parallel=True (train_parallel calls the parallel sums; so may the user's own
# @njit code) does not start it when that kernel comes from the on-disk cache, and the first
# parallel loop then crashed the process (a segfault, or "LLVM ERROR: Symbol not found:
# allocate_sched"). It costs about 12 ms.
numba.get_num_threads()
forward_parallel = parallel.forward
backward_parallel = parallel.backward
train_step_parallel = parallel.train_step
train_parallel = parallel.train
_epochs_parallel = parallel._epochs
