"""The multilayer perceptron: parameters, forward, cost, gradients, fit, predict, save/load.

Every public method validates its input first (see :mod:`bpfast._validate`)
and only then calls a kernel, so bad input raises a clear ``ValueError`` or
``TypeError`` and never reaches Numba, so a call that fails leaves the network
exactly as it was. Past validation ``fit`` trains the parameters in place (no
copy: the memory of a fit stays what backprop needs). The compiled loops cannot
be interrupted: a Ctrl-C during them takes effect when they return, and the
epochs they ran are kept, with the shuffle stream that goes with them.
"""

import contextlib
import os
import warnings
import zipfile

import numba
import numpy as np

from . import _validate as V
from . import kernels as K
from . import reference as R
from . import tiny
from ._config import BIAS_GRADIENTS, DTYPES, INITS, LOSSES

__all__ = ["MLP"]

_FORMAT = "bpfast-mlp"
_FORMAT_VERSION = 1
_CHUNK = 4096          # rows per kernel call when evaluating large inputs


def _check_path(path):
    if not isinstance(path, (str, os.PathLike)) and not (hasattr(path, "read") or hasattr(path, "write")):
        raise TypeError(f"path must be a file name or a file object; got {type(path).__name__}")


def _shuffle_state(seed):
    """Start state of the shuffle generator (kernels.shuffle) from a seed or fresh entropy."""
    word = np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]
    return int(word % np.uint64(2**31 - 2)) + 1


