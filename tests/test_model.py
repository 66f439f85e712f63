"""The public API of bpfast.MLP, as documented in bpfast/model.py."""

import re
import warnings

import numpy as np
import pytest

import naive
from bpfast import MLP
from bpfast import kernels as K
from conftest import (ARTICLE_X, ARTICLE_Y, ORACLE_FACTOR, assert_close, assert_lists_close,
                      make_case)


def params_equal(a, b):
    """Bit-identical parameters (and dtypes)."""
    return all(x.dtype == y.dtype and np.array_equal(x, y)
               for x, y in zip(a.weights + a.biases, b.weights + b.biases))


def small_problem(dtype="float64", n=12, seed=0, loss="sse"):
    rng = np.random.default_rng(seed)
    acts = ["tanh", "softmax"] if loss == "cross_entropy" else ["tanh", "sigmoid"]
    return make_case(rng, widths=[4, 5, 3], batch=n, activations=acts, loss=loss, dtype=dtype)


# ------------------------------------------------------------------ construction
def test_constructor_defaults():
    net = MLP([3, 3, 2])
    assert net.layer_sizes == (3, 3, 2)
    assert net.activations == ("sigmoid", "sigmoid")
    assert net.loss == "sse"
    assert net.dtype == np.float64
    assert net.n_params == 3 * 3 + 3 + 3 * 2 + 2
    assert repr(net) == "MLP(layer_sizes=[3, 3, 2], activation='sigmoid', loss='sse', dtype='float64')"
    # default init is glorot: some weights are negative, biases are zero
    assert any((w < 0).any() for w in MLP([10, 10], seed=0).weights)
    assert all(np.array_equal(b, np.zeros_like(b)) for b in net.biases)


def test_constructor_accepts_dtype_forms_and_activation_lists():
    for dtype in ("float32", np.float32, np.dtype("float32")):
        assert MLP([2, 2], dtype=dtype).dtype == np.float32
    net = MLP([2, 4, 3, 2], activation=["relu", "tanh", "softmax"], loss="cross_entropy")
    assert net.activations == ("relu", "tanh", "softmax")
    assert "['relu', 'tanh', 'softmax']" in repr(net)
    assert MLP([4, 3], activation="softmax", loss="cross_entropy").activations == ("softmax",)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_init_glorot_bounds_and_zero_biases(dtype):
    """Glorot: U(-r, r) with r = sqrt(6 / (n_in + n_out)); biases zero."""
    sizes = [30, 40, 10, 1]
    net = MLP(sizes, init="glorot", seed=3, dtype=dtype)
    for w, b, n_in, n_out in zip(net.weights, net.biases, sizes[:-1], sizes[1:]):
        r = np.sqrt(6.0 / (n_in + n_out))
        assert w.shape == (n_in, n_out) and w.dtype == dtype
        assert np.abs(w).max() <= r
        if w.size >= 40:                                    # the range is really used
            assert w.max() > 0.8 * r and w.min() < -0.8 * r
            assert abs(w.mean()) < 0.2 * r
        assert b.shape == (n_out,) and b.dtype == dtype and not b.any()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_init_uniform_is_article_u01_and_zero_biases(dtype):
    net = MLP([30, 40, 10], init="uniform", seed=3, dtype=dtype)
    for w, b in zip(net.weights, net.biases):
        assert (w >= 0).all() and (w < 1).all()
        assert 0.4 < w.mean() < 0.6 and w.max() > 0.9 and w.min() < 0.1
        assert not b.any()


@pytest.mark.parametrize("init", ["glorot", "uniform"])
def test_same_seed_bit_identical_weights(init):
    a = MLP([5, 7, 3], init=init, seed=42)
    b = MLP([5, 7, 3], init=init, seed=42)
    c = MLP([5, 7, 3], init=init, seed=43)
    assert params_equal(a, b)
    assert not np.array_equal(a.weights[0], c.weights[0])
    unseeded = [MLP([5, 7, 3], init=init).weights[0] for _ in range(2)]
    assert not np.array_equal(*unseeded)


