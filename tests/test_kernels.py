"""Loop kernels (5)-(15), (21)-(22) and matrix form (16)-(24) against the oracle and each other."""

import os
import re
import subprocess
import sys
import warnings

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naive
from bpfast import MLP
from bpfast import kernels as K
from bpfast._config import GRADCHECK, JIT_OPTIONS, LOSSES
from conftest import (ALL_LOSSES, ARTICLE_SIZES, HIDDEN_ACTIVATIONS, ORACLE_FACTOR, assert_close,
                      assert_lists_close, build_case, case_id, case_params, loop_pass, make_case,
                      naive_pass, random_case_specs, vectorized_pass)

JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0")

SPECS = random_case_specs()


def _all_passes(net, X, Y):
    return net, X, Y, loop_pass(net, X, Y), vectorized_pass(net, X, Y), naive_pass(net, X, Y)


@pytest.fixture(scope="module", params=case_params(SPECS))
def case(request):
    """A random architecture with every intermediate computed three ways, once per module."""
    return _all_passes(*build_case(request.param))


@pytest.fixture(scope="module")
def article_case():
    net = MLP(ARTICLE_SIZES, activation="sigmoid", loss="sse", init="uniform", seed=16)
    X = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    return _all_passes(net, X, Y)


def test_random_specs_cover_everything():
    """The parametrized cases cover depth 1-4, every activation, every loss and both dtypes."""
    depths = {len(s[1]) - 1 for s in SPECS}
    acts = {a for s in SPECS for a in s[3]}
    assert depths == {1, 2, 3, 4}
    assert acts == set(HIDDEN_ACTIVATIONS) | {"softmax"}
    assert {s[4] for s in SPECS} == set(ALL_LOSSES)
    assert {s[5] for s in SPECS} == {"float32", "float64"}
    assert max(max(s[1]) for s in SPECS) == 40 and min(min(s[1]) for s in SPECS) == 1
    assert max(s[2] for s in SPECS) == 50 and min(s[2] for s in SPECS) == 1
    assert len(SPECS) >= 30


# ------------------------------------------------------------------ the article's net
def test_article_forward_matches_naive_5_6_11(article_case):
    net, X, Y, loops, vec, ref = article_case
    for name, got in (("loops", loops), ("vectorized", vec)):
        assert_lists_close(got["z"], ref["z"], net.dtype, ORACLE_FACTOR, f"{name} z (5)/(6)")
        assert_lists_close(got["a"], ref["a"], net.dtype, ORACLE_FACTOR, f"{name} a (11)")


def test_article_by_hand_5_6_11_2():
    """The article's net with hand-picked weights: the values written out by hand."""
    w0 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
    w1 = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    net = MLP.from_params([w0, w1], [np.zeros(3), np.zeros(2)])
    x = np.array([[1.0, 2.0, 3.0]])
    y = np.array([[1.0, 0.0]])
    z0 = np.array([[0.1 + 0.8 + 2.1, 0.2 + 1.0 + 2.4, 0.3 + 1.2 + 2.7]])    # (5)/(6)
    a1 = 1 / (1 + np.exp(-z0))                                              # (11)
    z1 = a1 @ w1
    a2 = 1 / (1 + np.exp(-z1))
    for backend in ("loops", "vectorized"):
        assert_close(net.forward(x, backend=backend), a2, "float64", 1, f"{backend} (11)")
        assert_close(net.cost(x, y, backend=backend), np.sum((a2 - y) ** 2), "float64", 1,
                     f"{backend} (2)")


def test_article_cost_matches_naive_2(article_case):
    net, X, Y, loops, vec, ref = article_case
    assert_close(loops["cost"], ref["cost"], net.dtype, ORACLE_FACTOR, "loops cost (2)")
    assert_close(vec["cost"], ref["cost"], net.dtype, ORACLE_FACTOR, "vectorized cost (2)")
    assert_close(ref["cost"], 1.3487904570007219, "float64", 1, "article cost, seed 16")


def test_article_deltas_match_naive_13_15_16_18(article_case):
    net, X, Y, loops, vec, ref = article_case
    assert_lists_close(loops["delta"], ref["delta"], net.dtype, ORACLE_FACTOR, "loops (13)/(15)")
    assert_lists_close(vec["delta"], ref["delta"], net.dtype, ORACLE_FACTOR, "vectorized (16)-(18)")
    # (13) for sse: 2 (a - y)
    assert_close(ref["delta"][-1], 2 * (ref["a"][-1] - Y), "float64", 1, "(13) = 2 (a - y)")


def test_article_gradients_match_naive_21_22_23_24(article_case):
    net, X, Y, loops, vec, ref = article_case
    for key, eqs in (("grad_w", "(21)/(23)"), ("grad_b", "(22)/(24)")):
        assert_lists_close(loops[key], ref[key], net.dtype, ORACLE_FACTOR, f"loops {key} {eqs}")
        assert_lists_close(vec[key], ref[key], net.dtype, ORACLE_FACTOR, f"vectorized {key} {eqs}")


# ------------------------------------------------------------------ random architectures
def test_forward_matches_naive_5_6_11(case):
    net, X, Y, loops, vec, ref = case
    for name, got in (("loops", loops), ("vectorized", vec)):
        assert_lists_close(got["z"], ref["z"], net.dtype, ORACLE_FACTOR, f"{name} z (5)/(6)")
        assert_lists_close(got["a"], ref["a"], net.dtype, ORACLE_FACTOR, f"{name} a (11)")
        assert all(z.dtype == net.dtype for z in got["z"] + got["a"])


def test_forward_loops_vs_vectorized_5_6_11(case):
    net, X, Y, loops, vec, _ = case
    assert_lists_close(loops["z"], vec["z"], net.dtype, 1, "z (5)/(6) vs a w + b")
    assert_lists_close(loops["a"], vec["a"], net.dtype, 1, "a (11)")


def test_cost_matches_naive_2(case):
    net, X, Y, loops, vec, ref = case
    assert_close(loops["cost"], ref["cost"], net.dtype, ORACLE_FACTOR, "loops cost")
    assert_close(vec["cost"], ref["cost"], net.dtype, ORACLE_FACTOR, "vectorized cost")
    assert_close(loops["cost"], vec["cost"], net.dtype, 1, "loops vs vectorized cost")


