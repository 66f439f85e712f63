"""Every error path: the exception type and its message; bad input never reaches Numba.

Every failing call of fit/set_params must leave the parameters bit-identical,
and no exception may come from the numba package.
"""

import numpy as np
import pytest

import bpfast
from bpfast import MLP
from bpfast import _validate as V
from bpfast import kernels as K
from conftest import ARTICLE_X, ARTICLE_Y, make_case


def snapshot(net):
    return [w.copy() for w in net.weights], [b.copy() for b in net.biases]


def assert_unchanged(net, snap):
    ws, bs = snap
    assert all(np.array_equal(w, v) for w, v in zip(net.weights, ws))
    assert all(np.array_equal(b, v) for b, v in zip(net.biases, bs))


def raises(exc, match, call, *args, **kwargs):
    """``pytest.raises`` that also checks the exception is not numba's."""
    with pytest.raises(exc, match=match) as info:
        call(*args, **kwargs)
    assert not type(info.value).__module__.startswith("numba"), type(info.value)
    return info.value


@pytest.fixture
def net():
    """The article's network (3-3-2 sigmoid, sse)."""
    return MLP([3, 3, 2], seed=0)


def every_method(net, X, Y):
    """``(name, callable)`` for every public method that takes data."""
    return [
        ("forward", lambda: net.forward(X)),
        ("forward_vectorized", lambda: net.forward(X, backend="vectorized")),
        ("predict", lambda: net.predict(X)),
        ("cost", lambda: net.cost(X, Y)),
        ("gradients", lambda: net.gradients(X, Y)),
        ("gradients_vectorized", lambda: net.gradients(X, Y, backend="vectorized")),
        ("fit", lambda: net.fit(X, Y)),
        ("check_equivalence", lambda: bpfast.check_equivalence(net, X, Y)),
        ("gradcheck", lambda: bpfast.gradcheck(net, X, Y)),
    ]


def check_all_methods(net, X, Y, exc, match, y_error=False):
    """Every method rejects the input with ``exc``/``match``; the parameters stay bit-identical.

    X is validated before Y, so a bad X fails every method whatever Y is; for a
    bad Y (``y_error``) the methods that take no Y are skipped.
    """
    snap = snapshot(net)
    for name, call in every_method(net, X, Y):
        if y_error and name in ("forward", "forward_vectorized", "predict"):
            continue
        with pytest.raises(exc, match=match) as info:
            call()
        assert not type(info.value).__module__.startswith("numba"), (name, type(info.value))
    assert_unchanged(net, snap)


# ------------------------------------------------------------------ X
def test_wrong_number_of_features(net):
    X = np.ones((2, 4))
    check_all_methods(net, X, ARTICLE_Y, ValueError, r"X must have 3 columns.*got shape \(2, 4\)")


def test_1d_x(net):
    check_all_methods(net, np.array([1.0, 2.0, 3.0]), ARTICLE_Y[:1], ValueError,
                      r"X must be 2-D.*reshape\(1, -1\)")


def test_1d_x_single_feature_hint():
    net = MLP([1, 2], seed=0)
    raises(ValueError, r"reshape\(-1, 1\) for a single feature", net.forward, np.ones(5))


@pytest.mark.parametrize("which", ["X", "Y"])
def test_3d_arrays(net, which):
    X, Y = ARTICLE_X, ARTICLE_Y
    if which == "X":
        X = np.ones((2, 3, 1))
    else:
        Y = np.ones((2, 2, 1))
    check_all_methods(net, X, Y, ValueError, rf"{which} must be 2-D.*got 3-D", y_error=which == "Y")


def test_0d_x(net):
    raises(ValueError, "X must be 2-D.*got 0-D", net.forward, 1.0)