def test_weights_and_biases_are_copies_with_article_shapes():
    net = MLP([3, 3, 2], seed=0)
    ws, bs = net.weights, net.biases
    assert [w.shape for w in ws] == [(3, 3), (3, 2)]           # w^i: (n_i, n_{i+1})
    assert [b.shape for b in bs] == [(3,), (2,)]               # b^i: (n_{i+1},)
    keep = [w.copy() for w in ws]
    ws[0][:] = 99
    bs[1][:] = 99
    assert all(np.array_equal(w, k) for w, k in zip(net.weights, keep))
    assert not any(b.any() for b in net.biases)


def test_from_params_copies_its_inputs():
    w = [np.arange(6.0).reshape(3, 2), np.ones((2, 1))]
    b = [np.array([0.5, -0.5]), np.array([0.25])]
    net = MLP.from_params(w, b, activation=["tanh", "identity"])
    before = net.forward(ARTICLE_X)
    w[0][:] = 0
    b[0][:] = 0
    w[1][:] = -1
    assert np.array_equal(net.weights[0], np.arange(6.0).reshape(3, 2))
    assert np.array_equal(net.biases[0], [0.5, -0.5])
    assert np.array_equal(net.forward(ARTICLE_X), before)
    assert net.layer_sizes == (3, 2, 1) and net.activations == ("tanh", "identity")


def test_from_params_dtype_inference():
    w32 = [np.ones((2, 2), np.float32), np.ones((2, 1), np.float32)]
    bs = [np.zeros(2), np.zeros(1)]
    assert MLP.from_params(w32, bs).dtype == np.float32
    assert MLP.from_params([w32[0], np.ones((2, 1))], bs).dtype == np.float64
    assert MLP.from_params([[[1, 2], [3, 4]]], [[0, 0]]).dtype == np.float64   # nested lists, ints
    assert MLP.from_params(w32, bs, dtype="float64").dtype == np.float64


def test_set_params_replaces_and_copies():
    net = MLP([3, 3, 2], seed=0)
    w = [np.full((3, 3), 0.5), np.full((3, 2), -0.5)]
    b = [np.ones(3), np.ones(2)]
    net.set_params(w, b)
    w[0][:] = 7
    assert np.array_equal(net.weights[0], np.full((3, 3), 0.5))
    assert np.array_equal(net.biases[1], np.ones(2))
    other = MLP.from_params([np.full((3, 3), 0.5), np.full((3, 2), -0.5)], [np.ones(3), np.ones(2)])
    assert np.array_equal(net.forward(ARTICLE_X), other.forward(ARTICLE_X))


