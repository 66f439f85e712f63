"""Shared fixtures and helpers: the article's data, random cases, tolerances, passes.

Helpers are plain functions (``from conftest import make_case``) so that a
module-scoped fixture or a hypothesis test can call them with its own
``np.random.default_rng(seed)``; nothing here touches global random state.
"""

import numpy as np
import pytest

from bpfast import MLP
from bpfast import kernels as K
from bpfast import reference as R
from bpfast._config import EQUIVALENCE_TOL, LOSSES

# ------------------------------------------------------------------ the article's data
ARTICLE_X = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
ARTICLE_Y = np.array([[1.0, 0.0], [0.0, 1.0]])
ARTICLE_SIZES = (3, 3, 2)


@pytest.fixture
def article_data():
    """The article's two samples ``x`` (2, 3) and targets ``y`` (2, 2): fresh copies."""
    return ARTICLE_X.copy(), ARTICLE_Y.copy()


@pytest.fixture
def article_net():
    """The article's 3-3-2 sigmoid network with the sse cost (2), seeded uniform [0, 1) weights."""
    return MLP(ARTICLE_SIZES, activation="sigmoid", loss="sse", init="uniform", seed=16)


# ------------------------------------------------------------------ tolerances
# Every tolerance derives from bpfast._config.EQUIVALENCE_TOL. Comparisons with
# the float64 oracle (tests/naive.py) or torch carry the rounding error of both
# sides and of a different summation order, hence a small factor on top.
ORACLE_FACTOR = 2


def tol(dtype):
    """``{"rtol": ..., "atol": ...}`` for a dtype (name, type or dtype)."""
    return EQUIVALENCE_TOL[np.dtype(dtype).name]