@pytest.mark.parametrize("which", ["X", "Y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf(net, which, bad):
    X, Y = ARTICLE_X.copy(), ARTICLE_Y.copy()
    (X if which == "X" else Y)[1, 0] = bad
    check_all_methods(net, X, Y, ValueError,
                      rf"^{which} must be finite \(no NaN or inf\); got {bad} at row 1, column 0$",
                      y_error=which == "Y")


@pytest.mark.parametrize("which", ["X", "Y"])
@pytest.mark.parametrize("bad", [
    np.array([["1", "2", "3"], ["3", "2", "1"]]),
    np.array([[1, 2, 3], [3, 2, 1]], dtype=object),
    np.array([[1 + 0j, 2, 3], [3, 2, 1]]),
    [[1.0, None, 3.0], [3.0, 2.0, 1.0]],
], ids=["str", "object", "complex", "None"])
def test_non_numeric_dtypes(net, which, bad):
    X, Y = ARTICLE_X, ARTICLE_Y
    if which == "X":
        X = bad
    else:
        Y = np.asarray(bad)[:, :2]
    check_all_methods(net, X, Y, TypeError, rf"{which} must hold real numbers.*astype\(float\)",
                      y_error=which == "Y")


def test_ragged_list(net):
    raises(ValueError, "X must be a rectangular 2-D array", net.forward, [[1, 2, 3], [1, 2]])


@pytest.mark.parametrize("which", ["X", "Y"])
def test_empty_batch(net, which):
    X, Y = ARTICLE_X, ARTICLE_Y
    if which == "X":
        X, Y = np.empty((0, 3)), np.empty((0, 2))
    else:
        Y = np.empty((0, 2))
    check_all_methods(net, X, Y, ValueError, rf"{which} is empty.*at least one sample",
                      y_error=which == "Y")


# ------------------------------------------------------------------ Y
def test_wrong_number_of_outputs(net):
    check_all_methods(net, ARTICLE_X, np.ones((2, 3)), ValueError,
                      r"Y must have 2 columns.*got shape \(2, 3\)", y_error=True)


def test_mismatched_sample_counts(net):
    check_all_methods(net, ARTICLE_X, np.ones((3, 2)), ValueError,
                      "X and Y must have the same number of samples; got X with 2 rows and Y with 3",
                      y_error=True)


def test_1d_y_rejected_for_several_outputs(net):
    check_all_methods(net, ARTICLE_X, np.array([0.0, 1.0]), ValueError,
                      r"1-D Y is accepted only when the network has one output.*one_hot",
                      y_error=True)


def test_1d_y_accepted_for_one_output():
    rng = np.random.default_rng(0)
    net, X, Y = make_case(rng, widths=[3, 4, 1], batch=6, activations=["tanh", "sigmoid"], loss="sse")
    twin = MLP.from_params(net.weights, net.biases, list(net.activations), "sse")
    y = Y[:, 0].copy()
    assert net.cost(X, y) == net.cost(X, Y)
    for backend in ("loops", "vectorized"):
        assert all(np.array_equal(a, b) for a, b in zip(
            net.gradients(X, y, backend=backend)[0], net.gradients(X, Y, backend=backend)[0]))
    assert np.array_equal(net.fit(X, y, epochs=3), twin.fit(X, Y, epochs=3))
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, twin.weights))


def test_cross_entropy_negative_y():
    net = MLP([3, 2], activation="softmax", loss="cross_entropy", seed=0)
    Y = np.array([[1.0, 0.0], [-0.5, 1.5]])
    snap = snapshot(net)
    for call in (lambda: net.cost(ARTICLE_X, Y), lambda: net.gradients(ARTICLE_X, Y),
                 lambda: net.fit(ARTICLE_X, Y)):
        raises(ValueError, "Y must be non-negative for loss='cross_entropy'.*minimum of -0.5", call)
    assert_unchanged(net, snap)


def test_negative_y_allowed_for_sse():
    net = MLP([3, 2], activation="identity", seed=0)
    assert np.isfinite(net.cost(ARTICLE_X, -ARTICLE_Y))


# ------------------------------------------------------------------ names
@pytest.mark.parametrize("kwargs,match", [
    (dict(activation="sigmod"), r"activation\[0\] must be one of \['identity', 'relu', 'sigmoid', "
                                r"'softmax', 'tanh'\]; got 'sigmod'"),
    (dict(activation=["sigmoid", "gelu"]), r"activation\[1\] must be one of.*got 'gelu'"),
    (dict(loss="l2"), r"loss must be one of \['cross_entropy', 'mse', 'sse'\]; got 'l2'"),
    (dict(init="normal"), r"init must be one of \['glorot', 'uniform'\]; got 'normal'"),
    (dict(dtype="float16"), r"dtype must be one of \['float32', 'float64'\]; got 'float16'"),
    (dict(dtype=np.int64), r"dtype must be one of"),
    (dict(activation=["sigmoid"]), r"one activation per weight layer \(2\); got 1"),
    (dict(activation=["softmax", "sigmoid"]),
     r"activation\[0\] is 'softmax', which is only allowed on the output layer"),
    (dict(activation="softmax"), r"activation='softmax' would put softmax on every layer"),
    (dict(activation=["sigmoid", "sigmoid"], loss="cross_entropy"),
     r"loss='cross_entropy' requires a softmax output layer.*got activation\[-1\] = 'sigmoid'"),
])
def test_constructor_bad_names(kwargs, match):
    raises(ValueError, match, MLP, [3, 3, 2], **kwargs)


@pytest.mark.parametrize("dtype", ["flaot32", "doubel", "not a dtype"])
def test_misspelt_dtype_name_raises(dtype):
    raises(ValueError, rf"dtype must be one of \['float32', 'float64'\]; got '{dtype}'", MLP,
           [3, 3, 2], dtype=dtype)


@pytest.mark.parametrize("kwargs,match", [
    (dict(activation=3), "activation must be a name or a sequence of 2 names"),
    (dict(activation=[1, 2]), r"activation\[0\] must be a string"),
    (dict(loss=None), "loss must be a string"),
    (dict(init=0), "init must be a string"),
    (dict(seed=1.5), "seed must be None or a non-negative integer"),
])
def test_constructor_bad_types(kwargs, match):
    raises(TypeError, match, MLP, [3, 3, 2], **kwargs)