# ------------------------------------------------------------------ fit
@pytest.mark.parametrize("backend", ["loops", "vectorized"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_returns_one_cost_per_epoch_equal_to_cost_2(backend, dtype):
    net, X, Y = small_problem(dtype)
    costs = net.fit(X, Y, learning_rate=0.05, epochs=7, batch_size=5, backend=backend)
    assert costs.shape == (7,) and costs.dtype == dtype
    assert_close(costs[-1], net.cost(X, Y, backend=backend), dtype, 1, "last cost (2)")
    assert_close(costs[-1], net.cost(X, Y, backend="loops"), dtype, 1, "last cost (2)")
    assert costs[-1] < costs[0]


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_fit_full_batch_matches_naive_fit_21_22(backend):
    for loss in ("sse", "mse", "cross_entropy"):
        net, X, Y = small_problem(loss=loss)
        ws, bs, want = naive.fit(net.weights, net.biases, net.activations, loss, X, Y, 0.1, 4)
        costs = net.fit(X, Y, learning_rate=0.1, epochs=4, backend=backend)
        assert_close(costs, want, net.dtype, ORACLE_FACTOR, f"{loss} costs")
        assert_lists_close(net.weights, ws, net.dtype, ORACLE_FACTOR, f"{loss} weights")
        assert_lists_close(net.biases, bs, net.dtype, ORACLE_FACTOR, f"{loss} biases")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss", ["sse", "mse", "cross_entropy"])
def test_fit_loops_vs_vectorized_minibatch_shuffle_21_23(dtype, loss):
    a, X, Y = small_problem(dtype, n=23, loss=loss)
    b = MLP.from_params(a.weights, a.biases, list(a.activations), loss, dtype=dtype)
    ca = a.fit(X, Y, learning_rate=0.05, epochs=6, batch_size=5, seed=3, backend="loops")
    cb = b.fit(X, Y, learning_rate=0.05, epochs=6, batch_size=5, seed=3, backend="vectorized")
    assert_close(ca, cb, dtype, 1, "costs")
    assert_lists_close(a.weights, b.weights, dtype, 1, "weights")
    assert_lists_close(a.biases, b.biases, dtype, 1, "biases")


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_same_seed_bit_identical_fit(backend):
    runs = []
    for _ in range(2):
        _, X, Y = small_problem(n=17)
        net = MLP([4, 5, 3], activation=["tanh", "sigmoid"], seed=5)
        costs = net.fit(X, Y, epochs=4, batch_size=4, backend=backend)
        costs2 = net.fit(X, Y, epochs=2, batch_size=3, backend=backend)   # continues the stream
        runs.append((net, np.concatenate([costs, costs2])))
    assert params_equal(runs[0][0], runs[1][0])
    assert np.array_equal(runs[0][1], runs[1][1])


def test_fit_seed_overrides_the_network_stream():
    _, X, Y = small_problem(n=17)
    a = MLP([4, 5, 3], activation=["tanh", "sigmoid"], seed=5)
    b = MLP([4, 5, 3], activation=["tanh", "sigmoid"], seed=5)
    b.fit(X, Y, epochs=1, batch_size=4)                 # advances b's own stream, changes b
    b.set_params(a.weights, a.biases)
    a.fit(X, Y, epochs=3, batch_size=4, seed=9)
    b.fit(X, Y, epochs=3, batch_size=4, seed=9)
    assert params_equal(a, b)
    c = MLP([4, 5, 3], activation=["tanh", "sigmoid"], seed=5)
    c.fit(X, Y, epochs=3, batch_size=4, seed=10)
    assert not params_equal(a, c)


def test_shuffle_false_is_in_order_and_seed_independent():
    _, X, Y = small_problem(n=17)
    a = MLP([4, 5, 3], activation=["tanh", "sigmoid"], seed=5)
    b = MLP([4, 5, 3], activation=["tanh", "sigmoid"], seed=5)
    a.fit(X, Y, epochs=3, batch_size=4, shuffle=False, seed=1)
    b.fit(X, Y, epochs=3, batch_size=4, shuffle=False, seed=2)
    assert params_equal(a, b)


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_callback_bit_identical_full_batch(backend):
    net, X, Y = small_problem()
    twin = MLP.from_params(net.weights, net.biases, list(net.activations), net.loss)
    seen = []
    costs = net.fit(X, Y, epochs=5, backend=backend, callback=lambda e, c: seen.append((e, c)))
    plain = twin.fit(X, Y, epochs=5, backend=backend)
    assert np.array_equal(costs, plain)
    assert params_equal(net, twin)
    assert [e for e, _ in seen] == list(range(5))
    assert all(isinstance(c, float) for _, c in seen)
    assert [c for _, c in seen] == costs.tolist()


@pytest.mark.parametrize("sizes", [(11, 11, 11), (11, 11, 11, 11)], ids=["tiny", "general"])
def test_callback_costs_bit_identical_with_mse_2(sizes):
    """Regression: with mse, a full-batch fit without callback takes each cost from the next
    step (times 1 / count) and with one from a separate pass (a division): 1 ulp apart."""
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(17, 11)), rng.uniform(size=(17, 11))
    runs = []
    for callback in (None, lambda e, c: None):
        net = MLP(sizes, activation="identity", loss="mse", seed=3)
        runs.append((net.fit(X, Y, learning_rate=0.01, epochs=7, callback=callback), net))
    (plain, a), (called, b) = runs
    assert np.array_equal(plain, called)
    assert params_equal(a, b)


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_callback_bit_identical_shuffled_minibatches(backend):
    net, X, Y = small_problem(n=10)
    twin = MLP.from_params(net.weights, net.biases, list(net.activations), net.loss)
    costs = net.fit(X, Y, epochs=3, batch_size=3, seed=1, backend=backend,
                    callback=lambda e, c: None)
    plain = twin.fit(X, Y, epochs=3, batch_size=3, seed=1, backend=backend)
    assert np.array_equal(costs, plain)
    assert params_equal(net, twin)


def test_callback_exception_leaves_parameters_unchanged():
    net, X, Y = small_problem()
    before = net.weights, net.biases

    def stop(epoch, cost):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y, epochs=5, callback=stop)
    assert all(np.array_equal(x, y) for x, y in zip(net.weights + net.biases, before[0] + before[1]))


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_callback_sees_the_network_trained_so_far(backend):
    """Inside the callback the network is the one after that epoch: its own cost is the one the
    callback is given (found by a fresh-clone trial: it used to show the start every epoch). A
    set_params there is what the next epoch trains; a later raise still restores the start."""
    net, X, Y = small_problem()
    start = net.packed()[0]
    seen = []
    net.fit(X, Y, epochs=3, backend=backend, callback=lambda e, c: seen.append((c, net.cost(X, Y))))
    assert len({own for _, own in seen}) == 3
    for given, own in seen:
        assert own == pytest.approx(given, rel=1e-12)

    twin, _, _ = small_problem()
    twin.set_params(net.weights, net.biases)
    trained = twin.packed()[0]
    costs = []

    def restart_then_stop(epoch, cost):
        costs.append(cost)
        if epoch == 0:                                 # the next epoch trains from the start
            twin.set_params(*K.unpack(start, twin.packed()[1]))
        if epoch == 2:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        twin.fit(X, Y, epochs=3, backend=backend, callback=restart_then_stop)
    assert costs[1] == seen[0][0]                      # epoch 1 redid the first run's epoch 0
    assert np.array_equal(twin.packed()[0], trained)   # and the raise restored what fit found


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_bias_gradient_mean_is_sum_over_n_22_24(backend):
    """One full-batch step from zero biases: the article's rule moves biases by 1/n of the exact
    rule (exactly, for n a power of two); the weights move identically."""
    rng = np.random.default_rng(8)
    X, Y = rng.standard_normal((4, 3)), rng.random((4, 2))
    a = MLP([3, 4, 2], seed=1)
    b = MLP([3, 4, 2], seed=1)
    a.fit(X, Y, learning_rate=0.3, epochs=1, bias_gradient="sum", backend=backend)
    b.fit(X, Y, learning_rate=0.3, epochs=1, bias_gradient="mean", backend=backend)
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
    assert all(np.array_equal(x, 4 * y) for x, y in zip(a.biases, b.biases))
    assert all(x.any() for x in a.biases)