def normwise_error(actual, expected):
    """``(max|actual - expected|, max(|actual|, |expected|))`` over the whole array, in float64."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    assert np.isfinite(actual).all(), "actual has NaN or inf"
    assert np.isfinite(expected).all(), "expected has NaN or inf"
    diff = float(np.max(np.abs(actual - expected), initial=0.0))
    scale = float(max(np.max(np.abs(actual), initial=0.0), np.max(np.abs(expected), initial=0.0)))
    return diff, scale


def assert_close(actual, expected, dtype, factor=1, what=""):
    """Normwise check, as the equivalence layer does: max|diff| <= f * (atol + rtol * max|value|)."""
    t = tol(dtype)
    diff, scale = normwise_error(actual, expected)
    bound = factor * (t["atol"] + t["rtol"] * scale)
    assert diff <= bound, f"{what}: max|diff| = {diff:.3e} > {bound:.3e} (max|value| = {scale:.3e})"


def assert_lists_close(actual, expected, dtype, factor=1, what=""):
    assert len(actual) == len(expected), f"{what}: {len(actual)} arrays != {len(expected)}"
    for i, (x, y) in enumerate(zip(actual, expected)):
        assert_close(x, y, dtype, factor, f"{what}[{i}]")


# ------------------------------------------------------------------ random cases
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
ALL_LOSSES = tuple(LOSSES)
DTYPES = ("float64", "float32")


def make_case(rng, depth=None, widths=None, batch=None, activations=None, loss=None,
              dtype="float64"):
    """A random valid network and batch: ``(net, X, Y)``.

    Parameters
    ----------
    rng : numpy.random.Generator
    depth : int, 1-4 weight layers (drawn when None and ``widths`` is None)
    widths : sequence of int, the layer sizes ``[n_0, ..., n_{L-1}]`` (drawn in 1-40 when None)
    batch : int, number of samples (drawn in 1-50 when None)
    activations : sequence of names, one per weight layer (drawn when None:
        hidden layers from sigmoid/tanh/relu/identity, softmax output for cross_entropy)
    loss : name (drawn when None)
    dtype : "float64" or "float32"

    Biases are drawn too (not left at zero), so a forward pass that drops
    them cannot pass. ``Y`` is one-hot when the output is softmax, uniform in
    [0, 1) otherwise.
    """
    if widths is None:
        depth = int(rng.integers(1, 5)) if depth is None else depth
        widths = [int(n) for n in rng.integers(1, 41, size=depth + 1)]
    widths = [int(n) for n in widths]
    depth = len(widths) - 1
    if loss is None:
        loss = str(rng.choice(ALL_LOSSES))
    if activations is None:
        activations = [str(rng.choice(HIDDEN_ACTIVATIONS)) for _ in range(depth)]
        if loss == "cross_entropy" or rng.random() < 0.25:
            activations[-1] = "softmax"
            widths[-1] = max(2, widths[-1])            # softmax needs 2+ outputs
    activations = list(activations)
    assert len(activations) == depth
    assert "softmax" not in activations[:-1], "softmax is only valid on the output layer"
    assert loss != "cross_entropy" or activations[-1] == "softmax", "cross_entropy needs softmax"
    batch = int(rng.integers(1, 51)) if batch is None else batch

    net = MLP(widths, activation=activations, loss=loss, init="glorot",
              seed=int(rng.integers(2**31)), dtype=dtype)
    biases = [rng.uniform(-0.5, 0.5, size=n) for n in widths[1:]]
    net.set_params(net.weights, biases)
    X = rng.standard_normal((batch, widths[0])).astype(dtype)
    n_out = widths[-1]
    if activations[-1] == "softmax":
        Y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, size=batch)]
    else:
        Y = rng.random((batch, n_out)).astype(dtype)
    return net, X, Y


def case_id(widths, batch, activations, loss, dtype):
    return f"{'-'.join(map(str, widths))}_b{batch}_{'/'.join(activations)}_{loss}_{dtype}"


def random_case_specs(n_cases=30, seed=20190):
    """Deterministic specs ``(seed, widths, batch, activations, loss, dtype)`` for parametrize.

    Covers depth 1-4, widths 1-40, batch 1-50, every activation (softmax
    included), every loss and both dtypes. Large widths come with small
    batches so the suite stays fast with NUMBA_DISABLE_JIT=1.
    """
    rng = np.random.default_rng(seed)
    specs = []
    fixed = [  # the corners, always present
        ([1, 1], 1, ["identity"], "sse", "float64"),
        ([40, 1], 50, ["sigmoid"], "mse", "float32"),
        ([1, 40], 7, ["softmax"], "cross_entropy", "float64"),
        ([40, 40, 40, 40, 40], 3, ["relu", "tanh", "sigmoid", "identity"], "sse", "float64"),
        ([2, 3, 4, 5, 6], 50, ["tanh", "relu", "identity", "softmax"], "cross_entropy", "float32"),
        ([5, 8, 3], 20, ["sigmoid", "softmax"], "sse", "float64"),
        ([5, 8, 3], 20, ["relu", "softmax"], "mse", "float32"),
        ([7, 1, 7], 9, ["tanh", "tanh"], "mse", "float64"),
    ]
    for widths, batch, acts, loss, dtype in fixed:
        specs.append((int(rng.integers(2**31)), widths, batch, acts, loss, dtype))
    while len(specs) < n_cases:
        i = len(specs)
        depth = 1 + i % 4
        loss = ALL_LOSSES[i % 3]
        dtype = DTYPES[(i // 3) % 2]
        widths = [int(n) for n in rng.integers(1, 41, size=depth + 1)]
        budget = 20000 // max(1, sum(a * b for a, b in zip(widths[:-1], widths[1:])))
        batch = int(rng.integers(1, max(2, min(50, budget) + 1)))
        acts = [HIDDEN_ACTIVATIONS[(i + j) % 4] for j in range(depth)]
        if loss == "cross_entropy" or i % 5 == 0:
            acts[-1] = "softmax"
            widths[-1] = max(2, widths[-1])            # softmax needs 2+ outputs
        specs.append((int(rng.integers(2**31)), widths, batch, acts, loss, dtype))
    return specs


def case_params(specs):
    return [pytest.param(spec, id=case_id(*spec[1:])) for spec in specs]


def build_case(spec):
    seed, widths, batch, acts, loss, dtype = spec
    return make_case(np.random.default_rng(seed), widths=widths, batch=batch, activations=acts,
                     loss=loss, dtype=dtype)


# ------------------------------------------------------------------ passes
def loop_pass(net, X, Y, kernels=K):
    """One forward and backward pass with the loop kernels called directly.

    ``kernels`` is :mod:`bpfast.kernels` (serial) or ``bpfast.kernels.parallel``.

    Returns a dict shaped like ``naive.backprop``: ``cost``, ``z``, ``a``
    (``a[0]`` is X), ``delta`` (``delta[i]`` is ``delta^{i+1}``), ``dz``,
    ``grad_w``, ``grad_b``.
    """
    dtype = net.dtype
    layers, n_params, n_units = K.layer_table(net.layer_sizes, net.activations)
    params = K.pack(net.weights, net.biases, layers, dtype)
    assert params.shape == (n_params,) and params.dtype == dtype
    X = np.ascontiguousarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)
    n = X.shape[0]
    rows = np.arange(n)
    z, a, delta, gz = K.allocate(layers, n, dtype)
    assert z.shape == (n, n_units)
    grad = np.full_like(params, np.nan)               # backward must overwrite every entry
    work = np.full(K.work_size(layers, n, np.dtype(dtype).itemsize), np.nan, dtype=dtype)  # no spare
    kernels.forward(params, layers, X, rows, z, a)
    cost = K.loss_delta(layers, LOSSES[net.loss], Y, rows, z, a, delta, gz)
    kernels.backward(params, layers, n, z, a, delta, gz, grad, work)
    grad_w, grad_b = K.unpack(grad, layers)
    cols = [slice(u, u + m) for m, u in zip(layers[:, K.N_OUT], layers[:, K.U_OUT])]
    return {
        "cost": cost,
        "z": [z[:, c].copy() for c in cols],
        "a": [a[:, :net.layer_sizes[0]].copy()] + [a[:, c].copy() for c in cols],
        "delta": [delta[:, c].copy() for c in cols],
        "dz": [gz[:, c].copy() for c in cols],
        "grad_w": grad_w,
        "grad_b": grad_b,
    }


def vectorized_pass(net, X, Y):
    """The same pass with the matrix form of :mod:`bpfast.reference`, (16)-(24)."""
    X = np.ascontiguousarray(X, dtype=net.dtype)
    Y = np.ascontiguousarray(Y, dtype=net.dtype)
    ws, bs, acts = net.weights, net.biases, list(net.activations)
    zs, a = R.forward(ws, bs, acts, X)
    deltas, grad_w, grad_b = R.backward(ws, acts, net.loss, zs, a, Y)
    return {
        "cost": R.cost(net.loss, zs[-1], a[-1], Y),
        "z": zs,
        "a": a,
        "delta": deltas,
        "grad_w": grad_w,
        "grad_b": grad_b,
    }


def naive_pass(net, X, Y):
    """The oracle's pass on the network's exact parameters (read in double precision)."""
    import naive
    return naive.backprop(net.weights, net.biases, list(net.activations), net.loss, X, Y)