def test_negative_seed_is_a_bad_value():
    raises(ValueError, "seed must be None or a non-negative integer; got -1", MLP, [3, 3, 2], seed=-1)


@pytest.mark.parametrize("sizes,exc,match", [
    ([3, 0, 2], ValueError, r"layer_sizes must be positive integers; got \[3, 0, 2\]"),
    ([3, -1, 2], ValueError, "layer_sizes must be positive integers"),
    ([3, 2.0, 2], ValueError, "layer_sizes must be positive integers"),
    ([3, True], ValueError, "layer_sizes must be positive integers"),
    ([3], ValueError, r"layer_sizes must list at least 2 layers \(input and output\)"),
    ([], ValueError, "layer_sizes must list at least 2 layers"),
    (3, TypeError, r"layer_sizes must be a sequence of positive integers such as \[3, 3, 2\]"),
    (None, TypeError, "layer_sizes must be a sequence"),
])
def test_layer_sizes_invalid(sizes, exc, match):
    raises(exc, match, MLP, sizes)


def test_layer_sizes_accepts_numpy_integers_and_tuples():
    assert MLP(np.array([3, 4, 2])).layer_sizes == (3, 4, 2)
    assert MLP((3, np.int32(4), 2)).layer_sizes == (3, 4, 2)


@pytest.mark.parametrize("call,exc,match", [
    (lambda n: n.forward(ARTICLE_X, backend="numba"), ValueError,
     r"backend must be one of \['loops', 'vectorized'\]; got 'numba'"),
    (lambda n: n.cost(ARTICLE_X, ARTICLE_Y, backend="torch"), ValueError, "backend must be one of"),
    (lambda n: n.gradients(ARTICLE_X, ARTICLE_Y, backend=None), TypeError, "backend must be a string"),
    (lambda n: n.fit(ARTICLE_X, ARTICLE_Y, backend="gpu"), ValueError, "backend must be one of"),
    (lambda n: n.fit(ARTICLE_X, ARTICLE_Y, bias_gradient="avg"), ValueError,
     r"bias_gradient must be one of \['mean', 'sum'\]; got 'avg'"),
    (lambda n: n.fit(ARTICLE_X, ARTICLE_Y, bias_gradient=True), TypeError,
     "bias_gradient must be a string"),
])
def test_method_bad_names(net, call, exc, match):
    snap = snapshot(net)
    raises(exc, match, call, net)
    assert_unchanged(net, snap)


# ------------------------------------------------------------------ fit arguments
@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(learning_rate=0), ValueError, "learning_rate must be a positive finite number; got 0"),
    (dict(learning_rate=-0.1), ValueError, "learning_rate must be a positive finite number"),
    (dict(learning_rate=np.nan), ValueError, "learning_rate must be a positive finite number; got nan"),
    (dict(learning_rate=np.inf), ValueError, "learning_rate must be a positive finite number; got inf"),
    (dict(learning_rate=True), TypeError, "learning_rate must be a positive finite number; got bool"),
    (dict(learning_rate="0.1"), TypeError, "learning_rate must be a positive finite number"),
    (dict(learning_rate=None), TypeError, "learning_rate must be a positive finite number"),
    (dict(batch_size=0), ValueError, "batch_size must be an integer >= 1; got 0"),
    (dict(batch_size=-3), ValueError, "batch_size must be an integer >= 1; got -3"),
    (dict(batch_size=2.0), TypeError, "batch_size must be an integer >= 1; got float 2.0"),
    (dict(batch_size=True), TypeError, "batch_size must be an integer >= 1; got bool"),
    (dict(epochs=0), ValueError, "epochs must be an integer >= 1; got 0"),
    (dict(epochs=-1), ValueError, "epochs must be an integer >= 1"),
    (dict(epochs=10.0), TypeError, "epochs must be an integer >= 1; got float"),
    (dict(shuffle="yes"), TypeError, "shuffle must be True or False"),
    (dict(seed=-5), ValueError, "seed must be None or a non-negative integer; got -5"),
    (dict(callback=42), TypeError, "callback must be callable or None"),
])
def test_fit_bad_arguments_leave_parameters_unchanged(net, kwargs, exc, match):
    snap = snapshot(net)
    raises(exc, match, net.fit, ARTICLE_X, ARTICLE_Y, **kwargs)
    assert_unchanged(net, snap)
    # and the network still trains afterwards
    net.fit(ARTICLE_X, ARTICLE_Y, epochs=1)


def test_fit_accepts_numpy_scalar_arguments(net):
    twin = MLP([3, 3, 2], seed=0)
    a = net.fit(ARTICLE_X, ARTICLE_Y, learning_rate=np.float32(0.5), epochs=np.int64(3),
                batch_size=np.int32(1), shuffle=np.bool_(False))
    b = twin.fit(ARTICLE_X, ARTICLE_Y, learning_rate=0.5, epochs=3, batch_size=1, shuffle=False)
    assert np.array_equal(a, b)