def test_bias_gradient_mean_matches_naive_odd_n_22():
    rng = np.random.default_rng(9)
    net, X, Y = make_case(rng, widths=[3, 4, 2], batch=3, activations=["sigmoid", "sigmoid"],
                          loss="sse")
    ws, bs, want = naive.fit(net.weights, net.biases, net.activations, "sse", X, Y, 0.3, 3,
                             bias_gradient="mean")
    for backend in ("loops", "vectorized"):
        twin = MLP.from_params(net.weights, net.biases, list(net.activations), "sse")
        costs = twin.fit(X, Y, learning_rate=0.3, epochs=3, bias_gradient="mean", backend=backend)
        assert_close(costs, want, "float64", ORACLE_FACTOR, f"{backend} costs")
        assert_lists_close(twin.weights, ws, "float64", ORACLE_FACTOR, f"{backend} weights")
        assert_lists_close(twin.biases, bs, "float64", ORACLE_FACTOR, f"{backend} biases")


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_batch_size_larger_than_n_is_full_batch(backend):
    net, X, Y = small_problem(n=10)
    twin = MLP.from_params(net.weights, net.biases, list(net.activations), net.loss)
    c1 = net.fit(X, Y, epochs=3, batch_size=1000, backend=backend)
    c2 = twin.fit(X, Y, epochs=3, batch_size=None, backend=backend)
    assert np.array_equal(c1, c2) and params_equal(net, twin)


