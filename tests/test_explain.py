"""bpfast explain: the path terms (14.x) add up to the kernels' delta (15), every output format
carries the same numbers, the JSON is complete, and docs/derivation.md matches the code."""

import inspect
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import naive
from bpfast import MLP
from bpfast import kernels as K
from bpfast import reference as R
from bpfast._config import EQUIVALENCE_TOL
from bpfast.cli import main
from bpfast.explain import (MAX_BATCH, MAX_PATH_TERMS, Explanation, example_data, example_net,
                            explain)
from bpfast import explain as explain_from_package

ARTICLE_X = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
ARTICLE_Y = np.array([[1.0, 0.0], [0.0, 1.0]])
DOC = Path(__file__).resolve().parents[1] / "docs" / "derivation.md"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?|-?inf|nan")

# Small networks of every activation, loss and dtype, deep enough to have hidden deltas.
CASES = [
    ([3, 3, 2], "sigmoid", "sse", "float64"),
    ([2, 4, 3, 2], ["tanh", "relu", "sigmoid"], "mse", "float64"),
    ([3, 5, 4], ["relu", "softmax"], "cross_entropy", "float64"),
    ([4, 3, 3], ["identity", "softmax"], "sse", "float64"),
    ([3, 4, 2, 3], ["sigmoid", "tanh", "identity"], "sse", "float32"),
    ([2, 3, 4], ["tanh", "softmax"], "cross_entropy", "float32"),
]


def make(sizes, activation, loss, dtype, seed=3, n=2):
    net = MLP(sizes, activation=activation, loss=loss, init="glorot", seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=n)]
    return net, X, Y


def sections(d):
    return {s["id"]: s for part in d["parts"] for s in part["sections"]}


def values(rows, key):
    return np.array([r[key]["value"] for r in rows], dtype=np.float64)


def numbers(text):
    return NUMBER.findall(text)


# ---------------------------------------------------------------------- the derivation
@pytest.mark.parametrize("sizes, activation, loss, dtype", CASES)
def test_path_terms_sum_to_the_kernels_delta(sizes, activation, loss, dtype):
    net, X, Y = make(sizes, activation, loss, dtype)
    d = explain(net, X[:1], Y[:1]).to_dict()
    secs = sections(d)
    delta = net._loop_pass(X[:1].astype(net.dtype), Y[:1].astype(net.dtype))[3][0]
    tol = EQUIVALENCE_TOL[net.dtype.name]
    for i in range(1, len(sizes) - 1):                     # every layer with a delta below it
        n_in, n_out = sizes[i], sizes[i + 1]
        paths = secs[f"layer{i}.paths"]["rows"]
        assert len(paths) == n_in * n_out
        kernel = delta[net._layers[i, K.U_IN]:net._layers[i, K.U_IN] + n_in].astype(np.float64)
        sums = np.zeros(n_in)
        for row in paths:
            sums[row["j"] - 1] += row["path_term"]["value"]
        scale = max(np.abs(kernel).max(), 1e-300)
        assert np.abs(sums - kernel).max() <= tol["atol"] + tol["rtol"] * scale
        deltas = secs[f"layer{i}.deltas"]["rows"]
        assert [r["j"] for r in deltas] == list(range(1, n_in + 1))
        assert np.array_equal(values(deltas, "kernel"), kernel)           # the kernels' own numbers
        assert np.abs(values(deltas, "sum_of_paths") - kernel).max() <= tol["atol"] + tol["rtol"] * scale