def test_fit_learning_rate_too_large_for_float32():
    net = MLP([3, 3, 2], seed=0, dtype="float32")
    snap = snapshot(net)
    raises(ValueError, "learning_rate", net.fit, ARTICLE_X, ARTICLE_Y, learning_rate=1e300)
    assert_unchanged(net, snap)


# ------------------------------------------------------------------ float32 overflow
@pytest.mark.parametrize("which", ["X", "Y"])
def test_float64_too_large_for_float32(which):
    net = MLP([3, 3, 2], seed=0, dtype="float32")
    X, Y = ARTICLE_X.copy(), ARTICLE_Y.copy()
    (X if which == "X" else Y)[0, 1] = 1e300
    check_all_methods(net, X, Y, ValueError,
                      rf"{which} must be finite.*inf at row 0, column 1 after conversion to "
                      r"float32 \(the value is too large for it\)", y_error=which == "Y")


def test_float32_limit_values_accepted():
    net = MLP([3, 3, 2], seed=0, dtype="float32")
    X = ARTICLE_X.copy()
    X[0, 0] = 3e38                       # just below the float32 maximum
    assert np.isfinite(net.forward(X)).all()


# ------------------------------------------------------------------ from_params / set_params
@pytest.mark.parametrize("weights,biases,exc,match", [
    ([np.ones((3, 3)), np.ones((4, 2))], [np.zeros(3), np.zeros(2)], ValueError,
     r"weights\[1\] must have 3 rows \(the outputs of weights\[0\]\); got shape \(4, 2\)"),
    ([np.ones((3, 3))], [np.zeros(4)], ValueError,
     r"biases\[0\] must have shape \(3,\) to match weights\[0\] of shape \(3, 3\); got shape \(4,\)"),
    ([np.ones((3, 3))], [np.zeros((1, 3))], ValueError, r"biases\[0\] must be a non-empty 1-D array"),
    ([np.ones(3)], [np.zeros(3)], ValueError, r"weights\[0\] must be a non-empty 2-D array"),
    ([np.ones((0, 3))], [np.zeros(3)], ValueError, r"weights\[0\] must be a non-empty 2-D array"),
    ([np.ones((3, 3))], [], ValueError,
     "weights and biases must be non-empty lists of equal length; got 1 weight arrays and 0"),
    ([], [], ValueError, "must be non-empty lists"),
    ([np.full((3, 3), np.nan)], [np.zeros(3)], ValueError, r"weights\[0\] must be finite"),
    ([np.ones((3, 3))], [np.array([0, np.inf, 0])], ValueError, r"biases\[0\] must be finite"),
    ([np.ones((3, 3), dtype=complex)], [np.zeros(3)], TypeError,
     r"weights\[0\] must hold real numbers; got dtype complex128"),
    ([np.array([["a"]])], [np.zeros(1)], TypeError, r"weights\[0\] must hold real numbers"),
    (np.ones((3, 3)), [np.zeros(3)], TypeError, "weights must be a list of arrays, one per layer; got ndarray"),
])
def test_from_params_invalid(weights, biases, exc, match):
    raises(exc, match, MLP.from_params, weights, biases)


def test_from_params_too_large_for_float32():
    raises(ValueError, "weights and biases must fit in float32", MLP.from_params,
           [np.full((2, 2), 1e300)], [np.zeros(2)], dtype="float32")


def test_from_params_bad_names():
    raises(ValueError, "loss must be one of", MLP.from_params, [np.ones((2, 2))], [np.zeros(2)],
           loss="hinge")
    raises(ValueError, "dtype must be one of", MLP.from_params, [np.ones((2, 2))], [np.zeros(2)],
           dtype="int8")
    raises(ValueError, r"requires a softmax output layer", MLP.from_params, [np.ones((2, 2))],
           [np.zeros(2)], loss="cross_entropy")


@pytest.mark.parametrize("weights,biases,exc,match", [
    ([np.ones((3, 4)), np.ones((4, 2))], [np.zeros(4), np.zeros(2)], ValueError,
     r"weights must have shapes \[\(3, 3\), \(3, 2\)\] for layer_sizes \(3, 3, 2\); "
     r"got \[\(3, 4\), \(4, 2\)\]"),
    ([np.ones((3, 3))], [np.zeros(3)], ValueError, r"weights must have shapes"),
    ([np.ones((3, 3)), np.ones((3, 2))], [np.zeros(3), np.zeros(3)], ValueError,
     r"biases\[1\] must have shape \(2,\)"),
    ([np.ones((3, 3)), np.full((3, 2), np.inf)], [np.zeros(3), np.zeros(2)], ValueError,
     r"weights\[1\] must be finite"),
    ([np.ones((3, 3)), np.ones((3, 2), dtype=object)], [np.zeros(3), np.zeros(2)], TypeError,
     r"weights\[1\] must hold real numbers"),
    (["abc", np.ones((3, 2))], [np.zeros(3), np.zeros(2)], TypeError,   # was a shape error: got [()...]
     r"weights\[0\] must hold real numbers; got dtype <U3"),
])
def test_set_params_invalid_leaves_parameters_unchanged(net, weights, biases, exc, match):
    snap = snapshot(net)
    raises(exc, match, net.set_params, weights, biases)
    assert_unchanged(net, snap)


