"""The article's run: 3-3-2 sigmoid, cost (2), U[0, 1) weights, lr 0.1, 1000 full-batch steps.

The article's own run is unseeded (erratum 4 in EQUATIONS.md): it reports a
cost falling from about 1.4 to about 0.011 and outputs approaching
[[0.95, 0.05], [0.055, 0.945]]. What can be checked is the kind, over many
seeds, and one seeded run pinned to values checked against tests/naive.py.
"""

import numpy as np
import pytest

import bpfast
import naive
from bpfast import MLP
from conftest import ARTICLE_SIZES, ARTICLE_X, ARTICLE_Y, assert_close

ARTICLE_OUTPUTS = np.array([[0.95, 0.05], [0.055, 0.945]])

# Seed 16, computed once with bpfast and checked with naive.fit (tests/naive.py).
SEED16_INITIAL_COST = 1.3487904570007219
SEED16_FINAL_COST = 0.010982259861056928
SEED16_OUTPUTS = np.array([[0.945975802247244, 0.05325004456171658],
                           [0.051381333250903, 0.9491272443663321]])


def article_run(seed, backend="loops"):
    """``(initial cost, costs per epoch, net)`` of the article's run for one seed."""
    net = MLP(ARTICLE_SIZES, activation="sigmoid", loss="sse", init="uniform", seed=seed)
    initial = net.cost(ARTICLE_X, ARTICLE_Y)
    costs = net.fit(ARTICLE_X, ARTICLE_Y, learning_rate=0.1, epochs=1000, bias_gradient="mean",
                    backend=backend)
    return initial, costs, net


@pytest.fixture(scope="module")
def twenty_runs():
    return [article_run(seed) for seed in range(20)]


def test_article_initial_cost_about_1_4_2(twenty_runs):
    initial = np.array([r[0] for r in twenty_runs])
    assert ((initial >= 1.0) & (initial <= 1.7)).all(), initial
    assert 1.25 <= np.median(initial) <= 1.55


def test_article_final_cost_about_0_011_2(twenty_runs):
    final = np.array([r[1][-1] for r in twenty_runs])
    assert (final < 0.09).all(), final
    assert 0.010 <= np.median(final) <= 0.03, np.median(final)
    for initial, costs, _ in twenty_runs:
        assert costs[-1] < costs[0] < initial
        assert np.all(np.diff(costs) <= 0)                      # steady descent at lr 0.1


def test_article_seed16_pinned_and_checked_by_naive_2():
    initial, costs, net = article_run(16)
    assert_close(initial, SEED16_INITIAL_COST, "float64", 1, "initial cost")
    assert_close(costs[-1], SEED16_FINAL_COST, "float64", 1, "final cost")
    out = net.forward(ARTICLE_X)
    assert_close(out, SEED16_OUTPUTS, "float64", 1, "outputs")
    assert np.abs(out - ARTICLE_OUTPUTS).max() < 0.01
    assert np.array_equal(net.predict(ARTICLE_X), [0, 1])

    start = MLP(ARTICLE_SIZES, activation="sigmoid", loss="sse", init="uniform", seed=16)
    acts = ["sigmoid", "sigmoid"]
    assert abs(naive.cost(start.weights, start.biases, acts, "sse", ARTICLE_X, ARTICLE_Y)
               - SEED16_INITIAL_COST) < 1e-9
    ws, bs, naive_costs = naive.fit(start.weights, start.biases, acts, "sse", ARTICLE_X, ARTICLE_Y,
                                    learning_rate=0.1, epochs=1000, bias_gradient="mean")
    assert abs(naive_costs[-1] - costs[-1]) < 1e-9
    assert np.abs(naive.forward(ws, bs, acts, ARTICLE_X)[1][-1] - out).max() < 1e-9


def test_article_seed16_vectorized_backend_agrees_23_24():
    _, loops, net_loops = article_run(16, "loops")
    _, vectorized, net_vec = article_run(16, "vectorized")
    assert_close(loops, vectorized, "float64", 1, "costs")
    assert_close(net_loops.forward(ARTICLE_X), net_vec.forward(ARTICLE_X), "float64", 1, "outputs")