def test_output_delta_matches_naive_13(case):
    net, X, Y, loops, vec, ref = case
    assert_close(loops["delta"][-1], ref["delta"][-1], net.dtype, ORACLE_FACTOR, "loops (13)")
    assert_close(vec["delta"][-1], ref["delta"][-1], net.dtype, ORACLE_FACTOR, "vectorized (13)")
    assert_close(loops["dz"][-1], ref["dz"][-1], net.dtype, ORACLE_FACTOR, "loops dC/dz output")


def test_backward_delta_matches_naive_15(case):
    net, X, Y, loops, vec, ref = case
    assert_lists_close(loops["delta"], ref["delta"], net.dtype, ORACLE_FACTOR, "loops delta (15)")
    assert_lists_close(loops["dz"], ref["dz"], net.dtype, ORACLE_FACTOR, "loops g'(z) delta (12)")


def test_backward_delta_matches_naive_16_18(case):
    net, X, Y, loops, vec, ref = case
    assert_lists_close(vec["delta"], ref["delta"], net.dtype, ORACLE_FACTOR, "vectorized (16)-(18)")
    assert_lists_close(loops["delta"], vec["delta"], net.dtype, 1, "(15) vs (16)-(18)")


def test_gradients_match_naive_21_22(case):
    net, X, Y, loops, vec, ref = case
    assert_lists_close(loops["grad_w"], ref["grad_w"], net.dtype, ORACLE_FACTOR, "dC/dw (21)")
    assert_lists_close(loops["grad_b"], ref["grad_b"], net.dtype, ORACLE_FACTOR, "dC/db (22)")


def test_gradients_match_naive_23_24(case):
    net, X, Y, loops, vec, ref = case
    assert_lists_close(vec["grad_w"], ref["grad_w"], net.dtype, ORACLE_FACTOR, "dC/dw (23)")
    assert_lists_close(vec["grad_b"], ref["grad_b"], net.dtype, ORACLE_FACTOR, "dC/db (24)")
    assert_lists_close(loops["grad_w"], vec["grad_w"], net.dtype, 1, "(21) vs (23)")
    assert_lists_close(loops["grad_b"], vec["grad_b"], net.dtype, 1, "(22) vs (24)")
    for gw, w in zip(loops["grad_w"] + vec["grad_w"], net.weights + net.weights):
        assert gw.shape == w.shape and gw.dtype == net.dtype


def test_model_methods_match_naive_2_11_21_22(case):
    """MLP.forward/cost/gradients, both backends, agree with the oracle on the same case."""
    net, X, Y, _, _, ref = case
    for backend in ("loops", "vectorized"):
        assert_close(net.forward(X, backend=backend), ref["a"][-1], net.dtype, ORACLE_FACTOR,
                     f"{backend} forward")
        assert_close(net.cost(X, Y, backend=backend), ref["cost"], net.dtype, ORACLE_FACTOR,
                     f"{backend} cost")
        grad_w, grad_b = net.gradients(X, Y, backend=backend)
        assert_lists_close(grad_w, ref["grad_w"], net.dtype, ORACLE_FACTOR, f"{backend} dC/dw")
        assert_lists_close(grad_b, ref["grad_b"], net.dtype, ORACLE_FACTOR, f"{backend} dC/db")


# ------------------------------------------------------------------ the oracle itself
@pytest.mark.parametrize("loss,acts", [("sse", ["sigmoid", "tanh"]), ("mse", ["relu", "softmax"]),
                                       ("cross_entropy", ["identity", "softmax"]),
                                       ("sse", ["tanh", "identity", "sigmoid"])])
