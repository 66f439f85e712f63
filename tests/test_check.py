"""bpfast check: the grid runs, covers what it promises, passes on correct kernels, and fails
(exit status 1) when the kernels or the gradient are wrong."""

import numpy as np
import pytest

import bpfast.check as C
from bpfast import MLP
from bpfast import kernels as K
from bpfast import reference as R
from bpfast.cli import main


@pytest.fixture(scope="module")
def quick():
    return C.run_check(quick=True)


def test_quick_passes_and_covers_the_grid(quick):
    assert quick.passed and not quick.failures
    rows = quick.rows
    n = 32 + len(C._BIG) * 2 * len(quick.threads)
    assert len(rows) == n and [r.case for r in rows] == list(range(1, n + 1))
    acts = {a for r in rows for a in r.activations.split("/")}
    assert acts == {"identity", "sigmoid", "tanh", "relu", "softmax"}
    assert {r.loss for r in rows} == {"sse", "mse", "cross_entropy"}
    assert {r.dtype for r in rows} == {"float64", "float32"}
    assert {r.threads for r in rows} == set(quick.threads)
    # Every element-wise activation appears in a hidden layer, with each dtype-
    hidden = {(a, r.dtype) for r in rows for a in r.activations.split("/")[:-1]}
    assert {a for a, _ in hidden} == {"identity", "sigmoid", "tanh", "relu"}
    assert {len(r.architecture.split("-")) - 1 for r in rows} == {1, 2, 3}
    assert min(r.batch for r in rows) == 1
    for r in rows:
        assert r.equivalence.passed and r.gradcheck.passed
        assert r.equivalence_rel == r.equivalence.max_rel
        assert r.gradcheck_max_rel == r.gradcheck.max_rel
        assert (r.same_as_serial is None) == (r.threads == 1)


def test_quick_runs_big_layers_on_every_thread_count(quick):
    """The small grid alone never reached the blocked sums, the chunks of samples or a prange
    loop, so its parallel cases compared the serial code with itself."""
    big = [r for r in quick.rows if any(int(a) * int(b) >= K._SMALL for a, b in
                                        zip(r.architecture.split("-"), r.architecture.split("-")[1:]))]
    assert len(big) == len(C._BIG) * 2 * len(quick.threads)
    assert {r.threads for r in big} == set(quick.threads) and {r.dtype for r in big} == {"float64", "float32"}
    assert max(r.batch for r in big) > K._CHUNK_BYTES // 4                # past float32's chunk
    assert any(0 < int(r.architecture.split("-")[-2]) < K._FEW for r in big)   # (15) one k at a time
    assert all(r.same_as_serial for r in big if r.threads > 1)


def test_quick_report_is_a_table_with_tolerances(quick):
    text = str(quick)
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("case  architecture"))
    for col in ("activations", "loss", "dtype", "threads", "batch", "equiv rel", "tol equiv",
                "grad max rel", "grad mean rel", "tol grad", "result"):
        assert col in lines[header]
    n = len(quick.rows)
    table = lines[header + 2:header + 2 + n]
    assert all(line.endswith("PASS") for line in table)
    assert "rtol 1e-10, atol 1e-13" in text and "rtol 5e-05, atol 1e-06" in text
    assert f"eps {C.CHECK_EPS:g}" in text
    assert f"{n} cases: {n} passed, 0 failed" in text and lines[-1] == "PASSED"


def test_relu_cases_stay_off_the_kink():
    for case in C._cases(True, 0, (1,)):
        if "relu" not in case["activation"]:
            continue
        net, X, _, _ = C._problem(case)
        zs, _ = R.forward([w.astype(np.float64) for w in net.weights], net.biases,
                          list(net.activations), X.astype(net.dtype).astype(np.float64))
        assert min(np.abs(zs[i]).min() for i, a in enumerate(net.activations) if a == "relu") >= C.RELU_MARGIN


def test_the_grid_is_seeded():
    assert C._cases(True, 3, (1, 2)) == C._cases(True, 3, (1, 2))
    assert C._cases(True, 3, (1, 2)) != C._cases(True, 4, (1, 2))
    full = C._cases(False, 0, (1, 2))
    assert len(full) == 16 * 3 * 2 * 2 + len(C._BIG) * 2 * 2
    assert full[0]["seed"] == full[1]["seed"] and full[0]["threads"] != full[1]["threads"]


def test_cli_quick_exit_0(capsys):
    assert main(["check", "--quick"]) == 0
    captured = capsys.readouterr()
    assert "PASSED" in captured.out and "quick grid" in captured.err


def test_wrong_matrix_form_fails_with_exit_1(capsys, monkeypatch):
    right = R.derivative

    def wrong(z, a, name):                                 # a broken (12) for sigmoid
        d = right(z, a, name)
        return d * 1.001 if name == "sigmoid" else d

    monkeypatch.setattr(R, "derivative", wrong)
    assert main(["check", "--quick"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "MISMATCH" in out
    failed = [line for line in out.splitlines() if line.endswith("FAIL")]
    assert failed and all("sigmoid" in line for line in failed)


def test_wrong_gradient_fails_the_gradient_check(monkeypatch):
    right = MLP.gradients

    def wrong(self, X, Y, backend="loops"):
        grad_w, grad_b = right(self, X, Y, backend=backend)
        return [w * 1.01 for w in grad_w], grad_b

    monkeypatch.setattr(MLP, "gradients", wrong)
    result = C.run_check(quick=True)
    assert not result.passed
    assert all(not r.gradcheck.passed and r.equivalence.passed for r in result.rows)
    assert "Gradient check" in str(result) and str(result).endswith("FAILED")


def test_serial_only_build_says_so(monkeypatch):
    class NoThreads(MLP):                                  # an MLP without the threads argument
        def __init__(self, layer_sizes, activation="sigmoid", loss="sse", init="glorot", seed=None,
                     dtype="float64"):
            super().__init__(layer_sizes, activation, loss, init, seed, dtype)

    monkeypatch.setattr(C, "MLP", NoThreads)
    threads, note = C.thread_counts()
    assert threads == (1,) and "parallel kernels are not available in this build" in note
    result = C.run_check(quick=True)
    assert result.passed and {r.threads for r in result.rows} == {1}
    assert "not available in this build" in str(result)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="seed must be a non-negative integer; got -1"):
        C.run_check(quick=True, seed=-1)
    with pytest.raises(TypeError, match="seed must be a non-negative integer"):
        C.run_check(quick=True, seed="0")
    with pytest.raises(TypeError, match="quick must be True or False"):
        C.run_check(quick="yes")


@pytest.mark.slow
def test_full_grid_passes():
    result = C.run_check(quick=False)
    assert result.passed, str(result)
    assert len(result.rows) == 192 + len(C._BIG) * 2 * len(result.threads)