def test_set_params_too_large_for_float32_leaves_parameters_unchanged():
    net = MLP([3, 3, 2], seed=0, dtype="float32")
    snap = snapshot(net)
    raises(ValueError, "must fit in float32", net.set_params,
           [np.full((3, 3), 1e39), np.ones((3, 2))], [np.zeros(3), np.zeros(2)])
    assert_unchanged(net, snap)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLP.load(tmp_path / "missing.npz")


def test_equivalence_and_gradcheck_bad_eps(net):
    raises(ValueError, "eps must be a positive finite number", bpfast.gradcheck, net, ARTICLE_X,
           ARTICLE_Y, eps=0.0)


# ------------------------------------------------------------------ coercion is invisible
def _variants(X):
    """Integer, non-contiguous, Fortran-ordered and transposed versions holding the same values."""
    n, m = X.shape
    wide = np.zeros((n, 2 * m))
    wide[:, ::2] = X
    tall = np.zeros((2 * n, m))
    tall[::2] = X
    return {
        "int64": X.astype(np.int64),
        "int32": X.astype(np.int32),
        "uint8": X.astype(np.uint8),
        "column_slice": wide[:, ::2],
        "row_slice": tall[::2],
        "fortran": np.asfortranarray(X),
        "transposed_view": np.ascontiguousarray(X.T).T,
        "float32_input": X.astype(np.float32),
        "list": X.tolist(),
    }


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", list(_variants(np.ones((2, 2)))))
def test_integer_and_non_contiguous_inputs_identical(variant, dtype):
    """Coerced inputs give bit-identical forward, cost, gradients and fit (both backends)."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 5, size=(7, 4)).astype(np.float64)
    Y = rng.integers(0, 2, size=(7, 3)).astype(np.float64)
    Xv, Yv = _variants(X)[variant], _variants(Y)[variant]
    if variant != "list":
        assert np.array_equal(np.asarray(Xv, dtype=np.float64), X)
    net = MLP([4, 5, 3], activation=["relu", "sigmoid"], seed=2, dtype=dtype)
    twin = MLP([4, 5, 3], activation=["relu", "sigmoid"], seed=2, dtype=dtype)
    Xc, Yc = X.astype(dtype), Y.astype(dtype)
    for backend in ("loops", "vectorized"):
        assert np.array_equal(net.forward(Xv, backend=backend), net.forward(Xc, backend=backend))
        assert net.cost(Xv, Yv, backend=backend) == net.cost(Xc, Yc, backend=backend)
        for a, b in zip(net.gradients(Xv, Yv, backend=backend), net.gradients(Xc, Yc, backend=backend)):
            assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert np.array_equal(net.predict(Xv), net.predict(Xc))
    assert np.array_equal(net.fit(Xv, Yv, epochs=2, batch_size=3, seed=0),
                          twin.fit(Xc, Yc, epochs=2, batch_size=3, seed=0))
    assert all(np.array_equal(a, b) for a, b in zip(net.weights + net.biases,
                                                    twin.weights + twin.biases))


def test_bool_inputs_are_numbers():
    net = MLP([3, 3, 2], seed=0)
    Xb = np.array([[True, False, True], [False, True, False]])
    assert np.array_equal(net.forward(Xb), net.forward(Xb.astype(float)))


def test_masked_arrays_are_refused_not_unmasked(net):
    """A masked array's mask was silently ignored: the masked values were trained on."""
    X = np.ma.masked_array(ARTICLE_X, mask=[[1, 0, 0], [0, 0, 0]])
    snap = snapshot(net)
    raises(TypeError, r"X must be a plain array; got a masked array, whose mask bpfast would ignore",
           net.fit, X, ARTICLE_Y)
    raises(TypeError, r"Y must be a plain array; got a masked array", net.fit, ARTICLE_X,
           np.ma.masked_array(ARTICLE_Y))
    raises(TypeError, r"X must be a plain array", net.forward, X)
    masked = np.ma.masked_array(np.ones((3, 3)), mask=np.eye(3, dtype=bool))
    raises(TypeError, r"weights\[0\] must be a plain array; got a masked array", net.set_params,
           [masked, np.ones((3, 2))], [np.zeros(3), np.zeros(2)])
    assert_unchanged(net, snap)
    raises(TypeError, r"weights\[0\] must be a plain array", MLP.from_params,
           [masked, np.ones((3, 2))], [np.zeros(3), np.zeros(2)])
    raises(TypeError, r"x must be a plain array", bpfast.explain, net, X[:1], ARTICLE_Y[:1])
    raises(TypeError, r"labels must be a plain array", bpfast.one_hot, np.ma.masked_array([0, 1], mask=[0, 1]), 2)
    raises(TypeError, r"X must be a plain array", bpfast.datasets.Standardizer().fit, X)
    raises(TypeError, r"X must be a plain array", bpfast.datasets.train_test_split, X, np.array([0, 1]))


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("backend", ["loops", "vectorized"])
def test_np_matrix_inputs_are_plain_arrays_2(backend):
    """np.matrix passed validation unchanged, and the matrix form's (2) and (13)-(24) then took
    its * and ** as matrix products: cost 8.5648 instead of 4.9459 (vectorized)."""
    net = MLP([3, 3, 3], activation="tanh", loss="sse", seed=0)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 3)), rng.random((3, 3))
    assert net.cost(np.matrix(X), np.matrix(Y), backend=backend) == net.cost(X, Y, backend=backend)
    assert abs(net.cost(X, Y, backend=backend) - 4.9458873889803066) < 1e-12
    gw, gb = net.gradients(np.matrix(X), np.matrix(Y), backend=backend)
    ww, wb = net.gradients(X, Y, backend=backend)
    for got, want in zip(gw + gb, ww + wb):
        assert type(got) is np.ndarray and np.array_equal(got, want)
    twin = MLP.from_params(net.weights, net.biases, activation="tanh", loss="sse")
    costs = net.fit(np.matrix(X), np.matrix(Y), epochs=3, backend=backend)
    assert np.array_equal(costs, twin.fit(X, Y, epochs=3, backend=backend))
    assert type(net.forward(np.matrix(X), backend=backend)) is np.ndarray