def test_naive_gradients_match_finite_differences_21_22(loss, acts):
    """The oracle's (21)/(22) against central differences of its own cost (2)."""
    rng = np.random.default_rng(7)
    sizes = [3] + [4] * (len(acts) - 1) + [3]
    ws = [rng.standard_normal((m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    bs = [rng.uniform(-0.5, 0.5, n) for n in sizes[1:]]
    X = rng.standard_normal((5, 3))
    Y = np.eye(3)[rng.integers(0, 3, 5)] if acts[-1] == "softmax" else rng.random((5, 3))
    cost, grad_w, grad_b = naive.gradients(ws, bs, acts, loss, X, Y)
    num_w, num_b = naive.finite_difference(ws, bs, acts, loss, X, Y, eps=GRADCHECK["eps"])
    tol = GRADCHECK["float64"]
    floor = GRADCHECK["abs_floor"] * max(1.0, abs(cost))
    for got, want in zip(grad_w + grad_b, num_w + num_b):
        err = np.abs(got - want) / np.maximum(np.maximum(np.abs(got), np.abs(want)), floor)
        assert err.max() <= tol["max_rel"] and err.mean() <= tol["mean_rel"]


def test_cross_entropy_probability_targets_match_naive_13():
    """Soft targets, and rows not summing to 1: dC/dz = a sum(y) - y, (13) = -y/a."""
    rng = np.random.default_rng(3)
    net, X, _ = make_case(rng, widths=[4, 6, 5], batch=8, activations=["tanh", "softmax"],
                          loss="cross_entropy")
    Y = rng.random((8, 5))
    Y[0] = 0
    Y[1, :2] = 0
    ref = naive_pass(net, X, Y)
    for got in (loop_pass(net, X, Y), vectorized_pass(net, X, Y)):
        assert_close(got["cost"], ref["cost"], net.dtype, ORACLE_FACTOR, "cost")
        assert_lists_close(got["delta"], ref["delta"], net.dtype, ORACLE_FACTOR, "delta")
        assert_lists_close(got["grad_w"], ref["grad_w"], net.dtype, ORACLE_FACTOR, "dC/dw")
        assert_lists_close(got["grad_b"], ref["grad_b"], net.dtype, ORACLE_FACTOR, "dC/db")
    assert np.all(ref["delta"][-1][0] == 0)


# ------------------------------------------------------------------ property test
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 4), batch=st.integers(1, 12),
       max_width=st.integers(1, 12), loss=st.sampled_from(ALL_LOSSES),
       dtype=st.sampled_from(["float64", "float32"]), softmax_out=st.booleans())
def test_property_loops_vectorized_naive_agree_2_11_15_21_22(seed, depth, batch, max_width, loss,
                                                             dtype, softmax_out):
    rng = np.random.default_rng(seed)
    widths = [int(n) for n in rng.integers(1, max_width + 1, size=depth + 1)]
    acts = [str(rng.choice(HIDDEN_ACTIVATIONS)) for _ in range(depth)]
    if softmax_out or loss == "cross_entropy":
        acts[-1] = "softmax"
        widths[-1] = max(2, widths[-1])                # softmax needs 2+ outputs
    net, X, Y = make_case(rng, widths=widths, batch=batch, activations=acts, loss=loss, dtype=dtype)
    loops, vec, ref = loop_pass(net, X, Y), vectorized_pass(net, X, Y), naive_pass(net, X, Y)
    for key in ("z", "a", "delta", "grad_w", "grad_b"):
        assert_lists_close(loops[key], vec[key], dtype, 1, f"loops vs vectorized {key}")
        assert_lists_close(loops[key], ref[key], dtype, ORACLE_FACTOR, f"loops vs naive {key}")
    assert_close(loops["cost"], ref["cost"], dtype, ORACLE_FACTOR, "cost (2)")


# ------------------------------------------------------------------ other kernels
def test_total_cost_in_chunks_matches_naive_2():
    """total_cost evaluates the whole set in chunks of z.shape[0] rows; mse divides once."""
    rng = np.random.default_rng(11)
    for loss in ALL_LOSSES:
        acts = ["tanh", "softmax"] if loss == "cross_entropy" else ["tanh", "sigmoid"]
        net, X, Y = make_case(rng, widths=[3, 5, 4], batch=10, activations=acts, loss=loss)
        layers, _, _ = K.layer_table(net.layer_sizes, net.activations)
        params = K.pack(net.weights, net.biases, layers)
        want = naive.cost(net.weights, net.biases, acts, loss, X, Y)
        for chunk in (1, 3, 10):
            z, a, _, _ = K.allocate(layers, chunk)
            got = K.total_cost(params, layers, LOSSES[loss], X, Y, np.arange(10), z, a)
            assert_close(got, want, "float64", ORACLE_FACTOR, f"{loss} chunk {chunk}")
        z, a, _, _ = K.allocate(layers, 10)
        rows = np.arange(10)
        K.forward(params, layers, X, rows, z, a)
        unnormalised = K.loss_sum(layers, LOSSES[loss], Y, rows, z, a)
        scale = Y.size if loss == "mse" else 1
        assert_close(unnormalised, want * scale, "float64", ORACLE_FACTOR, f"{loss} loss_sum")


def test_forward_on_selected_rows_5_6():
    """forward(X, rows) fills buffer row s from sample rows[s] (mini-batches index this way)."""
    rng = np.random.default_rng(5)
    net, X, Y = make_case(rng, widths=[4, 3, 2], batch=9, activations=["relu", "sigmoid"], loss="sse")
    layers, _, _ = K.layer_table(net.layer_sizes, net.activations)
    params = K.pack(net.weights, net.biases, layers)
    rows = np.array([8, 0, 3, 3])
    z, a, _, _ = K.allocate(layers, 6)
    K.forward(params, layers, X, rows, z, a)
    ref = naive.forward(net.weights, net.biases, net.activations, X[rows])[1][-1]
    assert_close(a[:4, -2:], ref, "float64", ORACLE_FACTOR, "a of selected rows")


@pytest.mark.parametrize("bias_mean", [False, True])
def test_train_step_matches_naive_step_21_22(bias_mean):
    """One train_step: returns the cost before the step and moves every parameter at once."""
    rng = np.random.default_rng(21)
    net, X, Y = make_case(rng, widths=[3, 4, 2], batch=6, activations=["tanh", "sigmoid"], loss="sse")
    layers, _, _ = K.layer_table(net.layer_sizes, net.activations)
    params = K.pack(net.weights, net.biases, layers)
    buffers = K.allocate(layers, 6)
    scratch = K.scratch(layers, 6)
    cost = K.train_step(params, layers, K.SSE, X, Y, np.arange(6), 0.05, bias_mean, buffers, scratch)
    want_cost, gw, gb = naive.gradients(net.weights, net.biases, net.activations, "sse", X, Y)
    ws, bs = K.unpack(params, layers)
    scale = 1 / 6 if bias_mean else 1
    assert_close(cost, want_cost, "float64", ORACLE_FACTOR, "cost before the step")
    assert_lists_close(ws, [w - 0.05 * g for w, g in zip(net.weights, gw)], "float64",
                       ORACLE_FACTOR, "weights")
    assert_lists_close(bs, [b - 0.05 * scale * g for b, g in zip(net.biases, gb)], "float64",
                       ORACLE_FACTOR, "biases")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_train_full_batch_matches_naive_fit_21_22(dtype):
    rng = np.random.default_rng(4)
    net, X, Y = make_case(rng, widths=[3, 5, 2], batch=7, activations=["sigmoid", "sigmoid"],
                          loss="mse", dtype=dtype)
    layers, _, _ = K.layer_table(net.layer_sizes, net.activations)
    params = K.pack(net.weights, net.biases, layers, net.dtype)
    costs = np.empty(5, dtype=net.dtype)
    state = np.array([12345], dtype=np.int64)
    K.train(params, layers, K.MSE, X, Y, net.dtype.type(0.5), 5, 7, False, False, state, costs)
    assert state[0] == 12345                      # not shuffled: the state is untouched
    ws, bs, want = naive.fit(net.weights, net.biases, net.activations, "mse", X, Y, 0.5, 5)
    got_w, got_b = K.unpack(params, layers)
    assert_close(costs, want, dtype, ORACLE_FACTOR, "costs")
    assert_lists_close(got_w, ws, dtype, ORACLE_FACTOR, "weights")
    assert_lists_close(got_b, bs, dtype, ORACLE_FACTOR, "biases")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_train_from_python_is_train_bit_for_bit_5_6_15_21_22(parallel, dtype):
    """MLP.fit's way in (buffers made in NumPy, then the compiled loop of K._epochs) gives the
    bits K.train gives, on shuffled mini-batches of a net with big layers, and moves the
    shuffle state alike."""
    rng = np.random.default_rng(11)
    net, X, Y = make_case(rng, widths=[20, 40, 12, 3], batch=150, activations=["tanh", "sigmoid", "softmax"],
                          loss="cross_entropy", dtype=dtype)
    layers, _, _ = K.layer_table(net.layer_sizes, net.activations)
    out = []
    for train in ((K.parallel if parallel else K).train, K.train_from_python):
        params = K.pack(net.weights, net.biases, layers, net.dtype)
        costs = np.empty(4, dtype=net.dtype)
        state = np.array([4242], dtype=np.int64)
        extra = {"parallel": parallel} if train is K.train_from_python else {}
        train(params, layers, K.CROSS_ENTROPY, X, Y, net.dtype.type(0.1), 4, 64, True, True, state, costs,
              **extra)
        out.append((params, costs, state[0]))
    np.testing.assert_array_equal(out[1][0], out[0][0])
    np.testing.assert_array_equal(out[1][1], out[0][1])
    assert out[1][2] == out[0][2] != 4242


def test_layer_table_pack_unpack_round_trip():
    """The flat buffer stores w^i transposed, then b^i; unpack gives back the article's shapes."""
    layers, n_params, n_units = K.layer_table([3, 3, 2], ["sigmoid", "softmax"])
    assert n_params == 3 * 3 + 3 + 3 * 2 + 2 and n_units == 8
    assert layers.dtype == np.int64
    np.testing.assert_array_equal(layers, [[3, 3, 0, 9, 0, 3, K.SIGMOID],
                                           [3, 2, 12, 18, 3, 6, K.SOFTMAX]])
    w0 = np.arange(9.0).reshape(3, 3)
    w1 = np.arange(6.0).reshape(3, 2) + 100
    b0, b1 = np.array([-1.0, -2, -3]), np.array([-4.0, -5])
    params = K.pack([w0, w1], [b0, b1], layers)
    np.testing.assert_array_equal(params[:9], w0.T.ravel())
    np.testing.assert_array_equal(params[9:12], b0)
    np.testing.assert_array_equal(params[12:18], w1.T.ravel())
    ws, bs = K.unpack(params, layers)
    for got, want in zip(ws + bs, [w0, w1, b0, b1]):
        assert np.array_equal(got, want) and got.flags.c_contiguous


# ------------------------------------------------------------------ stable sigmoid (1)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_stable_sigmoid_saturates_exactly_1(backend, dtype):
    """(1) at z = +/-1000 is exactly 1 / 0, with finite gradients and no warning."""
    net = MLP.from_params([np.ones((1, 1))], [np.zeros(1)], dtype=dtype)
    X = np.array([[1000.0], [-1000.0]])
    Y = np.array([[0.5], [0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = net.forward(X, backend=backend)
        cost = net.cost(X, Y, backend=backend)
        grad_w, grad_b = net.gradients(X, Y, backend=backend)
        # through a hidden sigmoid layer too
        deep = MLP.from_params([np.ones((1, 2)), np.ones((2, 1))], [np.zeros(2), np.zeros(1)],
                               dtype=dtype)
        deep_grads = deep.gradients(X, Y, backend=backend)
    assert out[0, 0] == 1 and out[1, 0] == 0
    assert cost == pytest.approx(0.5)
    for g in grad_w + grad_b + deep_grads[0] + deep_grads[1]:
        assert np.isfinite(g).all()


def test_stable_sigmoid_kernel_scalar_1():
    layers, n_params, _ = K.layer_table([1, 1], ["sigmoid"])
    params = np.array([1.0, 0.0])
    X = np.array([[1000.0], [-1000.0], [0.0], [-745.0], [40.0]])
    z, a, _, _ = K.allocate(layers, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K.forward(params, layers, X, np.arange(5), z, a)
    want = [naive.sigmoid(x) for x in X[:, 0]]
    assert a[0, 1] == 1.0 and a[1, 1] == 0.0 and a[2, 1] == 0.5
    assert_close(a[:, 1], want, "float64", 1, "(1)")


# ------------------------------------------------------------------ shuffle
def _park_miller_fisher_yates(n, s):
    """An independent Python rendering of the documented generator and shuffle."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        s = s * 48271 % (2**31 - 1)
        j = s % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order, s


def test_shuffle_is_a_deterministic_permutation():
    order = np.arange(50)
    state = np.array([987654321], dtype=np.int64)
    K.shuffle(order, state)
    assert sorted(order.tolist()) == list(range(50))
    assert not np.array_equal(order, np.arange(50))
    want, s = _park_miller_fisher_yates(50, 987654321)
    assert order.tolist() == want and state[0] == s
    again = np.arange(50)
    K.shuffle(again, np.array([987654321], dtype=np.int64))
    assert np.array_equal(again, order)                 # same state, same permutation
    other = np.arange(50)
    K.shuffle(other, np.array([987654322], dtype=np.int64))
    assert not np.array_equal(other, order)


def test_shuffle_generator_is_minstd():
    """48271 mod 2**31 - 1 from state 1: the 10000th draw is 399268537 (C++ minstd_rand)."""
    state = np.array([1], dtype=np.int64)
    K.shuffle(np.arange(10001), state)                  # 10000 draws
    assert state[0] == 399268537


# ------------------------------------------------------------------ user @njit code
def test_kernels_callable_from_user_njit_2_5_6():
    """As in the kernels module docstring: forward and loss_sum inside the user's own @njit."""
    layers, n_params, n_units = K.layer_table([3, 3, 2], ["sigmoid", "sigmoid"])

    @numba.njit
    def my_cost(params, layers, X, Y):
        rows = np.arange(X.shape[0])
        z = np.empty((X.shape[0], 8))
        a = np.empty_like(z)
        K.forward(params, layers, X, rows, z, a)
        return K.loss_sum(layers, K.SSE, Y, rows, z, a)

    @numba.njit
    def my_step(params, layers, X, Y, lr, scratch):
        buffers = np.empty((4, X.shape[0], 8))
        rows = np.arange(X.shape[0])
        return K.train_step(params, layers, K.SSE, X, Y, rows, lr, False, buffers, scratch)

    rng = np.random.default_rng(0)
    ws = [rng.random((3, 3)), rng.random((3, 2))]
    bs = [rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 2)]
    X = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    params = K.pack(ws, bs, layers)
    want = naive.cost(ws, bs, ["sigmoid"] * 2, "sse", X, Y)
    assert n_units == 8
    assert_close(my_cost(params, layers, X, Y), want, "float64", ORACLE_FACTOR, "user cost")
    scratch = K.scratch(layers, 2)
    assert_close(my_step(params, layers, X, Y, 0.1, scratch), want, "float64", ORACLE_FACTOR,
                 "user step")
    assert my_cost(params, layers, X, Y) < want                # the step went downhill


# ------------------------------------------------------------------ float32 stays float32
def _function_bodies(ir):
    """``(name, body)`` of every function defined in an LLVM IR module."""
    for chunk in re.split(r"^(?=define )", ir, flags=re.M)[1:]:
        name = re.match(r'define [^@]*@"?([^"(]+)"?\(', chunk).group(1)
        yield name, chunk.split("\n}\n", 1)[0]


@pytest.mark.skipif(JIT_DISABLED, reason="inspects the LLVM IR of compiled kernels")
def test_float32_kernels_do_not_upcast_5_6_11_15_21_22():
    """No fpext/fptrunc in the float32 IR of forward, loss_delta, backward and train."""
    options = {k: v for k, v in JIT_OPTIONS.items() if k != "cache"}
    fresh = {f.__name__: numba.njit(**options)(f.py_func)
             for f in (K.forward, K.loss_delta, K.backward, K.train)}
    f32 = np.float32
    n = 5
    checked = 0
    for acts, loss in ((["sigmoid", "tanh", "relu", "identity"], K.MSE),
                       (["tanh", "softmax"], K.CROSS_ENTROPY), (["relu", "softmax"], K.SSE)):
        sizes = [3] + [4] * (len(acts) - 1) + [2]
        layers, n_params, _ = K.layer_table(sizes, acts)
        params = np.linspace(-1, 1, n_params).astype(f32)
        X = np.linspace(-2, 2, n * 3).reshape(n, 3).astype(f32)
        Y = np.eye(2, dtype=f32)[np.arange(n) % 2]
        rows = np.arange(n)
        z, a, delta, gz = K.allocate(layers, n, f32)
        grad = np.empty_like(params)
        work = np.empty(K.work_size(layers, n), f32)
        fresh["forward"](params, layers, X, rows, z, a)
        fresh["loss_delta"](layers, loss, Y, rows, z, a, delta, gz)
        fresh["backward"](params, layers, n, z, a, delta, gz, grad, work)
        fresh["train"](params, layers, loss, X, Y, f32(0.1), 2, 2, True, True,
                       np.array([7], dtype=np.int64), np.empty(2, f32))
    for name, disp in fresh.items():
        assert disp.signatures, name
        for sig in disp.signatures:
            assert any(t == numba.float32[::1] or getattr(t, "dtype", None) == numba.float32
                       for t in sig), f"{name} {sig} has no float32 argument"
            for fn, body in _function_bodies(disp.inspect_llvm(sig)):
                if "cpython" in fn or "cfunc" in fn or "range" in fn.lower():
                    continue
                checked += 1
                bad = [line.strip() for line in body.splitlines()
                       if re.search(r"\b(fpext|fptrunc)\b", line)]
                assert not bad, f"{name} {sig}: {fn[:60]} converts precision: {bad[:3]}"
    assert checked >= 4 * 3


# ------------------------------------------------------------------ blocked sums and parallel twins
# Shapes that cross the kernels' internal boundaries: sums longer than one chunk (n_in or
# n_samples > 256), layers above and below the literal-loop threshold, more samples than
# one parallel task, widths that are not multiples of the 4 x 4 blocks.
BOUNDARY_CASES = [
    ([260, 6, 3], 9, ["tanh", "softmax"], "cross_entropy", "float64"),
    ([4, 33, 5], 300, ["relu", "sigmoid"], "sse", "float64"),
    ([9, 17, 7], 130, ["sigmoid", "identity"], "mse", "float32"),
    ([13, 11, 1], 65, ["tanh", "tanh"], "sse", "float32"),
]


@pytest.mark.parametrize("spec", BOUNDARY_CASES, ids=[case_id(*c) for c in BOUNDARY_CASES])
def test_blocked_sums_match_naive_5_6_15_21_22(spec):
    widths, batch, acts, loss, dtype = spec
    net, X, Y = make_case(np.random.default_rng(batch), widths=widths, batch=batch,
                          activations=acts, loss=loss, dtype=dtype)
    loops, vec, ref = loop_pass(net, X, Y), vectorized_pass(net, X, Y), naive_pass(net, X, Y)
    for key in ("z", "a", "delta", "grad_w", "grad_b"):
        assert_lists_close(loops[key], ref[key], dtype, ORACLE_FACTOR, f"loops vs naive {key}")
        assert_lists_close(loops[key], vec[key], dtype, 1, f"loops vs vectorized {key}")
    assert_close(loops["cost"], ref["cost"], dtype, ORACLE_FACTOR, "cost (2)")


PARALLEL_CASES = BOUNDARY_CASES + [
    ([40, 40, 40, 40, 40], 50, ["relu", "tanh", "sigmoid", "softmax"], "cross_entropy", "float64"),
    ([3, 3, 2], 2, ["sigmoid", "sigmoid"], "sse", "float64"),
    ([20, 7, 3], 40, ["tanh", "softmax"], "mse", "float32"),
]


def _serial_and_parallel(spec):
    widths, batch, acts, loss, dtype = spec
    net, X, Y = make_case(np.random.default_rng(batch + 1), widths=widths, batch=batch,
                          activations=acts, loss=loss, dtype=dtype)
    passes = loop_pass(net, X, Y), loop_pass(net, X, Y, kernels=K.parallel)
    layers, _, _ = K.layer_table(net.layer_sizes, net.activations)
    trained = []
    for kernels in (K, K.parallel):
        params = K.pack(net.weights, net.biases, layers, net.dtype)
        costs = np.empty(3, dtype=net.dtype)
        state = np.array([99], dtype=np.int64)
        kernels.train(params, layers, LOSSES[loss], X, Y, net.dtype.type(0.01), 3,
                      max(1, batch // 3), True, False, state, costs)
        trained.append((params, costs, state[0]))
    return net, passes, trained


@pytest.mark.parametrize("spec", PARALLEL_CASES, ids=[case_id(*c) for c in PARALLEL_CASES])
def test_parallel_kernels_match_serial_5_6_15_21_22(spec):
    """K.parallel computes (5)/(6), (15), (21)/(22) and trains like the serial kernels."""
    net, (serial, parallel), trained = _serial_and_parallel(spec)
    assert_close(parallel["cost"], serial["cost"], net.dtype, 1, "cost")
    for key in ("z", "a", "delta", "dz", "grad_w", "grad_b"):
        assert_lists_close(parallel[key], serial[key], net.dtype, 1, key)
    assert_close(trained[1][0], trained[0][0], net.dtype, 1, "trained parameters")
    assert_close(trained[1][1], trained[0][1], net.dtype, 1, "costs")
    assert trained[0][2] == trained[1][2]                     # same shuffles


@pytest.mark.parametrize("spec", [
    pytest.param(c, id=case_id(*c))
    for c in PARALLEL_CASES])
def test_parallel_kernels_bit_identical_to_serial(spec):
    """As documented (MLP threads=, kernels._gemm_nt): the same sums in the same order."""
    net, (serial, parallel), trained = _serial_and_parallel(spec)
    assert serial["cost"] == parallel["cost"]
    for key in ("z", "a", "delta", "dz", "grad_w", "grad_b"):
        for s, p in zip(serial[key], parallel[key]):
            assert np.array_equal(s, p), key
    assert np.array_equal(trained[0][0], trained[1][0])
    assert np.array_equal(trained[0][1], trained[1][1])


@pytest.mark.skipif(JIT_DISABLED, reason="inspects the compiled dispatchers")
def test_parallel_twins_are_compiled_parallel():
    options = {name: d.targetoptions for name, d in vars(K.parallel).items()}
    assert {"forward", "backward", "train_step", "total_cost", "train"} <= set(options)
    assert any(o.get("parallel") for o in options.values())
    assert not any(d.targetoptions.get("parallel") for d in (K.forward, K.backward, K.train))
    assert K.parallel.train is not K.train


def test_every_caller_of_a_parallel_loop_has_a_parallel_twin():
    """A kernel inlined in Numba IR resolves its callees in bpfast.kernels, not in the
    parallel namespace: without a twin of its own, the parallel path silently ran the
    serial backward (measured: the large net's parallel step went from 51 to 81 ms)."""
    def py(name):
        obj = getattr(K, name, None)
        return getattr(obj, "py_func", None)

    twins = {id(d) for d in vars(K.parallel).values()}
    kernels = {name for name in dir(K) if py(name) is not None and id(getattr(K, name)) not in twins}
    calls = {name: set(py(name).__code__.co_names) & kernels for name in kernels}
    reaches = {name for name in kernels if "prange" in py(name).__code__.co_names}
    grew = True
    while grew:
        callers = {name for name in kernels if calls[name] & reaches}
        grew = not callers <= reaches
        reaches |= callers
    missing = reaches - set(vars(K.parallel))
    assert not missing, f"kernels reaching a prange without a parallel twin: {sorted(missing)}"


@pytest.mark.parametrize("M,N,Kdim,dtype", [
    (1, 1, 1, "float64"), (3, 5, 7, "float64"), (4, 128, 256, "float64"),
    (9, 13, 1100, "float64"),                              # 3 chunks of 368, 368 and 364
    (6, 7, 2100, "float32"),                               # 3 chunks of 704, 704 and 692
    (5, 6, 1024, "float32"),                               # exactly one chunk
    pytest.param(70, 261, 530, "float64", marks=pytest.mark.slow),    # slow only without the JIT
    pytest.param(33, 129, 257, "float64", marks=pytest.mark.slow),
    pytest.param(33, 129, 784, "float32", marks=pytest.mark.slow),
])
def test_blocked_sums_cross_every_block_edge_5_15_21(M, N, Kdim, dtype):
    """_gemm_nt (the sums of (5)/(6), (15), (21)) across the _MC, _NC and _KC_BYTES block edges
    and the 4 x 4 remainders, serial and parallel, against a plain float64 product; then added
    to C, as (21) does for every chunk of samples after the first."""
    rng = np.random.default_rng(M * 1000 + N)
    P, Q = rng.standard_normal((M, Kdim)).astype(dtype), rng.standard_normal((N, Kdim)).astype(dtype)
    expected = P.astype(np.float64) @ Q.astype(np.float64).T
    tol = 1e-12 if dtype == "float64" else 1e-5
    for kernels in (K, K.parallel):
        C = np.full(M * N, np.nan, dtype=dtype)
        kernels._gemm_nt(P.ravel(), 0, Kdim, Q.ravel(), 0, Kdim, C, 0, N, M, N, Kdim, 0)
        np.testing.assert_allclose(C.reshape(M, N), expected, rtol=tol, atol=tol * Kdim)
        kernels._gemm_nt(P.ravel(), 0, Kdim, Q.ravel(), 0, Kdim, C, 0, N, M, N, Kdim, 1)
        np.testing.assert_allclose(C.reshape(M, N), 2 * expected, rtol=tol, atol=2 * tol * Kdim)


@pytest.mark.skipif(JIT_DISABLED, reason="about Numba's on-disk cache")
def test_kernels_compile_without_a_writable_cache():
    """A read-only install with a read-only home gives Numba no cache location, and
    njit(cache=True) raises at decoration. A function without a source file is the same case
    anywhere (even as root): K._njit falls back to compiling without the cache."""
    namespace = {}
    exec("def twice(x):\n    return 2 * x\n", namespace)        # no file: no cache locator
    with pytest.raises(RuntimeError, match="no locator available"):
        numba.njit(cache=True)(namespace["twice"])
    compiled = K._njit(cache=True)(namespace["twice"])
    assert compiled(21) == 42


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("edge", [-1, 0, "two chunks and 5"])
def test_sums_over_samples_cross_chunk_edges_21_22_and_training_in_z(edge, dtype):
    """(21)/(22) sum over the samples _CHUNK_BYTES per unit at a time on big layers (256
    float64, 512 float32 samples): the gradients equal the naive oracle's at the chunk edges,
    serial and parallel. Training (which overwrites z with delta and dC/dz on the way back)
    then equals the matrix form step for step."""
    chunk = K._CHUNK_BYTES // np.dtype(dtype).itemsize
    batch = 2 * chunk + 5 if edge == "two chunks and 5" else chunk + edge
    rng = np.random.default_rng(batch)
    sizes, acts = [20, 16, 12, 3], ["relu", "tanh", "softmax"]      # 320 and 192 weights: blocked
    net = MLP(sizes, activation=acts, loss="cross_entropy", seed=batch, dtype=dtype)
    X = rng.standard_normal((batch, 20))
    Y = np.eye(3)[rng.integers(0, 3, batch)]
    oracle = naive.backprop(net.weights, net.biases, acts, "cross_entropy", X, Y)
    for kernels in (K, K.parallel):
        got = loop_pass(net, X, Y, kernels=kernels)
        assert_lists_close(got["grad_w"], oracle["grad_w"], net.dtype, 4, "dC/dw (21)")
        assert_lists_close(got["grad_b"], oracle["grad_b"], net.dtype, 4, "dC/db (22)")
    twin = MLP.from_params(net.weights, net.biases, activation=acts, loss="cross_entropy")
    lr = 10 / batch                        # the gradient sums over the batch: a step of fixed size
    loops = net.fit(X, Y, learning_rate=lr, epochs=3, batch_size=batch, shuffle=False)
    matrix = twin.fit(X.astype(dtype), Y.astype(dtype), learning_rate=lr, epochs=3, backend="vectorized")
    assert np.isfinite(loops).all()                # a diverged fit would compare inf with inf
    assert_close(loops, matrix, net.dtype, 10, "costs of the fit")
    assert_lists_close(net.weights, twin.weights, net.dtype, 10, "trained weights")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes, acts, batch", [
    ([64, 32, 10], ["sigmoid", "softmax"], 7),                      # the digits net, one task
    ([64, 32, 10], ["tanh", "softmax"], 200),                        # tasks of _ROWS samples
    ([9, 40, 15, 2], ["relu", "sigmoid", "identity"], 70),           # 15 outputs: 3 x 4 terms + 2
    ([9, 40, 16, 2], ["tanh", "sigmoid", "identity"], 70),           # 16: the blocked sums again
])
def test_delta_of_layers_with_few_outputs_15_12(sizes, acts, batch, dtype):
    """(15) and (12) below a big layer with fewer than K._FEW outputs add the terms k one by
    one (K._delta_few): delta and dC/dz of the hidden units equal the naive oracle's, serial
    and parallel, and the parallel ones are bit-identical to the serial ones."""
    rng = np.random.default_rng(batch)
    loss = "cross_entropy" if acts[-1] == "softmax" else "mse"
    net = MLP(sizes, activation=acts, loss=loss, seed=batch, dtype=dtype)
    X = rng.standard_normal((batch, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    oracle = naive.backprop(net.weights, net.biases, acts, loss, X, Y)
    serial, parallel = (loop_pass(net, X, Y, kernels=kernels) for kernels in (K, K.parallel))
    for got in (serial, parallel):
        assert_lists_close(got["delta"], oracle["delta"], net.dtype, 4, "delta (15)")
        assert_lists_close(got["dz"], oracle["dz"], net.dtype, 4, "dC/dz (12)")
        assert_lists_close(got["grad_w"], oracle["grad_w"], net.dtype, 4, "dC/dw (21)")
    for name in ("delta", "dz", "grad_w"):
        for s, p in zip(serial[name], parallel[name]):
            np.testing.assert_array_equal(s, p, err_msg=name)


def _own_gradient(params, layers, loss, X, Y):
    """A user's function: one pass of the inlined kernels, as from their own @njit code."""
    n = X.shape[0]
    rows = np.arange(n)
    bufs = np.zeros((4, n, layers[-1, K.U_OUT] + layers[-1, K.N_OUT]), dtype=params.dtype)
    grad = np.zeros_like(params)
    work = np.zeros(K.work_size(layers, n), dtype=params.dtype)
    K.forward(params, layers, X, rows, bufs[0], bufs[1])
    K.loss_delta(layers, loss, Y, rows, bufs[0], bufs[1], bufs[2], bufs[3])
    K.backward(params, layers, n, bufs[0], bufs[1], bufs[2], bufs[3], grad, work)
    return grad


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_own_njit_code_with_njit_options_gives_the_bits_of_mlp_21_22(dtype):
    """The inlined kernels take their caller's compiler options. Compiled with K.NJIT_OPTIONS,
    a user's function gives the gradient MLP gives, bit for bit (small layers: inlined loops)."""
    rng = np.random.default_rng(5)
    net = MLP([4, 5, 3], activation=["tanh", "softmax"], loss="cross_entropy", seed=5, dtype=dtype)
    X = rng.standard_normal((65, 4)).astype(dtype)
    Y = np.eye(3, dtype=dtype)[rng.integers(0, 3, 65)]
    params, layers = net.packed()
    grad = numba.njit(**K.NJIT_OPTIONS)(_own_gradient)(params, layers, K.CROSS_ENTROPY, X, Y)
    grad_w, grad_b = K.unpack(grad, layers)
    want_w, want_b = net.gradients(X, Y)
    for got, want in zip(grad_w + grad_b, want_w + want_b):
        np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="Numba's error model: compiled code only")
def test_own_njit_code_with_njit_options_divides_by_zero_as_numpy_13():
    """A softmax output that underflowed to 0 where y = 1: (13) is -y/a = -inf, not a
    ZeroDivisionError raised from the user's function (plain @njit: error_model 'python')."""
    net = MLP([2, 3], activation="softmax", loss="cross_entropy", seed=0)
    w, b = net.weights, net.biases
    w[0][0, 0] = 2000.0
    net.set_params(w, b)
    X, Y = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])
    params, layers = net.packed()
    grad = numba.njit(**K.NJIT_OPTIONS)(_own_gradient)(params, layers, K.CROSS_ENTROPY, X, Y)
    want_w, want_b = net.gradients(X, Y)
    np.testing.assert_array_equal(K.unpack(grad, layers)[0][0], want_w[0])
    with pytest.raises(ZeroDivisionError):
        numba.njit(_own_gradient)(params, layers, K.CROSS_ENTROPY, X, Y)


def test_work_size_holds_one_chunk_of_2_kib_per_unit_a_panel_at_a_time():
    """The work space of (21)/(22) holds a chunk of samples of 2 KiB per unit (256 float64, 512
    float32) of the layer's outputs and of one panel of at most K._PANEL of its inputs (784
    inputs: 7 panels of 112); without an itemsize it is float32's, which is enough for float64
    too (the README example allocates it so)."""
    layers, _, _ = K.layer_table([784, 128, 10], ["sigmoid", "softmax"])
    assert K.work_size(layers, 1000, 8) == (128 + 112) * 256
    assert K.work_size(layers, 1000, 4) == (128 + 112) * 512
    assert K.work_size(layers, 1000) == K.work_size(layers, 1000, 4)
    assert K.work_size(layers, 100, 4) == (128 + 112) * 100
    assert K.scratch(layers, 1000, np.float32).shape[0] - K.scratch(layers, 1000).shape[0] == 256 * 240
    layers, _, _ = K.layer_table([10, 600, 40, 3], ["relu", "tanh", "softmax"])
    assert K.work_size(layers, 1, 8) == 120 * 40                    # (15): a panel of w transposed
    assert [K._panel(n) for n in (5, 64, 256, 257, 784)] == [5, 64, 128, 88, 112]


PANEL_CASES = [                                                 # (widths, batch, activations, loss)
    ([300, 20, 3], 131, ["sigmoid", "softmax"], "cross_entropy"),   # (21): 3 panels of 100 inputs
    ([10, 300, 20, 3], 70, ["tanh", "relu", "identity"], "mse"),    # (15): w transposed in 3 panels
    ([6, 40, 12, 1], 9, ["relu", "sigmoid", "sigmoid"], "sse"),     # (15) with few outputs, one panel
    ([4, 5, 3], 3, ["tanh", "softmax"], "cross_entropy"),           # small layers: literal loops
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("spec", PANEL_CASES, ids=["-".join(map(str, c[0])) for c in PANEL_CASES])
def test_panels_and_narrow_buffers_match_naive_and_full_width_15_21_22(spec, dtype):
    """Across the K._PANEL edges of (15) and (21), the gradients equal the naive oracle's. z,
    delta and dC/dz may leave out the input units (as K.train holds them): given so, with NaN
    wherever nothing is written, every unit and gradient is bit-identical to the full-width
    buffers', serial and parallel."""
    widths, batch, acts, loss = spec
    rng = np.random.default_rng(batch)
    net = MLP(widths, activation=acts, loss=loss, seed=batch, dtype=dtype)
    X = rng.standard_normal((batch, widths[0])).astype(dtype)
    Y = (np.eye(widths[-1])[rng.integers(0, widths[-1], batch)] if loss == "cross_entropy"
         else rng.random((batch, widths[-1]))).astype(dtype)
    oracle = naive.backprop(net.weights, net.biases, acts, loss, X, Y)
    params, layers = net.packed()
    n0, rows = widths[0], np.arange(batch)
    for kernels in (K, K.parallel):
        got = {}
        for width in ("full", "narrow"):
            z, a, delta, gz = K.allocate(layers, batch, dtype)
            if width == "narrow":
                z, delta, gz = (np.full((batch, a.shape[1] - n0), np.nan, dtype) for _ in range(3))
            grad = np.full_like(params, np.nan)
            work = np.full(K.work_size(layers, batch, np.dtype(dtype).itemsize), np.nan, dtype)
            kernels.forward(params, layers, X, rows, z, a)
            cost = K.loss_delta(layers, LOSSES[loss], Y, rows, z, a, delta, gz)
            kernels.backward(params, layers, batch, z, a, delta, gz, grad, work)
            cut = n0 if width == "full" else 0
            got[width] = [cost, a, z[:, cut:], delta[:, cut:], gz[:, cut:], grad]
        for full, narrow in zip(got["full"], got["narrow"]):
            np.testing.assert_array_equal(narrow, full)
        grad_w, grad_b = K.unpack(got["full"][-1], layers)
        assert_lists_close(grad_w, oracle["grad_w"], net.dtype, 4, "dC/dw (21)")
        assert_lists_close(grad_b, oracle["grad_b"], net.dtype, 4, "dC/db (22)")


_PARALLEL_CALL = """
import sys
import numpy as np
from bpfast import kernels as K
layers, n_params, _ = K.layer_table([3, 3, 2], ["sigmoid", "sigmoid"])
params = np.linspace(0.1, 0.9, n_params)
X, Y, rows = np.array([[1., 2, 3], [3, 2, 1]]), np.array([[1., 0], [0, 1]]), np.arange(2)
if sys.argv[1] == "train_step":
    K.parallel.train_step(params, layers, K.SSE, X, Y, rows, 0.1, False, K.allocate(layers, 2),
                          K.scratch(layers, 2))
else:
    K.parallel.train(params, layers, K.SSE, X, Y, 0.1, 2, 2, False, False, np.array([5]), np.empty(2))
print("ok")
"""


@pytest.mark.skipif(JIT_DISABLED, reason="about Numba's on-disk cache")
def test_parallel_kernels_called_directly_from_a_warm_cache(tmp_path):
    """K.parallel.train loaded from the cache in a new process, after its parallel callees were
    cached by another kernel, crashed the interpreter (segfault) until bpfast.kernels started
    Numba's thread pool at import (found by a fresh-clone trial)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    for which in ("train_step", "train", "train", "train"):
        done = subprocess.run([sys.executable, "-c", _PARALLEL_CALL, which], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and done.stdout.strip() == "ok", (which, done.returncode, done.stderr[-500:])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes", [(4, 5, 3), (4, 40, 3)], ids=["literal loops", "blocked sums"])
def test_relu_keeps_nan_11(sizes, dtype):
    """Regression: relu(NaN) was 0 in the loops (np.maximum gives NaN), so a diverged fit
    kept a finite cost and its NaN weights went unreported."""
    net = MLP(sizes, activation="relu", loss="sse", dtype=dtype, seed=5)
    params, layers = net.packed()
    params[0] = np.nan                                 # w^0 of hidden unit 0: z^0_0 is NaN
    X = np.ones((3, sizes[0]), dtype=dtype)
    z, a = K.allocate(layers, 3, net.dtype)[:2]
    K.forward(params, layers, X, np.arange(3), z, a)
    assert np.isnan(a[:, sizes[0]]).all()              # a^1_0 = relu(NaN)
    assert np.isnan(a[:, layers[-1, K.U_OUT]:]).all()  # and every output after it


@pytest.mark.parametrize("make", ["allocate", "scratch", "pack"])
def test_buffer_helpers_take_float64_and_float32_only(make):
    """Found by a fresh-clone trial: K.allocate, K.scratch and K.pack made float16 (or big-endian)
    buffers that the kernels then refused with a Numba typing error."""
    layers, _, _ = K.layer_table([3, 3, 2], ["sigmoid", "sigmoid"])
    net = MLP([3, 3, 2], seed=0)
    call = {"allocate": lambda dt: K.allocate(layers, 2, dt), "scratch": lambda dt: K.scratch(layers, 2, dt),
            "pack": lambda dt: K.pack(net.weights, net.biases, layers, dt)}[make]
    with pytest.raises(ValueError, match=r"dtype must be one of \['float32', 'float64'\]; got 'float16'"):
        call("float16")
    assert call(">f8").dtype == np.float64 and call(">f8").dtype.isnative
    assert call(np.float32).dtype == np.float32