def test_the_article_net_matches_the_float64_oracle():
    net, x, y, _ = (*example_net(), None)[0], ARTICLE_X[:1], ARTICLE_Y[:1], None
    d = explain(net, x, y).to_dict()
    secs = sections(d)
    ref = naive.backprop(net.weights, net.biases, list(net.activations), net.loss, x, y)
    paths = secs["layer1.paths"]["rows"]
    w1 = net.weights[1]
    for row in paths:                                   # (14.x) = w_jk g'(z_k) delta_k, oracle values
        j, k = row["j"] - 1, row["k"] - 1
        assert math.isclose(row["path_term"]["value"], w1[j, k] * ref["dz"][1][0, k], rel_tol=1e-14)
    np.testing.assert_allclose(values(secs["layer1.deltas"]["rows"], "sum_of_paths"), ref["delta"][0][0],
                               rtol=1e-14)
    np.testing.assert_allclose(values(secs["layer1.cost_derivative"]["rows"], "delta"), ref["delta"][1][0],
                               rtol=1e-14)
    np.testing.assert_allclose(values(secs["layer0.weight_gradients"]["rows"], "kernel"),
                               ref["grad_w"][0].ravel(), rtol=1e-13)
    assert math.isclose(d["cost"][0]["value"], ref["cost"], rel_tol=1e-14)


def test_article_numbering_and_one_based_indices():
    net, _ = example_net()
    d = explain(net, ARTICLE_X[0], ARTICLE_Y[0]).to_dict()
    secs = sections(d)
    paths = secs["layer1.paths"]["rows"]
    # The article's (14.1)-(14.3) are k = 1 with j = 1, 2, 3; (14.4)-(14.6) are k = 2.
    assert [(r["equation"], r["j"], r["k"]) for r in paths] == [
        ("(14.1)", 1, 1), ("(14.2)", 2, 1), ("(14.3)", 3, 1),
        ("(14.4)", 1, 2), ("(14.5)", 2, 2), ("(14.6)", 3, 2)]
    assert [r["path_term"]["equation"] for r in paths] == [f"(14.{n})" for n in range(1, 7)]
    assert [r["equation"] for r in secs["layer1.deltas"]["rows"]] == ["(15.1)", "(15.2)", "(15.3)"]
    assert "layer0.paths" not in secs                     # no delta for the input layer
    assert "1-based" in d["indexing"] and any("1-based" in n for n in d["notes"])
    text = explain(net, ARTICLE_X[0], ARTICLE_Y[0]).to_text()
    assert text.index("Layer 1 (the output layer)") < text.index("Layer 0 (the first layer")