def test_mini_batches_of_one_match_naive_sgd_in_order():
    """batch_size=1, shuffle=False: one naive step per sample, in order."""
    net, X, Y = small_problem(n=5)
    ws, bs = net.weights, net.biases
    for x, y in zip(X, Y):
        ws, bs, _ = naive.fit(ws, bs, net.activations, net.loss, x[None], y[None], 0.2, 1)
    for backend in ("loops", "vectorized"):
        twin = MLP.from_params(net.weights, net.biases, list(net.activations), net.loss)
        twin.fit(X, Y, learning_rate=0.2, epochs=1, batch_size=1, shuffle=False, backend=backend)
        assert_lists_close(twin.weights, ws, "float64", ORACLE_FACTOR, f"{backend} weights")
        assert_lists_close(twin.biases, bs, "float64", ORACLE_FACTOR, f"{backend} biases")


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_fit_diverging_learning_rate_warns(backend):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3)) * 10
    Y = rng.standard_normal((20, 2)) * 10
    net = MLP([3, 8, 2], activation="identity", seed=0)
    # It names both causes: the step, and the scale of X (1e308 inputs warned only of the step).
    with pytest.warns(RuntimeWarning, match="learning rate is probably too large for this data, or X is "
                                            r"too large in scale \(standardise it\)"):
        # NumPy's own overflow warnings (the matrix form; the loops without the JIT) may come too
        warnings.filterwarnings("ignore", message="(overflow|invalid value) encountered",
                                category=RuntimeWarning)
        costs = net.fit(X, Y, learning_rate=10.0, epochs=30, backend=backend)
    assert not np.isfinite(costs).all()


def test_fit_learns_the_article_data_with_every_loss():
    for loss, acts, Y in (("sse", "sigmoid", ARTICLE_Y), ("mse", "tanh", ARTICLE_Y),
                          ("cross_entropy", ["sigmoid", "softmax"], ARTICLE_Y)):
        net = MLP([3, 3, 2], activation=acts, loss=loss, seed=0)
        costs = net.fit(ARTICLE_X, Y, learning_rate=0.5, epochs=300)
        assert costs[-1] < 0.2 * costs[0], loss
        assert np.array_equal(net.predict(ARTICLE_X), [0, 1]), loss


# ------------------------------------------------------------------ predict
def test_predict_argmax():
    w = [np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])]
    net = MLP.from_params(w, [np.array([0.0, 0.0, 0.5])], activation="identity")
    X = np.array([[2.0, 1.0], [0.0, 3.0], [0.0, 0.0], [0.1, 0.2]])
    pred = net.predict(X)
    assert np.array_equal(pred, [0, 1, 2, 2])
    assert np.issubdtype(pred.dtype, np.integer)


def test_predict_one_sigmoid_output_threshold():
    net = MLP.from_params([np.ones((1, 1))], [np.zeros(1)], activation="sigmoid")
    pred = net.predict(np.array([[-2.0], [-1e-9], [0.0], [3.0]]))
    assert pred.tolist() == [0, 0, 1, 1] and pred.dtype == np.int64    # sigmoid(0) = 0.5 -> 1


def test_predict_one_non_sigmoid_output_raises_before_the_forward_pass(monkeypatch):
    """Found by a fresh-clone trial: the compiled forward pass ran first, then predict raised."""
    net = MLP.from_params([np.ones((1, 1))], [np.zeros(1)], activation="identity")
    monkeypatch.setattr(net, "forward", lambda X: pytest.fail("forward ran before the check"))
    with pytest.raises(ValueError, match="one sigmoid unit"):
        net.predict(np.array([[1.0]]))