def test_read_only_inputs_train_with_the_kernels_already_compiled():
    """A read-only X made Numba compile every kernel once more (7 s): it is copied instead.
    (A 3-layer net: bpfast.kernels.train, not bpfast.tiny.)"""
    X = np.random.default_rng(0).standard_normal((20, 3))
    Y = np.eye(2)[np.arange(20) % 2]
    net, twin = MLP([3, 4, 4, 2], seed=1), MLP([3, 4, 4, 2], seed=1)
    net.fit(X, Y, epochs=2, batch_size=5, seed=0)
    compiled = len(getattr(K.train, "signatures", []))
    X_ro, Y_ro = X.copy(), Y.copy()
    X_ro.flags.writeable = Y_ro.flags.writeable = False
    twin.fit(X_ro, Y_ro, epochs=2, batch_size=5, seed=0)
    assert len(getattr(K.train, "signatures", [])) == compiled
    assert all(np.array_equal(a, b) for a, b in zip(net.weights + net.biases, twin.weights + twin.biases))
    assert np.array_equal(net.forward(X), twin.forward(X_ro))


def test_an_interrupt_after_the_compiled_run_keeps_the_shuffle_stream_with_the_parameters(monkeypatch):
    """Ctrl-C cannot stop the compiled loops: it lands when they return. The epochs they ran
    are kept, and the shuffle stream moved on with them (it used to stay behind, so the next
    fit shuffled as if the interrupted one had not run)."""
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((12, 3)), np.eye(2)[np.arange(12) % 2]
    plain, interrupted = MLP([3, 4, 4, 2], seed=3), MLP([3, 4, 4, 2], seed=3)
    plain.fit(X, Y, epochs=2, batch_size=4)
    plain.fit(X, Y, epochs=1, batch_size=4)
    run = interrupted._fit_loops

    def run_then_interrupt(*args):
        run(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(interrupted, "_fit_loops", run_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(X, Y, epochs=2, batch_size=4)
    monkeypatch.undo()
    interrupted.fit(X, Y, epochs=1, batch_size=4)
    assert all(np.array_equal(a, b) for a, b in zip(plain.weights + plain.biases,
                                                    interrupted.weights + interrupted.biases))


def test_inputs_are_not_modified(net):
    X = np.asfortranarray(ARTICLE_X.astype(np.int64))
    Y = ARTICLE_Y.copy()
    net.fit(X, Y, epochs=3)
    assert np.array_equal(X, ARTICLE_X) and X.dtype == np.int64 and np.isfortran(X)
    assert np.array_equal(Y, ARTICLE_Y)


def test_validation_then_success_matches_fresh_run(net):
    """A failing fit between two runs changes nothing: not the parameters, not the stream."""
    twin = MLP([3, 3, 2], seed=0)
    X = np.vstack([ARTICLE_X] * 3)
    Y = np.vstack([ARTICLE_Y] * 3)
    with pytest.raises(ValueError):
        net.fit(X, Y, batch_size=2, learning_rate=-1)
    a = net.fit(X, Y, batch_size=2, epochs=3)
    b = twin.fit(X, Y, batch_size=2, epochs=3)
    assert np.array_equal(a, b)
    assert all(np.array_equal(x, y) for x, y in zip(net.weights + net.biases,
                                                    twin.weights + twin.biases))


# ------------------------------------------------------------------ threads
def test_threads_invalid():
    import numba
    limit = numba.config.NUMBA_NUM_THREADS
    raises(ValueError, "threads must be an integer >= 1; got 0", MLP, [3, 2], threads=0)
    raises(ValueError, rf"threads must be between 1 and {limit}.*got {limit + 1}", MLP, [3, 2],
           threads=limit + 1)
    raises(TypeError, "threads must be an integer >= 1; got float 2.0", MLP, [3, 2], threads=2.0)
    raises(TypeError, "threads must be an integer", MLP.from_params, [np.ones((2, 2))],
           [np.zeros(2)], threads=None)


@pytest.mark.parametrize("threads,exc", [(0, ValueError), (10**6, ValueError), (1.0, TypeError)])
def test_fit_threads_invalid_leaves_parameters_unchanged(net, threads, exc):
    snap = snapshot(net)
    raises(exc, "threads must be", net.fit, ARTICLE_X, ARTICLE_Y, threads=threads)
    assert_unchanged(net, snap)


def test_constructor_dtype_none_is_rejected():
    """Only from_params infers the dtype; the constructor needs a name."""
    raises(ValueError, r"dtype must be one of \['float32', 'float64'\]; got None", MLP, [3, 3, 2],
           dtype=None)


@pytest.mark.parametrize("method", ["fit", "cost", "gradients"])
def test_y_none_is_a_type_error_never_a_numba_one(method):
    net = MLP([3, 3, 2], seed=0)
    X = np.array([[1.0, 2, 3], [3, 2, 1]])
    with pytest.raises(TypeError, match=r"Y must be an array of shape \(n_samples, 2\); got None"):
        getattr(net, method)(X, None)


def test_equivalence_and_gradcheck_reject_y_none_and_non_networks():
    net = MLP([3, 3, 2], seed=0)
    X = np.array([[1.0, 2, 3], [3, 2, 1]])
    for fn in (bpfast.check_equivalence, bpfast.gradcheck):
        with pytest.raises(TypeError, match="Y must be an array"):
            fn(net, X, None)
        with pytest.raises(TypeError, match="net must be a bpfast.MLP; got NoneType"):
            fn(None, X, X[:, :2])


def test_softmax_output_needs_two_units():
    with pytest.raises(ValueError, match="a softmax output layer needs at least 2 units"):
        MLP([3, 3, 1], activation=["tanh", "softmax"], loss="cross_entropy")


def test_set_params_names_the_argument_and_blames_the_weights_not_the_biases():
    net = MLP([3, 4, 2], seed=0)
    before = [w.copy() for w in net.weights]
    with pytest.raises(TypeError, match="weights must be a list of arrays, one per layer; got NoneType"):
        net.set_params(None, None)
    with pytest.raises(ValueError, match=r"weights must have shapes \[\(3, 4\), \(4, 2\)\] for layer_sizes"):
        net.set_params([np.zeros((4, 3)), np.zeros((4, 2))], [np.zeros(4), np.zeros(2)])
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights))