def test_gradients_element_by_element_equal_the_matrix_form():
    net, X, Y = make([3, 4, 2, 3], ["tanh", "sigmoid", "softmax"], "cross_entropy", "float64")
    d = explain(net, X[0], Y[0]).to_dict()
    secs = sections(d)
    grad_w, grad_b = net.gradients(X[:1], Y[:1], backend="vectorized")
    for i in range(3):
        rows = secs[f"layer{i}.weight_gradients"]["rows"]
        assert [(r["j"], r["k"]) for r in rows] == [(j, k) for j in range(1, net.layer_sizes[i] + 1)
                                                    for k in range(1, net.layer_sizes[i + 1] + 1)]
        np.testing.assert_array_equal(values(rows, "matrix"), grad_w[i].ravel())
        np.testing.assert_allclose(values(rows, "kernel"), grad_w[i].ravel(), rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(values(rows, "difference"),
                                      values(rows, "kernel") - values(rows, "matrix"))
        brows = secs[f"layer{i}.bias_gradients"]["rows"]
        np.testing.assert_allclose(values(brows, "kernel"), grad_b[i], rtol=1e-12, atol=1e-15)


def test_softmax_has_no_elementwise_g_prime():
    net, X, Y = make([3, 5, 4], ["relu", "softmax"], "cross_entropy", "float64")
    e = explain(net, X[0], Y[0])
    rows = sections(e.to_dict())["layer1.activation_derivative"]["rows"]
    assert all(r["g_prime"]["value"] is None for r in rows)
    assert "g is softmax" in e.to_text() and "Jacobian" in e.to_text()


@pytest.mark.parametrize("loss", ["sse", "mse"])
def test_batch_per_sample_gradients_add_up_and_erratum_1(loss):
    net, X, Y = make([2, 3, 2], "sigmoid", loss, "float64", n=3)
    e = explain(net, X, Y, batch=True)
    secs = sections(e.to_dict())
    grad_w, grad_b = net.gradients(X, Y)
    scale = 1 / 3 if loss == "mse" else 1
    for i in range(2):
        rows = secs[f"batch.layer{i}.weight_gradients"]["rows"]
        per_sample = np.array([[r[f"sample_{s}"]["value"] for s in (1, 2, 3)] for r in rows])
        np.testing.assert_allclose(per_sample.sum(axis=1) * scale, grad_w[i].ravel(), rtol=1e-12)
        np.testing.assert_allclose(values(rows, "combined"), grad_w[i].ravel(), rtol=1e-12)
        brows = secs[f"batch.layer{i}.bias_gradients"]["rows"]
        np.testing.assert_allclose(values(brows, "combined"), grad_b[i], rtol=1e-12)
        np.testing.assert_allclose(values(brows, "article_mean"), grad_b[i] / 3, rtol=1e-12)
        np.testing.assert_allclose(values(brows, "article_error"), grad_b[i] / 3 - grad_b[i], rtol=1e-12)
        assert brows[0]["article_mean"]["equation"].startswith("erratum 1")
    assert "Erratum 1" in e.to_text()
    # The layer tables still walk the first sample.
    single = sections(explain(net, X[0], Y[0]).to_dict())
    assert secs["layer1.paths"]["rows"] == single["layer1.paths"]["rows"]


def test_batch_of_one_and_limits():
    net, X, Y = make([2, 3, 2], "tanh", "sse", "float64", n=MAX_BATCH + 1)
    assert len(explain(net, X[:1], Y[:1], batch=True).parts) == 3
    explain(net, X[:MAX_BATCH], Y[:MAX_BATCH], batch=True)
    with pytest.raises(ValueError, match=f"at most {MAX_BATCH} samples; got {MAX_BATCH + 1}"):
        explain(net, X, Y, batch=True)


# ---------------------------------------------------------------------- formats
@pytest.mark.parametrize("sizes, activation, loss, dtype", CASES[:2] + CASES[4:])
@pytest.mark.parametrize("batch", [False, True])
def test_markdown_renders_the_same_numbers_as_text(sizes, activation, loss, dtype, batch):
    net, X, Y = make(sizes, activation, loss, dtype)
    e = explain(net, X if batch else X[0], Y if batch else Y[0], batch=batch)
    text, markdown = e.to_text(), e.to_markdown()
    assert numbers(text) == numbers(markdown)
    assert len(numbers(text)) > 50
    assert str(e) == text
    # Every table row of the text is a pipe-table row in the Markdown.
    n_text_rows = sum(len(s.rows) for p in e.parts for s in p.sections)
    assert markdown.count("\n| ") == n_text_rows + sum(len(p.sections) for p in e.parts)


def test_float32_prints_fewer_digits():
    net, X, Y = make([3, 3, 2], "sigmoid", "sse", "float32")
    e = explain(net, [0.02, 1.0, 2.0], Y[0])
    assert "0.02" in e.to_text() and "0.0199999" not in e.to_text()


def _walk_quantities(node, path=""):
    if isinstance(node, dict):
        if "value" in node:
            yield path, node
        for key, value in node.items():
            yield from _walk_quantities(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_quantities(value, f"{path}[{i}]")


def _strict(text):
    def reject(constant):
        raise ValueError(f"non-standard JSON constant {constant}")
    return json.loads(text, parse_constant=reject)


DEEP = ["--layers", "2,3,3,2", "--activation", "relu,tanh,softmax", "--loss", "cross_entropy",
        "--dtype", "float32"]


@pytest.mark.parametrize("argv", [[], ["--batch"], DEEP])
def test_json_output_is_complete_and_parses(capsys, argv):
    assert main(["explain", "--format", "json", *argv]) == 0
    d = _strict(capsys.readouterr().out)
    quantities = list(_walk_quantities(d))
    assert len(quantities) > 50
    for path, q in quantities:                         # every number carries its equation
        assert set(q) >= {"value", "equation"}, path
        assert re.search(r"\(\d+(\.\w+)?\)|a\^0 = x|erratum", q["equation"]), (path, q)
    assert d["network"]["layer_sizes"] == ([3, 3, 2] if not argv or argv == ["--batch"] else [2, 3, 3, 2])
    secs = sections(d)
    n_layers = len(d["network"]["layer_sizes"]) - 1
    expected = {f"layer{n_layers - 1}.cost_derivative"}
    for i in range(n_layers):
        expected |= {f"layer{i}.{name}" for name in ("activation_derivative", "weight_gradients",
                                                      "bias_gradients")}
        if i:
            expected |= {f"layer{i}.paths", f"layer{i}.deltas"}
        if "--batch" in argv:
            expected |= {f"batch.layer{i}.weight_gradients", f"batch.layer{i}.bias_gradients"}
    assert set(secs) == expected
    for sec in secs.values():                          # every row has every column
        keys = [set(r) for r in sec["rows"]]
        assert keys and all(k == keys[0] for k in keys), sec["id"]
        assert sec["equation"] and sec["title"]
    # The same numbers as the API gives.
    if not argv:
        net, _ = example_net()
        api = explain(net, ARTICLE_X[0], ARTICLE_Y[0]).to_dict()
        assert sections(api)["layer1.paths"]["rows"] == secs["layer1.paths"]["rows"]


def test_text_is_aligned_tables(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("  eq      j  k  w^1_jk"))
    rule, rows = lines[header + 1], lines[header + 2:header + 8]
    assert set(rule.replace(" ", "")) == {"-"}
    assert [r.split()[0] for r in rows] == [f"(14.{n})" for n in range(1, 7)]
    # Numbers are right-aligned: every value ends where its column's rule ends.
    ends = [m.end() for m in re.finditer(r"-+", rule)]
    for row in rows:
        assert [m.end() for m in re.finditer(r"\S+", row)][1:] == ends[1:]
    assert "(14.6)" in out and "(15.3)" in out and "matrix (16)/(17)" in out
    assert "kernels.backward (21)" in out and "matrix (23)" in out


# ---------------------------------------------------------------------- the command
def test_cli_options(capsys, tmp_path):
    argv = ["explain", "--layers", "3,4,2", "--activation", "relu", "--seed", "5", "--init", "glorot"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Network 3-4-2, activations relu/relu" in out and "seed 5" in out
    assert main(["explain", "--layers", "2,3,1", "--x", "0.5,-1", "--y", "1"]) == 0
    assert "x = [0.5, -1], y = [1]" in capsys.readouterr().out
    assert main(["explain", "--batch", "--x", "1,2,3;3,2,1;0,1,0", "--y", "1,0;0,1;1,0"]) == 0
    assert "Sample 3: x = [0, 1, 0]" in capsys.readouterr().out
    assert main(["explain", "--format", "markdown", "--batch"]) == 0
    assert "#### The batch" in capsys.readouterr().out
    # A saved model.
    net, X, Y = make([2, 3, 2], "tanh", "sse", "float64")
    path = tmp_path / "net.npz"
    net.save(path)
    assert main(["explain", "--model", str(path), "--x", "0.1,0.2", "--y", "1,0"]) == 0
    out = " ".join(capsys.readouterr().out.split())           # the header lines are wrapped
    assert f"loaded from {path}" in out and "Network 2-3-2, activations tanh/tanh" in out
    assert main(["explain", "--model", str(path)]) == 0         # drawn samples
    assert "two samples drawn" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--layers", "64,32,10"], "at most 64 weights (n_in * n_out); layer 0 of this 64-32-10 network "
                               "has 64 x 32 = 2048"),
    (["--layers", "2,3,30"], "layer 1 of this 2-3-30 network has 3 x 30 = 90"),
    (["--layers", "9,9"], "has 9 x 9 = 81"),
    (["--x", "1,2,3;3,2,1", "--y", "1,0;0,1"], "pass one row, or batch=True (bpfast explain --batch)"),
    (["--x", "1,2,3"], "give both --x and --y"),
    (["--x", "1,2,a", "--y", "1,0"], "--x must be numbers"),
    (["--x", "1,2", "--y", "1,0"], "x must have 3 columns"),
    (["--activation", "softmax", "--layers", "3,3,2"], "only allowed on the output layer"),
    (["--loss", "cross_entropy"], "requires a softmax output layer"),
    (["--model", "missing.npz"], "missing.npz"),
    (["--model", "x.npz", "--layers", "3,3,2"], "--model takes the network from the file; drop --layers"),
])
def test_cli_errors_exit_2_with_a_clear_message(capsys, argv, message):
    assert main(["explain", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bpfast explain: error: ") and message in err


def test_cli_rejects_a_negative_seed_while_parsing(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", "--seed", "-1"])
    assert exit_info.value.code == 2
    assert "argument --seed: must be a non-negative integer; got '-1'" in capsys.readouterr().err


# ---------------------------------------------------------------------- the API's checks
def test_api_validates_its_input():
    net, _ = example_net()
    assert explain_from_package is explain
    with pytest.raises(TypeError, match="net must be a bpfast.MLP; got dict"):
        explain({}, ARTICLE_X[0], ARTICLE_Y[0])
    with pytest.raises(TypeError, match="batch must be True or False"):
        explain(net, ARTICLE_X[0], ARTICLE_Y[0], batch="yes")
    with pytest.raises(ValueError, match=r"x must have 3 columns"):
        explain(net, [1.0, 2.0], ARTICLE_Y[0])
    with pytest.raises(ValueError, match=r"y must have 2 columns"):
        explain(net, ARTICLE_X[0], [1.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="x must hold real numbers"):
        explain(net, ["a", "b", "c"], ARTICLE_Y[0])
    with pytest.raises(ValueError, match="x must be finite"):
        explain(net, [1.0, np.nan, 3.0], ARTICLE_Y[0])
    with pytest.raises(ValueError, match="x and y must hold the same number of samples; got 2 and 1"):
        explain(net, ARTICLE_X, ARTICLE_Y[:1], batch=True)
    with pytest.raises(ValueError, match="x holds 2 samples"):
        explain(net, ARTICLE_X, ARTICLE_Y)
    big = MLP([MAX_PATH_TERMS + 1, 1])
    with pytest.raises(ValueError, match=f"has {MAX_PATH_TERMS + 1} x 1 = {MAX_PATH_TERMS + 1}"):
        explain(big, np.zeros(MAX_PATH_TERMS + 1), [1.0])
    explain(MLP([MAX_PATH_TERMS, 1]), np.zeros(MAX_PATH_TERMS), [1.0])   # at the limit: fine
    ce = MLP([2, 2], activation="softmax", loss="cross_entropy")
    with pytest.raises(ValueError, match="y must be non-negative"):
        explain(ce, [1.0, 2.0], [-1.0, 2.0])
    assert isinstance(explain(net, ARTICLE_X[0], ARTICLE_Y[0]), Explanation)


def test_example_data():
    x, y, about = example_data(3, 2)
    assert np.array_equal(x, ARTICLE_X[:1]) and "article" in about
    x, y, about = example_data(3, 2, batch=True)
    assert np.array_equal(x, ARTICLE_X) and np.array_equal(y, ARTICLE_Y)
    x, y, _ = example_data(4, 3, seed=1, batch=True)
    assert x.shape == (2, 4) and np.array_equal(y, [[1, 0, 0], [0, 1, 0]])
    assert np.array_equal(example_data(4, 3, seed=1)[0], x[:1])


# ---------------------------------------------------------------------- docs/derivation.md
def _doc_rows():
    text = DOC.read_text(encoding="utf-8")
    start = text.index("| eq | statement |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split(" | ")])
    return rows


def _function(ref):
    module, name = ref.split(".")
    owner = {"kernels": K, "reference": R, "explain": __import__("bpfast.explain", fromlist=["x"])}[module]
    assert hasattr(owner, name), f"docs/derivation.md cites {ref}, which does not exist"
    obj = getattr(owner, name)
    return getattr(obj, "py_func", obj)                   # a Numba dispatcher's Python function


def _citations(cell):
    """(function, kind, text) for each `module.name` in a cell and each loop/docstring quote after it."""
    out, current = [], None
    for m in re.finditer(r"`([^`]+)`", cell):
        span, before = m.group(1), cell[:m.start()].rstrip()
        if re.fullmatch(r"(kernels|reference|explain)\.\w+", span):
            current = span
            out.append((span, None, None))
        elif before.endswith(("loop", "docstring")):
            assert current, f"a quote without a function: {span!r} in {cell!r}"
            out.append((current, before.split()[-1], span))
    return out


def test_doc_covers_every_equation():
    covered = set()
    for row in _doc_rows():
        covered |= {int(n) for n in re.findall(r"\((\d+)(?:\.x)?\)", row[0])}
    assert covered >= {1, 2, *range(5, 25)}


def test_doc_every_code_reference_exists():
    text = DOC.read_text(encoding="utf-8")
    text = text[:text.index("<!-- explain:begin -->")]
    refs = set(re.findall(r"`((?:kernels|reference|explain)\.\w+)`", text))
    assert len(refs) > 20
    for ref in refs:
        _function(ref)


def test_doc_code_references_resolve_and_cite_their_equations():
    rows = _doc_rows()
    assert len(rows) >= 15
    for row in rows:
        loops, matrix = _citations(row[2]), _citations(row[3])
        assert any(f.startswith("kernels.") for f, _, _ in loops), row[0]
        assert any(f.startswith("reference.") for f, _, _ in matrix), row[0]
        for ref, kind, quote in loops + matrix:
            fn = _function(ref)
            if kind is None:
                assert any(r == ref and k is not None for r, k, _ in loops + matrix), \
                    f"{ref} is cited without a loop comment or docstring quote ({row[0]})"
            elif kind == "docstring":
                assert quote in (inspect.getdoc(fn) or ""), f"{ref}'s docstring has no {quote!r}"
            else:
                comments = [line[line.index("#"):] for line in inspect.getsource(fn).splitlines()
                            if "#" in line]
                assert any(quote in c for c in comments), f"{ref} has no comment {quote!r}"


def test_doc_example_is_what_the_code_prints(capsys):
    text = DOC.read_text(encoding="utf-8")
    begin, end = "<!-- explain:begin -->\n", "<!-- explain:end -->"
    embedded = text[text.index(begin) + len(begin):text.index(end)]
    assert main(["explain", "--format", "markdown"]) == 0
    printed = capsys.readouterr().out
    # The words and layout exactly; the numbers to rounding (a difference printed as 1e-19 on one
    # machine may be 0 on another, and the last of 10 digits may round differently).
    assert NUMBER.sub("#", embedded) == NUMBER.sub("#", printed), \
        "docs/derivation.md is out of date: run `python tests/test_explain.py` to regenerate its example"
    doc_numbers = np.array([float(n) for n in numbers(embedded)])
    now = np.array([float(n) for n in numbers(printed)])
    np.testing.assert_allclose(doc_numbers, now, rtol=1e-9, atol=1e-15)


def regenerate_doc_example():
    """Rewrite the worked example of docs/derivation.md with what the code prints now."""
    import contextlib
    import io
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["explain", "--format", "markdown"])
    text = DOC.read_text(encoding="utf-8")
    begin, end = "<!-- explain:begin -->\n", "<!-- explain:end -->"
    text = text[:text.index(begin) + len(begin)] + buffer.getvalue() + text[text.index(end):]
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":                                 # python tests/test_explain.py
    regenerate_doc_example()


def test_explain_of_an_overflowing_float32_sample_is_silent():
    """Found by a fresh-clone trial: the matrix form's NumPy overflow warnings came through
    (`bpfast explain --x 3e38,3e38,3e38 --y 1,0 --dtype float32`); the loops are silent."""
    import warnings
    net = MLP([3, 3, 2], activation="identity", init="uniform", seed=16, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = str(explain(net, [3e38, 3e38, 3e38], [1.0, 0.0]))
    assert "inf" in text
