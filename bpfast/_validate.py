"""Coerce, then check, every user input before any jitted code sees it.

Every message names the argument, what was expected and what was given.
"""

import functools
import numbers
import os
import sys

import numpy as np

from ._config import ACTIVATIONS, BACKENDS, DTYPES, LOSSES


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__} {value!r}"


def choice(name, value, options):
    """Return ``value`` if it is one of ``options`` (strings), else raise."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {sorted(options)}; got {_kind(value)}")
    if value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}; got {value!r}")
    return value


def flag(name, value):
    """Return ``value`` as a bool if it is True or False (or NumPy's), else raise TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {_kind(value)}")
    return bool(value)


def dtype_name(value):
    """Normalise a dtype given as a name, a NumPy type or a dtype to "float64"/"float32"."""
    try:
        dt = None if value is None else np.dtype(value)
    except TypeError:
        dt = None
    if dt is not None and dt.kind == "f" and not dt.isnative:
        dt = dt.newbyteorder("=")                      # '>f8' is a float64 too (data from another machine)
    for name, known in DTYPES.items():
        if dt is not None and dt == known:
            return name
    raise ValueError(f"dtype must be one of {sorted(DTYPES)}; got {value!r}")


def positive_int(name, value, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {_kind(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def positive_float(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive finite number; got {_kind(value)}")
    try:
        value = float(value)                      # Fraction, Decimal, numpy scalars
    except (OverflowError, TypeError, ValueError):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return value


def threads(name, value):
    """A thread count: 1 up to the threads Numba can use on this machine."""
    import numba
    limit = numba.config.NUMBA_NUM_THREADS
    value = positive_int(name, value)
    if value > limit:
        raise ValueError(f"{name} must be between 1 and {limit} (numba.config.NUMBA_NUM_THREADS on "
                         f"this machine); got {value}")
    return value


def seed(name, value):
    """A seed: None or a non-negative integer."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be None or a non-negative integer; got {_kind(value)}")
    if value < 0:
        raise ValueError(f"{name} must be None or a non-negative integer; got {value}")
    return int(value)


def layer_sizes(value):
    try:
        sizes = list(value)
    except TypeError:
        raise TypeError(f"layer_sizes must be a sequence of positive integers such as [3, 3, 2]; "
                        f"got {_kind(value)}") from None
    if len(sizes) < 2:
        raise ValueError(f"layer_sizes must list at least 2 layers (input and output); got {value!r}")
    for n in sizes:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"layer_sizes must be positive integers; got {value!r}")
    sizes = tuple(int(n) for n in sizes)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    memory = _physical_memory()
    if 3 * 8 * n_params > memory:                 # the start, its packed copy and the gradients
        raise ValueError(f"layer_sizes {list(sizes)} need {n_params:,} parameters: "
                         f"{8 * n_params / 2**30:,.1f} GiB in float64, and about three times that to "
                         f"initialise and train them, more than this machine's "
                         f"{memory / 2**30:.1f} GiB of memory")
    return sizes


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):   # not POSIX: no limit known
        return float("inf")


def activations(value, sizes, loss):
    """One activation name per weight layer; softmax only on an output layer of 2+ units."""
    n_layers = len(sizes) - 1
    if isinstance(value, str):
        names = [value] * n_layers
        if value == "softmax" and n_layers > 1:
            raise ValueError(f"activation='softmax' would put softmax on every layer; it is only "
                             f"allowed on the output layer: pass a list such as "
                             f"{['sigmoid'] * (n_layers - 1) + ['softmax']}")
    else:
        try:
            names = list(value)
        except TypeError:
            raise TypeError(f"activation must be a name or a sequence of {n_layers} names; "
                            f"got {_kind(value)}") from None
        if len(names) != n_layers:
            raise ValueError(f"activation must name one activation per weight layer "
                             f"({n_layers}); got {len(names)}: {names!r}")
    for i, name in enumerate(names):
        choice(f"activation[{i}]", name, ACTIVATIONS)
        if name == "softmax" and i != n_layers - 1:
            raise ValueError(f"activation[{i}] is 'softmax', which is only allowed on the output "
                             f"layer (index {n_layers - 1}); got {names!r}")
    if names[-1] == "softmax" and sizes[-1] < 2:
        raise ValueError(f"a softmax output layer needs at least 2 units (with 1 its output is "
                         f"always 1 and nothing is learned); got layer_sizes {list(sizes)}")
    choice("loss", loss, LOSSES)
    if loss == "cross_entropy" and names[-1] != "softmax":
        raise ValueError(f"loss='cross_entropy' requires a softmax output layer "
                         f"(activation[-1] == 'softmax'); got activation[-1] = {names[-1]!r}")
    return tuple(names)


def backend(value):
    return choice("backend", value, BACKENDS)


def not_masked(name, value):
    """Refuse a NumPy masked array: ``np.asarray`` would drop its mask and keep the values under it."""
    ma = sys.modules.get("numpy.ma")                   # loaded if a masked array can exist
    if ma is not None and isinstance(value, ma.MaskedArray):
        raise TypeError(f"{name} must be a plain array; got a masked array, whose mask bpfast would "
                        f"ignore. Fill or drop the masked values first ({name}.filled(value), or "
                        f"keep the rows without a mask)")


def array(name, value, dtype, n_columns, *, one_column_1d=False):
    """Coerce ``value`` to a finite, C-contiguous 2-D array of ``dtype`` with ``n_columns`` columns.

    A 1-D array is accepted only when ``one_column_1d`` is true and
    ``n_columns == 1``; it becomes a column (never broadcast). A read-only array
    is copied: Numba would compile every kernel once more for it (7 s, measured).
    """
    not_masked(name, value)
    if type(value) is np.ndarray:
        arr = value
    elif isinstance(value, np.ndarray):
        arr = value.view(np.ndarray)                   # np.matrix: * and ** would be matrix products
    else:
        try:
            arr = np.asarray(value)
        except ValueError as err:                        # ragged nested lists
            raise ValueError(f"{name} must be a rectangular 2-D array; could not convert it: {err}") from None
    if arr.dtype.kind not in "biuf":
        what = f"dtype {arr.dtype}" if isinstance(value, np.ndarray) else _kind(value)
        raise TypeError(f"{name} must hold real numbers (bool, integer or float); got "
                        f"{what}. Please convert it with .astype(float)")
    if arr.ndim == 1:
        if one_column_1d and n_columns == 1:
            arr = arr.reshape(-1, 1)
        elif one_column_1d:
            raise ValueError(f"{name} must have shape (n_samples, {n_columns}); got a 1-D array of "
                             f"shape {arr.shape}. A 1-D {name} is accepted only when the network has "
                             f"one output; for class labels use bpfast.one_hot(labels, {n_columns})")
        else:
            raise ValueError(f"{name} must be 2-D, of shape (n_samples, {n_columns}); got a 1-D array "
                             f"of shape {arr.shape}. Use {name}.reshape(1, -1) for a single sample"
                             + (" or .reshape(-1, 1) for a single feature" if n_columns == 1 else ""))
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, of shape (n_samples, {n_columns}); got {arr.ndim}-D "
                         f"shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it must hold at least one sample; got shape {arr.shape}")
    if arr.shape[1] != n_columns:
        raise ValueError(f"{name} must have {n_columns} columns (shape (n_samples, {n_columns})); "
                         f"got shape {arr.shape}")
    _finite(name, arr)
    if arr.dtype == dtype and arr.flags.c_contiguous and arr.flags.writeable:   # the common case
        return arr
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(arr, dtype=dtype)
    if not out.flags.writeable:
        out = out.copy()
    if arr.dtype.kind == "f" and out.dtype.itemsize < arr.dtype.itemsize:   # float64 -> float32
        _finite(name, out, after=out.dtype)
    return out


def all_finite(arr):
    """Whether every element of a float array is finite: ``np.isfinite(arr).all()`` without the
    Python layer of ``ndarray.all`` (1.1 against 1.3 us on a small array; fit checks three).
    A finite sum would say it sooner, but summing inf and -inf, or finite values that overflow,
    raises NumPy's floating-point warnings."""
    return bool(_all(np.isfinite(arr), axis=None))


_all = np.logical_and.reduce


def _finite(name, arr, after=None):
    if arr.dtype.kind == "f" and not all_finite(arr):
        row, col = np.argwhere(~np.isfinite(arr))[0]
        why = f" after conversion to {after} (the value is too large for it)" if after else ""
        raise ValueError(f"{name} must be finite (no NaN or inf); got {arr[row, col]} at row {row}, "
                         f"column {col}{why}")


def network(net):
    if not isinstance(net, _mlp()):
        raise TypeError(f"net must be a bpfast.MLP; got {_kind(net)}")
    return net


@functools.cache
def _mlp():
    from .model import MLP                              # here: model imports this module
    return MLP


def inputs(net, X):
    """Validate ``X`` against a network; return a C-contiguous array of its dtype."""
    return array("X", X, net.dtype, net.layer_sizes[0])


def data(net, X, Y):
    """Validate ``X`` and ``Y`` against a network; return C-contiguous arrays of its dtype."""
    network(net)
    X = inputs(net, X)
    if Y is None:
        raise TypeError(f"Y must be an array of shape (n_samples, {net.layer_sizes[-1]}); got None")
    Y = array("Y", Y, net.dtype, net.layer_sizes[-1], one_column_1d=True)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"X and Y must have the same number of samples; got X with {X.shape[0]} "
                         f"rows and Y with {Y.shape[0]}")
    if net.loss == "cross_entropy" and (Y < 0).any():
        raise ValueError("Y must be non-negative for loss='cross_entropy' (class probabilities or "
                         f"one-hot rows); got a minimum of {Y.min()}")
    return X, Y