def test_article_exact_bias_rule_also_converges_22():
    """The default, exact rule (erratum 1) converges too, to a different point, as naive.fit does."""
    start = MLP(ARTICLE_SIZES, init="uniform", seed=16)
    ws, bs, naive_costs = naive.fit(start.weights, start.biases, ["sigmoid"] * 2, "sse", ARTICLE_X,
                                    ARTICLE_Y, learning_rate=0.1, epochs=1000, bias_gradient="sum")
    costs = start.fit(ARTICLE_X, ARTICLE_Y, learning_rate=0.1, epochs=1000)
    assert costs[-1] < 0.02 and costs[-1] != SEED16_FINAL_COST
    assert abs(naive_costs[-1] - costs[-1]) < 1e-9


# ------------------------------------------------------------------ the equivalence layer
def test_equivalence_layer_passes_on_article_net_and_names_equations():
    net = MLP(ARTICLE_SIZES, init="uniform", seed=16)
    report = bpfast.check_equivalence(net, ARTICLE_X, ARTICLE_Y)
    assert report.passed and report.max_rel <= bpfast._config.EQUIVALENCE_TOL["float64"]["rtol"]
    text = str(report)
    for eq in ("(5)/(6)", "(11)", "(13)", "(15)", "(16)-(18)", "(21)", "(22)", "(23)", "(24)", "(2)"):
        assert eq in text, eq
    quantities = [r.quantity for r in report.rows]
    for q in ("z^0", "z^1", "a^1", "a^2", "delta^1", "delta^2", "dC/dw^0", "dC/dw^1", "dC/db^0",
              "dC/db^1", "C"):
        assert q in quantities, q
    assert "3-3-2 sigmoid/sigmoid, sse" in text and "all agree" in text


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gradcheck_passes_on_article_net_21_22(dtype):
    net = MLP(ARTICLE_SIZES, init="uniform", seed=16, dtype=dtype)
    for backend in ("loops", "vectorized"):
        report = bpfast.gradcheck(net, ARTICLE_X, ARTICLE_Y, backend=backend)
        assert report.passed, str(report)
        assert "passed" in str(report)


def test_equivalence_layer_detects_a_wrong_delta_16_18(monkeypatch):
    """The layer can fail: perturb the matrix form's hidden delta and it must say where."""
    real = bpfast.reference.backward

    def wrong(*args, **kwargs):
        deltas, grad_w, grad_b = real(*args, **kwargs)
        deltas[0] = deltas[0] * (1 + 1e-6)
        return deltas, grad_w, grad_b

    monkeypatch.setattr(bpfast.reference, "backward", wrong)
    net = MLP(ARTICLE_SIZES, init="uniform", seed=16)
    with pytest.raises(bpfast.EquivalenceError) as info:
        bpfast.check_equivalence(net, ARTICLE_X, ARTICLE_Y)
    report = info.value.report
    assert not report.passed
    failed = [r.quantity for r in report.rows if not r.passed]
    assert failed == ["delta^1"]
    assert "MISMATCH" in str(report) and "NO" in str(report)
    quiet = bpfast.check_equivalence(net, ARTICLE_X, ARTICLE_Y, raise_on_mismatch=False)
    assert not quiet.passed


def test_equivalence_compare_nan_and_inf_in_the_same_places_agree():
    """Found by a fresh-clone trial: check_equivalence of a diverged net raised EquivalenceError
    with 'max |diff| nan' beside 'max rel 0.000e+00', though both forms had NaN in the same places."""
    from bpfast.equivalence import _compare
    nan, inf = np.nan, np.inf
    assert _compare([1.0, nan, inf], [1.0, nan, inf], 1e-10, 0.0) == (0.0, 0.0, True)
    max_abs, max_rel, ok = _compare([nan, nan], [nan, 1.0], 1e-10, 0.0)     # NaN on one side only
    assert np.isnan(max_abs) and np.isnan(max_rel) and not ok
    assert _compare([nan, 2.0], [nan, 1.0], 1e-10, 0.0)[1:] == (0.5, False)
    assert _compare([inf, 0.0], [-inf, 0.0], 1e-10, 0.0) == (inf, inf, False)
    net = MLP([3, 3, 2], activation="identity", init="uniform", seed=16)
    with pytest.warns(RuntimeWarning, match="NaN or inf"), np.errstate(all="ignore"):
        net.fit(ARTICLE_X, ARTICLE_Y, learning_rate=1e300, epochs=3)    # diverges to NaN weights
    assert np.isnan(net.packed()[0]).any()
    with np.errstate(all="ignore"):                                     # (NUMBA_DISABLE_JIT: NumPy's)
        report = bpfast.check_equivalence(net, ARTICLE_X, ARTICLE_Y)
    assert report.passed, str(report)