# ------------------------------------------------------------------ found by the fresh-clone trial
@pytest.mark.parametrize("sizes", [[3, 10**20, 2], [3, 10**12, 2], [2**31, 1]])
def test_layer_sizes_beyond_the_machines_memory_are_refused(sizes):
    """They raised OverflowError or MemoryError, or got the process killed."""
    raises(ValueError, r"layer_sizes .* parameters: .* GiB", MLP, sizes)


@pytest.mark.parametrize("epochs", [10**12, 2**63])
def test_fit_epochs_beyond_memory_names_epochs(net, epochs):
    snap = snapshot(net)
    raises(ValueError, "epochs is too large", net.fit, ARTICLE_X, ARTICLE_Y, epochs=epochs)
    assert_unchanged(net, snap)


def test_fit_learning_rate_may_be_any_real_number(net):
    """A Fraction reached np.isfinite and failed there without naming learning_rate."""
    from fractions import Fraction
    twin = MLP.from_params(net.weights, net.biases)
    assert np.array_equal(net.fit(ARTICLE_X, ARTICLE_Y, learning_rate=Fraction(1, 10)),
                          twin.fit(ARTICLE_X, ARTICLE_Y, learning_rate=0.1))


@pytest.mark.parametrize("weights,biases,match", [
    ([[[1, 2], [3]]], [[0, 0]], r"weights\[0\] must be a 2-D array"),
    ([[[1, 2], [3, 4]]], [[0, [0]]], r"biases\[0\] must be a 1-D array"),
])
def test_from_params_ragged_lists_name_the_array(weights, biases, match):
    raises(ValueError, match, MLP.from_params, weights, biases)