# ------------------------------------------------------------------ save / load
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_save_load_round_trip_is_bit_exact(tmp_path, dtype):
    rng = np.random.default_rng(2)
    net, X, Y = make_case(rng, widths=[4, 6, 5, 3], batch=9, activations=["relu", "tanh", "softmax"],
                          loss="cross_entropy", dtype=dtype)
    path = tmp_path / "net.npz"
    net.save(path)
    back = MLP.load(path)
    assert back.layer_sizes == net.layer_sizes
    assert back.activations == net.activations and back.loss == net.loss
    assert back.dtype == net.dtype
    assert params_equal(back, net)
    for backend in ("loops", "vectorized"):
        assert np.array_equal(back.forward(X, backend=backend), net.forward(X, backend=backend))
    assert back.cost(X, Y) == net.cost(X, Y)
    path2 = str(tmp_path / "again.npz")                       # str paths too
    back.save(path2)
    assert params_equal(MLP.load(path2), net)


def test_load_rejects_non_bpfast_npz(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, w0=np.ones((2, 2)), b0=np.zeros(2))
    with pytest.raises(ValueError, match="not a bpfast model file"):
        MLP.load(path)


def test_load_rejects_newer_format_version(tmp_path):
    net = MLP([2, 2], seed=0)
    path = tmp_path / "net.npz"
    net.save(path)
    with np.load(path) as f:
        data = dict(f)
    data["version"] = np.array(99)
    np.savez(path, **data)
    with pytest.raises(ValueError, match="format version 99"):
        MLP.load(path)


# ------------------------------------------------------------------ packed() and threads
def test_packed_gives_copies_usable_by_the_kernels_2():
    from bpfast import kernels as K
    net, X, Y = small_problem(n=6)
    params, layers = net.packed()
    params[:] = 0                                          # a copy: the net is unchanged
    assert net.weights[0].any()
    params, layers = net.packed()
    z, a, _, _ = K.allocate(layers, 6)
    cost = K.total_cost(params, layers, K.SSE, X, Y, np.arange(6), z, a)
    assert_close(cost, naive.cost(net.weights, net.biases, net.activations, "sse", X, Y),
                 "float64", ORACLE_FACTOR, "cost (2)")
    ws, bs = K.unpack(params, layers)
    twin = MLP(net.layer_sizes, activation=list(net.activations))
    twin.set_params(ws, bs)
    assert params_equal(twin, net)


def test_threads_default_and_attribute():
    assert MLP([3, 2]).threads == 1
    assert MLP.from_params([np.ones((2, 2))], [np.zeros(2)]).threads == 1


@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_threads_give_the_same_results_small_net(backend):
    """threads=2 on the article's net (small layers, two samples): bit-identical to threads=1."""
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 threads")
    before = numba.get_num_threads()
    runs = []
    for threads in (1, 2):
        net = MLP([3, 3, 2], init="uniform", seed=16, threads=threads)
        out = net.forward(ARTICLE_X)
        grads = net.gradients(ARTICLE_X, ARTICLE_Y)
        costs = net.fit(ARTICLE_X, ARTICLE_Y, epochs=50, backend=backend)
        runs.append((net, out, grads, costs))
        assert numba.get_num_threads() == before           # restored after each call
    (a, out_a, g_a, c_a), (b, out_b, g_b, c_b) = runs
    assert np.array_equal(out_a, out_b) and np.array_equal(c_a, c_b)
    assert all(np.array_equal(x, y) for x, y in zip(g_a[0] + g_a[1], g_b[0] + g_b[1]))
    assert params_equal(a, b)


def test_threads_match_serial_within_tolerance_21_22():
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 threads")
    rng = np.random.default_rng(12)
    net, X, Y = make_case(rng, widths=[20, 30, 5], batch=130, activations=["sigmoid", "softmax"],
                          loss="cross_entropy")
    twin = MLP.from_params(net.weights, net.biases, list(net.activations), net.loss, threads=2)
    for got, want in zip(twin.gradients(X, Y), net.gradients(X, Y)):
        assert_lists_close(got, want, "float64", 1, "gradients")
    c1 = net.fit(X, Y, learning_rate=0.01, epochs=3, batch_size=40, seed=0)
    c2 = twin.fit(X, Y, learning_rate=0.01, epochs=3, batch_size=40, seed=0)
    assert_close(c2, c1, "float64", 1, "costs")
    assert_lists_close(twin.weights, net.weights, "float64", 1, "weights")
    c3 = net.fit(X, Y, learning_rate=0.01, epochs=1, threads=2)   # per-call override
    assert c3.shape == (1,) and net.threads == 1