class MLP:
    """A fully connected network trained by backpropagation.

    Parameters
    ----------
    layer_sizes : sequence of int, length L >= 2
        Units per layer, input first: ``[3, 3, 2]`` is the article's network.
    activation : str or sequence of str
        ``"sigmoid"`` (1), ``"tanh"``, ``"relu"``, ``"identity"``, or
        ``"softmax"`` (output layer only); one name for every layer, or one per
        weight layer (``L - 1`` names).
    loss : {"sse", "mse", "cross_entropy"}
        ``"sse"`` is the article's (2) summed over samples and outputs;
        ``"mse"`` its mean over all elements; ``"cross_entropy"`` is softmax
        cross-entropy summed over samples (needs a softmax output layer).
    init : {"glorot", "uniform"}
        ``"glorot"``: weights ~ U(-r, r), ``r = sqrt(6 / (n_in + n_out))``;
        ``"uniform"``: the article's U[0, 1) weights. Biases start at zero.
    seed : int or None
        Seeds the initial weights and, unless ``fit`` gets its own seed, the
        order of the mini-batches. The same seed gives bit-identical runs.
    dtype : {"float64", "float32"}
        Precision of the parameters and of every computation.
    threads : int
        Threads of the loop kernels: 1 runs the serial kernels; more runs the
        parallel ones (``bpfast.kernels.parallel``), which give bit-identical
        results. At most ``numba.config.NUMBA_NUM_THREADS``.

    Attributes
    ----------
    layer_sizes : tuple of int
    activations : tuple of str, one per weight layer
    loss : str
    dtype : numpy.dtype
    weights : list of ndarray, ``weights[i]`` of shape (n_i, n_{i+1}) (a copy)
    biases : list of ndarray, ``biases[i]`` of shape (n_{i+1},) (a copy)
    """

    def __init__(self, layer_sizes, activation="sigmoid", loss="sse", init="glorot", seed=None,
                 dtype="float64", threads=1):
        sizes = V.layer_sizes(layer_sizes)
        V.choice("init", init, INITS)
        seed = V.seed("seed", seed)
        self._setup(sizes, activation, loss, dtype, seed, threads)
        rng = np.random.default_rng(seed)
        weights, biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            if init == "glorot":
                limit = np.sqrt(6.0 / (n_in + n_out))
                weights.append(rng.uniform(-limit, limit, size=(n_in, n_out)))
            else:
                weights.append(rng.random((n_in, n_out)))
            biases.append(np.zeros(n_out))
        self._params = K.pack(weights, biases, self._layers, self.dtype)

    def _setup(self, sizes, activation, loss, dtype, seed, threads=1):
        self.threads = threads
        self._layer_sizes = sizes
        self._activations = V.activations(activation, sizes, loss)
        self._loss = loss
        self._dtype = DTYPES[V.dtype_name(dtype)]
        self._layers, self._n_params, _ = K.layer_table(sizes, self._activations)
        self._loss_code = LOSSES[loss]
        self._tiny = tiny.eligible(self._layers, self._loss_code)   # fit runs bpfast.tiny
        self._state = _shuffle_state(seed)

    # ---------------------------------------------------------------- attributes
    # The architecture is fixed at construction (the kernels' layer table is built
    # from it): read-only, so the two backends can never disagree about it.
    layer_sizes = property(lambda self: self._layer_sizes, doc="Units per layer, input first.")
    activations = property(lambda self: self._activations, doc="Activation of each weight layer.")
    loss = property(lambda self: self._loss, doc="The loss: 'sse', 'mse' or 'cross_entropy'.")
    dtype = property(lambda self: self._dtype, doc="numpy.dtype of the parameters.")

    @property
    def threads(self):
        """Threads of the loop kernels (settable: 1 .. numba.config.NUMBA_NUM_THREADS)."""
        return self._threads

    @threads.setter
    def threads(self, value):
        self._threads = V.threads("threads", value)

    # ---------------------------------------------------------------- parameters
    @classmethod
    def from_params(cls, weights, biases, activation="sigmoid", loss="sse", dtype=None, seed=None,
                    threads=1):
        """A network with the given parameters (copied).

        Parameters
        ----------
        weights : sequence of array_like, ``weights[i]`` of shape (n_i, n_{i+1})
        biases : sequence of array_like, ``biases[i]`` of shape (n_{i+1},)
        dtype : {"float64", "float32"} or None
            None: float32 if every weight array is float32, else float64.
        """
        return cls._from_params(weights, biases, activation, loss, dtype, seed, threads)

    @classmethod
    def _from_params(cls, weights, biases, activation, loss, dtype, seed, threads, finite=True):
        """:meth:`from_params`; ``finite=False`` lets NaN and inf through (:meth:`load`)."""
        weights, biases = cls._check_param_lists(weights, biases, finite=finite)
        if dtype is None:
            dtype = "float32" if all(w.dtype.newbyteorder("=") == np.float32 for w in weights) else "float64"
        sizes = tuple([weights[0].shape[0]] + [w.shape[1] for w in weights])
        net = cls.__new__(cls)
        net._setup(sizes, activation, loss, dtype, V.seed("seed", seed), threads)
        net._params = net._pack_checked(weights, biases, finite=finite)
        return net

    @staticmethod
    def _check_param_lists(weights, biases, sizes=None, finite=True):
        """Coerce and check lists of weights and biases; against ``sizes`` when given."""
        for name, value in (("weights", weights), ("biases", biases)):
            if isinstance(value, (np.ndarray, str)) or not hasattr(value, "__iter__"):
                raise TypeError(f"{name} must be a list of arrays, one per layer; got "
                                f"{type(value).__name__}")
        weights, biases = list(weights), list(biases)
        for name, values, ndim in (("weights", weights, 2), ("biases", biases, 1)):
            for i, value in enumerate(values):
                V.not_masked(f"{name}[{i}]", value)
                try:
                    values[i] = np.asarray(value)
                except ValueError as err:          # ragged nested lists
                    raise ValueError(f"{name}[{i}] must be a {ndim}-D array; got {err}") from None
                if values[i].dtype.kind not in "biuf":    # before the shapes: a string's () says nothing
                    raise TypeError(f"{name}[{i}] must hold real numbers; got dtype {values[i].dtype}")
        expected = None if sizes is None else list(zip(sizes[:-1], sizes[1:]))
        if expected is not None and [np.shape(w) for w in weights] != expected:
            raise ValueError(f"weights must have shapes {expected} for layer_sizes {sizes}; got "
                             f"{[np.shape(w) for w in weights]}")
        if not weights or len(weights) != len(biases):
            raise ValueError(f"weights and biases must be non-empty lists of equal length; got "
                             f"{len(weights)} weight arrays and {len(biases)} bias arrays")
        for i, (w, b) in enumerate(zip(weights, biases)):
            for name, arr, ndim in ((f"weights[{i}]", w, 2), (f"biases[{i}]", b, 1)):
                if arr.ndim != ndim or 0 in arr.shape:
                    raise ValueError(f"{name} must be a non-empty {ndim}-D array; got shape {arr.shape}")
                if finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
                    raise ValueError(f"{name} must be finite (no NaN or inf)")
            if i and w.shape[0] != weights[i - 1].shape[1]:
                raise ValueError(f"weights[{i}] must have {weights[i - 1].shape[1]} rows (the outputs of "
                                 f"weights[{i - 1}]); got shape {w.shape}")
            if b.shape != (w.shape[1],):
                raise ValueError(f"biases[{i}] must have shape ({w.shape[1]},) to match weights[{i}] "
                                 f"of shape {w.shape}; got shape {b.shape}")
        return weights, biases

    def _pack_checked(self, weights, biases, finite=True):
        shapes = [w.shape for w in weights]
        expected = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        if shapes != expected:
            raise ValueError(f"weights must have shapes {expected} for layer_sizes "
                             f"{self.layer_sizes}; got {shapes}")
        with np.errstate(over="ignore"):
            params = K.pack(weights, biases, self._layers, self.dtype)
        if finite and not np.isfinite(params).all():
            raise ValueError(f"weights and biases must fit in {self.dtype}: a value overflows to inf")
        return params

    def set_params(self, weights, biases):
        """Replace every parameter (copied, checked against the architecture)."""
        self._params = self._pack_checked(*self._check_param_lists(weights, biases, self.layer_sizes))

    @property
    def weights(self):
        """List of weight arrays, ``weights[i]`` of shape (n_i, n_{i+1}): a copy."""
        return K.unpack(self._params, self._layers)[0]

    @property
    def biases(self):
        """List of bias arrays, ``biases[i]`` of shape (n_{i+1},): a copy."""
        return K.unpack(self._params, self._layers)[1]

    def packed(self):
        """``(params, layers)``: copies of the flat parameter buffer and the layer table.

        These are the first two arguments of every kernel in :mod:`bpfast.kernels`,
        for use from your own ``@njit`` code; bring trained values back with
        ``net.set_params(*bpfast.kernels.unpack(params, layers))``.
        """
        return self._params.copy(), self._layers.copy()

    @property
    def n_params(self):
        """Number of trainable parameters."""
        return self._n_params

    def __repr__(self):
        acts = self.activations[0] if len(set(self.activations)) == 1 else list(self.activations)
        return (f"MLP(layer_sizes={list(self.layer_sizes)}, activation={acts!r}, loss={self.loss!r}, "
                f"dtype={self.dtype.name!r})")

    # ---------------------------------------------------------------- evaluation
    @contextlib.contextmanager
    def _running(self, threads=None):
        """The kernels to call (serial, or parallel on ``threads`` threads) for a ``with`` block."""
        threads = self.threads if threads is None else threads
        if threads == 1:
            yield K
            return
        previous = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            yield K.parallel
        finally:
            numba.set_num_threads(previous)

    def _buffers(self, n_rows):
        return K.allocate(self._layers, n_rows, self.dtype)

    def _vectorized_params(self):
        ws, bs = K.unpack(self._params, self._layers)
        return ws, bs, list(self.activations)

    def forward(self, X, backend="loops"):
        """Network output ``a^{L-1}`` for each row of ``X``, (5)/(6) and (11) layer by layer.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_in)
        backend : {"loops", "vectorized"}

        Returns
        -------
        ndarray of shape (n_samples, n_out)
        """
        X = V.inputs(self, X)
        if V.backend(backend) == "vectorized":
            with np.errstate(all="ignore"):           # inf and NaN as the loops give them, silently
                return R.forward(*self._vectorized_params(), X)[1][-1]
        n = X.shape[0]
        z, a, _, _ = self._buffers(min(n, _CHUNK))
        u_out = self._layers[-1, K.U_OUT]
        out = np.empty((n, self.layer_sizes[-1]), dtype=self.dtype)
        seq = np.arange(n)
        for start in range(0, n, _CHUNK):
            rows = seq[start:start + _CHUNK]
            with self._running() as kernels:
                kernels.forward(self._params, self._layers, X, rows, z, a)
            out[rows] = a[:len(rows), u_out:]
        return out

    def cost(self, X, Y, backend="loops"):
        """Cost of the whole batch ``(X, Y)`` under the network's loss, as a float."""
        X, Y = V.data(self, X, Y)
        if V.backend(backend) == "vectorized":
            with np.errstate(all="ignore"):           # as in forward
                zs, acts = R.forward(*self._vectorized_params(), X)
                return float(R.cost(self.loss, zs[-1], acts[-1], Y))
        z, a, _, _ = self._buffers(min(X.shape[0], _CHUNK))
        seq = np.arange(X.shape[0])
        with self._running() as kernels:
            return float(kernels.total_cost(self._params, self._layers, self._loss_code, X, Y, seq, z, a))

    def gradients(self, X, Y, backend="loops"):
        """Exact gradient of the total cost of the batch, (21)/(22) or (23)/(24).

        Returns
        -------
        grad_w : list of ndarray, ``grad_w[i]`` of shape (n_i, n_{i+1})
        grad_b : list of ndarray, ``grad_b[i]`` of shape (n_{i+1},)
        """
        X, Y = V.data(self, X, Y)
        if V.backend(backend) == "vectorized":
            ws, bs, acts = self._vectorized_params()
            with np.errstate(all="ignore"):           # as in forward
                _, grad_w, grad_b = R.gradients(ws, bs, acts, self.loss, X, Y)
            return grad_w, grad_b
        grad = self._loop_pass(X, Y)[-1]
        return K.unpack(grad, self._layers)

    def _loop_pass(self, X, Y):
        """One forward and backward pass with the loop kernels; returns every buffer."""
        n = X.shape[0]
        z, a, delta, gz = self._buffers(n)
        grad = np.empty_like(self._params)
        rows = np.arange(n)
        work = np.empty(K.work_size(self._layers, n, self.dtype.itemsize), dtype=self.dtype)
        with self._running() as kernels:
            kernels.forward(self._params, self._layers, X, rows, z, a)
            cost = K.loss_delta(self._layers, self._loss_code, Y, rows, z, a, delta, gz)
            kernels.backward(self._params, self._layers, n, z, a, delta, gz, grad, work)
        return cost, z, a, delta, gz, grad

    def predict(self, X):
        """Class index of each row: the argmax of the outputs.

        A network with one output is read as a binary classifier: class 1
        where the output is at least 0.5 (sigmoid output only).
        """
        if self.layer_sizes[-1] == 1 and self.activations[-1] != "sigmoid":   # before any work
            raise ValueError("predict needs an output layer of 2 or more units (argmax), or one "
                             f"sigmoid unit (threshold 0.5); got one {self.activations[-1]!r} unit")
        out = self.forward(X)
        if self.layer_sizes[-1] > 1:
            return out.argmax(axis=1)
        return (out[:, 0] >= 0.5).astype(np.int64)

    # ---------------------------------------------------------------- training
    def fit(self, X, Y, learning_rate=0.1, epochs=1, batch_size=None, shuffle=True,
            bias_gradient="sum", backend="loops", seed=None, callback=None, threads=None):
        """Train by mini-batch gradient descent; return the cost on ``(X, Y)`` after each epoch.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_in)
        Y : array_like of shape (n_samples, n_out), or (n_samples,) when n_out == 1
        learning_rate : float > 0
        epochs : int >= 1
        batch_size : int >= 1 or None
            None (or anything >= n_samples) is full-batch gradient descent.
        shuffle : bool
            Visit the samples in a new random order each epoch (mini-batches only).
        bias_gradient : {"sum", "mean"}
            ``"sum"``: the exact gradient of the cost summed over the batch, (22)/(24).
            ``"mean"``: the article's rule, weights summed but biases averaged
            over the batch (erratum 1 in docs/equations.md).
        backend : {"loops", "vectorized"}
            ``"loops"`` runs every epoch inside one compiled call.
        seed : int or None
            Seeds the shuffling; None continues the network's own stream.
        callback : callable or None
            ``callback(epoch, cost)`` after each epoch (epochs then run one
            compiled call each; the result is bit-identical). The network holds
            the parameters trained so far, so ``net.predict`` works inside; if
            the callback raises, the parameters go back to where fit found them.
        threads : int or None
            Threads of the loop kernels for this call; None uses ``self.threads``.

        Returns
        -------
        ndarray of shape (epochs,)
        """
        X, Y = V.data(self, X, Y)
        learning_rate = V.positive_float("learning_rate", learning_rate)
        epochs = V.positive_int("epochs", epochs)
        n = X.shape[0]
        batch_size = n if batch_size is None else min(V.positive_int("batch_size", batch_size), n)
        V.flag("shuffle", shuffle)
        bias_mean = V.choice("bias_gradient", bias_gradient, BIAS_GRADIENTS) == "mean"
        backend = V.backend(backend)
        seed = V.seed("seed", seed)
        threads = self.threads if threads is None else V.threads("threads", threads)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None; got {callback!r}")

        state = np.array([self._state if seed is None else _shuffle_state(seed)], dtype=np.int64)
        shuffled = bool(shuffle) and batch_size < n
        try:
            costs = np.empty(epochs, dtype=self.dtype)
        except (MemoryError, ValueError):
            raise ValueError(f"epochs is too large: the cost of each of {epochs} epochs does not fit "
                             f"in memory") from None
        if self.dtype == np.float64:
            lr = np.float64(learning_rate)
        else:                                     # float32 may round it to inf or 0
            with np.errstate(over="ignore", under="ignore"):
                lr = self.dtype.type(learning_rate)
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"learning_rate must be a positive number representable in "
                             f"{self.dtype.name}; got {learning_rate!r}, which becomes {lr}")
        run = self._fit_loops if backend == "loops" else self._fit_vectorized
        if callback is None:
            # Past validation the kernels cannot fail: they train the parameters in place. Only
            # an interrupt (Ctrl-C) can arrive, after the compiled run: the shuffle state then
            # still moves on with the parameters it trained.
            try:
                run(self._params, X, Y, lr, epochs, batch_size, shuffled, bias_mean, state, costs, threads)
            finally:
                if seed is None:
                    self._state = int(state[0])
        else:
            # The callback sees the network as trained so far (and may replace its parameters);
            # if it raises, the parameters and the shuffle state go back to where fit found them.
            before = self._params.copy()
            try:
                for e in range(epochs):
                    run(self._params, X, Y, lr, 1, batch_size, shuffled, bias_mean, state, costs[e:e + 1],
                        threads)
                    callback(e, float(costs[e]))
            except BaseException:
                self._params = before
                raise
            if seed is None:
                self._state = int(state[0])
        if not V.all_finite(costs):
            warnings.warn("the cost became NaN or inf during fit: the learning rate is probably too "
                          "large for this data, or X is too large in scale (standardise it)",
                          RuntimeWarning, stacklevel=2)
        return costs

    def _fit_loops(self, params, X, Y, lr, epochs, batch_size, shuffled, bias_mean, state, costs,
                   threads):
        if self._tiny:                                # a few weights: threads would not help
            tiny.train(params, self._layers, self._loss_code, X, Y, lr, epochs, batch_size, shuffled,
                       bias_mean, state, costs)
            return
        with self._running(threads) as kernels:
            K.train_from_python(params, self._layers, self._loss_code, X, Y, lr, epochs, batch_size,
                                shuffled, bias_mean, state, costs, parallel=kernels is K.parallel)

    @np.errstate(over="ignore", invalid="ignore")      # divergence is reported once, by fit
    def _fit_vectorized(self, params, X, Y, lr, epochs, batch_size, shuffled, bias_mean, state, costs,
                        threads):
        ws, bs = K.unpack(params, self._layers)
        acts = list(self.activations)
        n = X.shape[0]
        order = np.empty(n, dtype=np.int64)
        for e in range(epochs):
            order[:] = np.arange(n)                   # each epoch's order depends on state alone
            if shuffled:
                K.shuffle(order, state)
            for start in range(0, n, batch_size):
                rows = order[start:start + batch_size]
                Xb, Yb = (X, Y) if batch_size == n else (X[rows], Y[rows])
                _, grad_w, grad_b = R.gradients(ws, bs, acts, self.loss, Xb, Yb)
                R.update(ws, bs, grad_w, grad_b, lr, 1 / len(rows) if bias_mean else 1)
            zs, a = R.forward(ws, bs, acts, X)
            costs[e] = R.cost(self.loss, zs[-1], a[-1], Y)
        params[:] = K.pack(ws, bs, self._layers, self.dtype)

    # ---------------------------------------------------------------- persistence
    def save(self, path):
        """Write the network to ``path`` as ``.npz`` (exact round trip with :meth:`load`).

        As with :func:`numpy.savez`, ``.npz`` is appended to a path without it;
        :meth:`load` accepts the path either way.
        """
        _check_path(path)
        ws, bs = K.unpack(self._params, self._layers)
        arrays = {f"w{i}": w for i, w in enumerate(ws)}
        arrays.update({f"b{i}": b for i, b in enumerate(bs)})
        np.savez(path, format=_FORMAT, version=_FORMAT_VERSION, activations=np.array(self.activations),
                 loss=self.loss, **arrays)

    @classmethod
    def load(cls, path):
        """Read a network written by :meth:`save`.

        Raises ``ValueError`` naming the file when it is not a bpfast model
        file (not an ``.npz``, or an entry missing or invalid). Parameters
        that are NaN or inf (saved after a fit that diverged) load with a
        ``RuntimeWarning``, so that the round trip stays exact.
        """
        _check_path(path)
        if isinstance(path, (str, os.PathLike)) and not os.path.exists(path) \
                and os.path.exists(os.fspath(path) + ".npz"):
            path = os.fspath(path) + ".npz"
        try:
            f = np.load(path, allow_pickle=False)
            if not hasattr(f, "files"):                # an .npy file: one array, not an archive
                raise ValueError(f"it holds one {type(f).__name__} (an .npy file), not an .npz archive")
            with f:
                entries = {name: f[name] for name in f.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError, TypeError) as err:
            if isinstance(err, FileNotFoundError):
                raise
            if "allow_pickle" not in str(err):
                why = str(err)
            elif isinstance(path, (str, os.PathLike)) and zipfile.is_zipfile(path):
                why = "an entry holds Python objects (NumPy would read it only as a pickle)"
            else:
                why = "it is not an .npz archive (NumPy would read it only as a pickle)"
            raise ValueError(f"{path!s} is not a bpfast model file (an .npz written by MLP.save): "
                             f"{why}") from None

        def bad(what):
            return ValueError(f"{path!s} is not a bpfast model file: {what}")

        if str(entries.get("format", "")) != _FORMAT:
            raise bad(f"no format={_FORMAT!r} entry")
        try:
            raw = np.asarray(entries["version"])
            names = [str(a) for a in np.atleast_1d(entries["activations"])]
            loss = str(entries["loss"])
            ws = [entries[f"w{i}"] for i in range(len(names))]
            bs = [entries[f"b{i}"] for i in range(len(names))]
        except KeyError as err:
            raise bad(f"entry {err.args[0]!r} is missing") from None
        except (TypeError, ValueError) as err:
            raise bad(str(err)) from None
        if not names:
            raise bad("its 'activations' entry names no layer")
        extra = sorted(k for k in entries if k[:1] in "wb" and k[1:].isdigit() and int(k[1:]) >= len(names))
        if extra:
            raise bad(f"entries {extra} belong to no layer: its 'activations' entry names {len(names)}")
        dtypes = sorted({str(a.dtype) for a in ws + bs})
        if len(dtypes) > 1:
            raise bad(f"its weights and biases must share one dtype, as MLP.save writes them; got {dtypes}")
        if raw.shape != () or raw.dtype.kind not in "iu" or raw < 1:
            raise bad(f"its version must be a positive whole number; got {raw.tolist()!r}")
        version = int(raw)
        if version > _FORMAT_VERSION:
            raise ValueError(f"{path!s} has format version {version}; this bpfast reads up to "
                             f"{_FORMAT_VERSION}")
        try:
            net = cls._from_params(ws, bs, names, loss, ws[0].dtype, None, 1, finite=False)
        except (TypeError, ValueError) as err:
            raise bad(str(err)) from None
        if not np.isfinite(net._params).all():        # saved after a fit that diverged
            warnings.warn(f"{path!s} holds NaN or inf parameters (saved after a fit that diverged?)",
                          RuntimeWarning, stacklevel=2)
        return net
