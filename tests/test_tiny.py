"""The training run compiled for one tiny shape (bpfast.tiny) against kernels.train and naive.fit."""

import naive
import numpy as np
import pytest
from conftest import ORACLE_FACTOR, assert_close, assert_lists_close, make_case

from bpfast import MLP, tiny
from bpfast import kernels as K
from bpfast._config import LOSSES

# (widths, activations, loss, batch size, shuffle, bias rule): each a shape compiled once
CASES = [
    ((3, 3, 2), ("sigmoid", "sigmoid"), "sse", 2, False, False),    # the article's net
    ((2, 4, 1), ("tanh", "sigmoid"), "mse", 3, True, False),
    ((5, 7, 3), ("relu", "identity"), "sse", 4, True, True),
    ((1, 11, 2), ("identity", "tanh"), "mse", 9, False, True),
]


def _train_both(case, dtype, epochs=6):
    widths, acts, loss, batch, shuffled, bias_mean = case
    rng = np.random.default_rng(sum(widths))
    net, X, Y = make_case(rng, widths=widths, batch=9, activations=acts, loss=loss, dtype=dtype)
    layers = K.layer_table(widths, acts)[0]
    lr = net.dtype.type(0.05)
    out = []
    for train in (tiny.train, K.train):
        params = K.pack(net.weights, net.biases, layers, net.dtype)
        state = np.array([777], dtype=np.int64)
        costs = np.empty(epochs, dtype=net.dtype)
        train(params, layers, LOSSES[loss], X, Y, lr, epochs, batch, shuffled, bias_mean, state, costs)
        out.append((params, costs, state[0]))
    return net, X, Y, layers, out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c[0])) + "-" + "-".join(c[1]))
def test_tiny_train_equals_kernels_train_5_6_11_12_13_15_21_22(case, dtype):
    """The same sums in the same order: equal to rounding (LLVM may fuse a product into a
    different multiply-add once the loops unroll), costs, parameters and shuffle state."""
    _, _, _, _, ((p_tiny, c_tiny, s_tiny), (p_ref, c_ref, s_ref)) = _train_both(case, dtype)
    assert_close(c_tiny, c_ref, dtype, 1, "costs")
    assert_close(p_tiny, p_ref, dtype, 1, "params")
    assert s_tiny == s_ref


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tiny_full_batch_matches_naive_fit_21_22(dtype):
    """Against the independent oracle: full-batch descent, the exact and the article's bias rule."""
    rng = np.random.default_rng(11)
    net, X, Y = make_case(rng, widths=[3, 4, 2], batch=5, activations=["tanh", "sigmoid"], loss="sse",
                          dtype=dtype)
    layers = K.layer_table(net.layer_sizes, net.activations)[0]
    for bias_mean in (False, True):
        params = K.pack(net.weights, net.biases, layers, net.dtype)
        costs = np.empty(4, dtype=net.dtype)
        tiny.train(params, layers, K.SSE, X, Y, net.dtype.type(0.3), 4, 5, False, bias_mean,
                   np.array([1], dtype=np.int64), costs)
        ws, bs, want = naive.fit(net.weights, net.biases, net.activations, "sse", X, Y, 0.3, 4,
                                 "mean" if bias_mean else "sum")
        got_w, got_b = K.unpack(params, layers)
        assert_close(costs, want, dtype, ORACLE_FACTOR, "costs")
        assert_lists_close(got_w, ws, dtype, ORACLE_FACTOR, "weights")
        assert_lists_close(got_b, bs, dtype, ORACLE_FACTOR, "biases")


@pytest.mark.parametrize("sizes, acts, loss, expected", [
    ((3, 3, 2), ("sigmoid", "sigmoid"), "sse", True),
    ((11, 11, 11), ("relu", "relu"), "mse", True),          # 121 weights per layer: below _SMALL
    ((12, 11, 2), ("relu", "relu"), "mse", False),          # 132 weights: the blocked sums
    ((3, 3, 2), ("sigmoid", "softmax"), "cross_entropy", False),
    ((3, 3, 2), ("sigmoid", "softmax"), "sse", False),
    ((3, 2), ("sigmoid",), "sse", False),                   # no hidden layer
    ((3, 3, 3, 2), ("sigmoid",) * 3, "sse", False),         # two hidden layers
])
def test_tiny_eligible(sizes, acts, loss, expected):
    assert tiny.eligible(K.layer_table(sizes, acts)[0], LOSSES[loss]) is expected


def test_fit_runs_the_tiny_kernel_for_tiny_nets_only(monkeypatch):
    """MLP.fit picks the compiled-shape kernel for the article's net, at any thread count,
    and the generic one otherwise, through K.train_from_python (not K.train, whose compile
    would take the whole training loop again)."""
    calls, general = [], []
    real, real_general = tiny.train, K.train_from_python
    monkeypatch.setattr(tiny, "train", lambda *args: calls.append(args[1].shape[0]) or real(*args))
    monkeypatch.setattr(K, "train_from_python",
                        lambda *args, parallel: general.append(parallel) or real_general(*args, parallel=parallel))
    X, Y = np.array([[1.0, 2, 3], [3, 2, 1]]), np.array([[1.0, 0], [0, 1]])
    MLP([3, 3, 2], init="uniform", seed=16).fit(X, Y, epochs=3)
    MLP([3, 3, 2], init="uniform", seed=16, threads=2).fit(X, Y, epochs=3)
    MLP([3, 3, 3, 2], seed=16).fit(X, Y, epochs=3)
    MLP([3, 3, 3, 2], seed=16, threads=2).fit(X, Y, epochs=3)
    assert calls == [2, 2]
    assert general == [False, True]


def test_tiny_compiles_each_shape_once():
    """The entry point is kept: a second call with the same shape and dtype compiles nothing."""
    case = CASES[0]
    _train_both(case, "float64", epochs=1)
    key = ("d", 3, 3, 2, K.SIGMOID, K.SIGMOID, K.SSE)
    kernel = tiny._compiled[key]
    _train_both(case, "float64", epochs=1)
    assert tiny._compiled[key] is kernel


@pytest.mark.skipif(not hasattr(tiny._train, "py_func"), reason="inspects the compiled kernel")
def test_tiny_kernel_is_compiled_for_literal_shapes_and_without_exp_neg(monkeypatch):
    """_compile types the widths, activation codes and loss as literals (so the loops unroll);
    the kernel must not reach kernels.exp_neg, which the sigmoid of the vectorized loops uses
    and which cost 0.12 s of its compile time when _activate_scalar fell through to it."""
    import numba
    from numba.core import types

    options = {k: v for k, v in K._NO_NRT.items() if k != "cache"}
    fresh = numba.njit(**options)(tiny._train.py_func)
    monkeypatch.setattr(tiny, "_train", fresh)
    for act_hid, act_out in ((K.SIGMOID, K.SIGMOID), (K.TANH, K.RELU)):
        tiny._compile(np.dtype(np.float64), (3, 3, 2, act_hid, act_out, K.SSE))
    assert len(fresh.signatures) == 2
    for sig in fresh.signatures:
        assert all(isinstance(t, types.IntegerLiteral) for t in sig[-6:]), sig[-6:]
        assert [t.literal_value for t in sig[-6:-3]] == [3, 3, 2]
        assert "exp_neg" not in fresh.inspect_llvm(sig)