def test_save_without_suffix_loads_back(tmp_path):
    """numpy.savez appends .npz; load accepts the path as it was given to save."""
    net = MLP([3, 3, 2], seed=0)
    net.save(tmp_path / "model")
    same = MLP.load(tmp_path / "model")
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, same.weights))


@pytest.mark.parametrize("content", [
    b"PK\x03\x04" + bytes(range(200)),                 # a broken zip
    b"w0,b0\n1,2\n",                                   # a text file
])
def test_load_rejects_corrupt_or_foreign_files(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="is not a bpfast model file"):
        MLP.load(path)


def test_load_rejects_a_npy_file(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.ones(3))
    with pytest.raises(ValueError, match=r"is not a bpfast model file .*: it holds one ndarray \(an \.npy "
                                         r"file\), not an \.npz archive"):
        MLP.load(path)


def test_load_names_an_entry_of_python_objects(tmp_path):
    """An .npz with an object entry was called 'not an .npz archive'."""
    path = tmp_path / "m.npz"
    MLP([3, 2], seed=0).save(path)
    entries = dict(np.load(path))
    entries["loss"] = np.array(["sse", None], dtype=object)
    np.savez(path, **entries)
    with pytest.raises(ValueError, match=r"an entry holds Python objects"):
        MLP.load(path)


def test_load_rejects_layers_without_an_activation_and_mixed_dtypes(tmp_path):
    """A file with w1/b1 but one activation loaded as a 1-layer net (layer 1 dropped); one with a
    float32 w0 and a float64 w1 loaded as float32, rounding w1."""
    path = tmp_path / "m.npz"
    MLP([3, 4, 2], seed=0).save(path)
    entries = dict(np.load(path))
    np.savez(path, **{**entries, "activations": entries["activations"][:1]})
    with pytest.raises(ValueError, match=r"entries \['b1', 'w1'\] belong to no layer: its 'activations' "
                                         r"entry names 1"):
        MLP.load(path)
    np.savez(path, **{**entries, "w0": entries["w0"].astype(np.float32)})
    with pytest.raises(ValueError, match=r"must share one dtype, as MLP.save writes them; got "
                                         r"\['float32', 'float64'\]"):
        MLP.load(path)


@pytest.mark.parametrize("version", [-1, 0, 1.7, [1, 1]])
def test_load_rejects_a_version_that_is_not_a_positive_whole_number(tmp_path, version):
    """A version of -1 or 1.7 loaded without complaint (int() truncated it)."""
    path = tmp_path / "m.npz"
    MLP([3, 2], seed=0).save(path)
    entries = dict(np.load(path))
    entries["version"] = np.array(version)
    np.savez(path, **entries)
    with pytest.raises(ValueError, match=r"its version must be a positive whole number; got "
                                         + re.escape(repr(version))):
        MLP.load(path)


@pytest.mark.parametrize("drop", ["version", "activations", "loss", "w0", "b1"])
def test_load_names_a_missing_entry(tmp_path, drop):
    net = MLP([3, 3, 2], seed=0)
    net.save(tmp_path / "net.npz")
    with np.load(tmp_path / "net.npz") as f:
        entries = {k: f[k] for k in f.files if k != drop}
    np.savez(tmp_path / "broken.npz", **entries)
    with pytest.raises(ValueError, match=f"is not a bpfast model file: entry '{drop}' is missing"):
        MLP.load(tmp_path / "broken.npz")


@pytest.mark.parametrize("name,value", [("loss", "mse"), ("activations", ("relu", "relu")),
                                        ("dtype", "float32"), ("layer_sizes", (3, 4, 2))])
def test_architecture_is_read_only(name, value):
    """The kernels' layer table is built from these; changing one alone would split the backends."""
    net = MLP([3, 3, 2], seed=0)
    with pytest.raises(AttributeError):
        setattr(net, name, value)


def test_threads_setter_validates():
    net = MLP([3, 3, 2], seed=0)
    with pytest.raises(ValueError, match="threads must be between 1 and"):
        net.threads = 99
    assert net.threads == 1