@pytest.mark.parametrize("path", [None, 3])
def test_save_and_load_need_a_path(net, path):
    raises(TypeError, "path must be a file name or a file object; got", net.save, path)
    raises(TypeError, "path must be a file name or a file object; got", MLP.load, path)


def test_load_text_and_layerless_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    raises(ValueError, "notes.txt is not a bpfast model file .*: it is not an .npz archive", MLP.load, text)
    np.savez(tmp_path / "empty.npz", format="bpfast-mlp", version=1, activations=np.array([], dtype=str),
             loss="sse")
    raises(ValueError, "names no layer", MLP.load, tmp_path / "empty.npz")


def test_a_diverged_network_saves_and_loads_exactly(tmp_path):
    """Its NaN weights were saved but then refused by load (and by nothing else)."""
    net = MLP([3, 3, 2], activation="identity", init="uniform", seed=16)
    with pytest.warns(RuntimeWarning, match="NaN or inf"), np.errstate(over="ignore", invalid="ignore"):
        net.fit(ARTICLE_X, ARTICLE_Y, learning_rate=1e300, epochs=3)   # (numpy's own: NUMBA_DISABLE_JIT)
    assert not np.isfinite(net.packed()[0]).all()
    net.save(tmp_path / "diverged.npz")
    with pytest.warns(RuntimeWarning, match="diverged.npz holds NaN or inf parameters"):
        same = MLP.load(tmp_path / "diverged.npz")
    assert np.array_equal(same.packed()[0], net.packed()[0], equal_nan=True)


def test_vectorized_backend_overflows_silently_as_the_loops_do():
    """Found by a fresh-clone trial: forward, cost, gradients and check_equivalence with the
    matrix form let NumPy's overflow warnings through; the loops give inf and NaN silently.
    Both now give the same non-finite values without a warning (fit reports divergence once)."""
    import warnings
    net = MLP([3, 4, 2], activation="identity", seed=0)
    X, Y = np.full((2, 3), 1e200), np.zeros((2, 2))
    with np.errstate(all="ignore"):                    # the loops run NumPy's scalars without the JIT
        want_out, want_cost = net.forward(X), net.cost(X, Y)
        want_gw, _ = net.gradients(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = net.forward(X, backend="vectorized")
        cost = net.cost(X, Y, backend="vectorized")
        gw, _ = net.gradients(X, Y, backend="vectorized")
    np.testing.assert_allclose(out, want_out, rtol=1e-12)
    assert not np.isfinite(cost) and not np.isfinite(want_cost)     # (2) overflows
    assert [np.isfinite(g).all() for g in gw] == [np.isfinite(g).all() for g in want_gw]


@pytest.mark.parametrize("value", ["yes", None, 1])
def test_check_equivalence_raise_on_mismatch_is_a_flag(net, value):
    """Found by a fresh-clone trial: any value was taken, as its truth value."""
    raises(TypeError, "raise_on_mismatch must be True or False; got", bpfast.check_equivalence,
           net, ARTICLE_X, ARTICLE_Y, raise_on_mismatch=value)


def test_big_endian_float_dtypes_are_their_native_twins(tmp_path):
    """Found by a fresh-clone trial: dtype='>f8' and a model file written with big-endian
    arrays were refused as 'dtype must be one of [float32, float64]; got >f8'."""
    assert MLP([3, 3, 2], dtype=">f8").dtype == np.float64
    assert MLP([3, 3, 2], dtype=np.dtype(">f4")).dtype == np.float32
    net = MLP([3, 3, 2], seed=1)
    net.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz") as f:
        entries = {k: f[k].astype(f[k].dtype.newbyteorder(">")) if f[k].dtype.kind == "f" else f[k] for k in f}
    np.savez(tmp_path / "big.npz", **entries)
    same = MLP.load(tmp_path / "big.npz")
    assert same.dtype == np.float64 and same.weights[0].dtype.isnative
    for a, b in zip(same.weights + same.biases, net.weights + net.biases):
        np.testing.assert_array_equal(a, b)
    raises(ValueError, "dtype must be one of", MLP, [3, 3, 2], dtype=">i8")
    # a second trial: from_params took big-endian float32 weights as float64
    big32 = MLP.from_params([w.astype(">f4") for w in net.weights], [b.astype(">f4") for b in net.biases])
    assert big32.dtype == np.float32


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_all_finite_is_exact_and_silent(dtype):
    """V.all_finite (fit's checks of X, Y and the costs): no NumPy warning for values whose sum
    would overflow or be inf - inf (a sum-based shortcut, tried, warned on both)."""
    big = np.finfo(dtype).max
    cases = {(1.0, 2.0): True, (big, big): True, (-big, -big, 1.0): True, (np.nan, 1.0): False,
             (np.inf, 1.0): False, (np.inf, -np.inf): False, (big, big, np.nan): False}
    for values, want in cases.items():
        assert V.all_finite(np.array(values, dtype=dtype).reshape(1, -1)) is want, values
    assert V.all_finite(np.empty((0, 3), dtype=dtype))
