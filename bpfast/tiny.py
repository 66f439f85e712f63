"""Tiny networks: a training run compiled for one shape, every loop bound a constant.

For a net like the article's 3-3-2, the arithmetic of a step is about a hundred
multiply-adds; :func:`bpfast.kernels.train`, which reads every width from the
layer table at run time, spends more than that on loops of two or three turns
whose length LLVM cannot see (measured: 200 ns per step with identity
activations, 250 with the sigmoid). Here the widths, the activations and the loss
are compile-time constants (literal types in the signature :func:`_compile` compiles;
the entry point takes no others), so every loop unrolls and the
whole step runs in registers and a few cache lines.

It covers nets of one hidden layer whose two layers each have fewer than
``kernels._SMALL`` weights, with element-wise activations and the ``sse`` or
``mse`` loss (:func:`eligible`). It computes the same sums in the same order
as :func:`bpfast.kernels.train`; they agree to rounding, not to the bit, because
once the loops unroll LLVM may fuse a different product into a multiply-add
(tested against both ``kernels.train`` and ``tests/naive.py``). Each new shape
compiles once (the time is in README, "Start-up") and is kept in Numba's
on-disk cache. The whole run is one function: Numba inlines a helper by copying
its IR, and inlining a step and a forward pass took about half of the compile time.
"""

import numba
import numpy as np
from numba import types

from .kernels import (_NO_NRT, _SMALL, ACT, CROSS_ENTROPY, MSE, N_IN, N_OUT, SOFTMAX, _activate_scalar,
                      _derivative, _njit, shuffle)


def eligible(layers, loss):
    """Whether :func:`train` handles this layer table and loss code."""
    return (layers.shape[0] == 2 and loss != CROSS_ENTROPY
            and all(layers[i, N_IN] * layers[i, N_OUT] < _SMALL and layers[i, ACT] != SOFTMAX
                    for i in range(2)))


def train(params, layers, loss, X, Y, learning_rate, epochs, batch_size, shuffled, bias_mean, state, costs):
    """:func:`bpfast.kernels.train` for a net that is :func:`eligible`, with the same arguments.

    ``params``, ``X``, ``Y`` and ``costs`` must be C-contiguous arrays of one
    float dtype (``MLP.fit`` makes them so). The first call for a shape
    compiles (or loads from the cache) a kernel for it.
    """
    dtype = params.dtype
    hidden, output = layers.tolist()
    n_in, n_hid, n_out = hidden[N_IN], hidden[N_OUT], output[N_OUT]
    key = (dtype.char, n_in, n_hid, n_out, hidden[ACT], output[ACT], int(loss))
    kernel = _compiled.get(key)
    if kernel is None:
        kernel = _compiled[key] = _compile(dtype, key[1:])
    n_batch = min(batch_size, X.shape[0])
    a = np.empty((n_batch, n_in + n_hid + n_out), dtype=dtype)
    kernel(params, X, Y, dtype.type(learning_rate), epochs, n_batch, bool(shuffled), bool(bias_mean), state,
           costs, a, np.empty_like(a), np.empty_like(params), np.empty(X.shape[0], dtype=np.int64),
           *key[1:])


_compiled = {}


def _compile(dtype, constants):
    """The entry point of :func:`_train` for ``dtype`` and the literal ``constants``.

    The signature types the constants as literals, so the body needs no
    ``numba.literally`` (whose own compiles took 0.06 s of the first fit). Calling
    the entry point skips Numba's dispatcher, which would type them as plain
    integers and compile a second, generic kernel (with ``numba.literally`` it
    failed and retried as literals on every call: 65 us per call).
    """
    if not hasattr(_train, "compile"):                 # NUMBA_DISABLE_JIT: the Python function
        return _train
    real = numba.from_dtype(dtype)
    matrix, vector = types.Array(real, 2, "C"), types.Array(real, 1, "C")
    signature = (vector, matrix, matrix, real, types.int64, types.int64, types.boolean, types.boolean,
                 types.Array(types.int64, 1, "C"), vector, matrix, matrix, vector,
                 types.Array(types.int64, 1, "C"), *(types.literal(c) for c in constants))
    return _train.compile(signature)


@_njit(**_NO_NRT)
def _train(params, X, Y, learning_rate, epochs, n_batch, shuffled, bias_mean, state, costs, a, g, grad, order,
           n_in, n_hid, n_out, act_hid, act_out, loss):
    """The loop of :func:`bpfast.kernels._epochs` for a net of one hidden layer.

    ``a`` holds the units of each sample of a batch (input, hidden, output side
    by side) and ``g`` their ``dC/dz``; the last six arguments are literals.
    Each epoch runs the steps (phase 0) and, where needed, the cost after them
    (phase 1) through the same forward pass.
    """
    one = params.dtype.type(1)
    zero = one - one
    b1 = n_in * n_hid                                  # layer 0: weights (n_hid rows of n_in), biases
    w2 = b1 + n_hid                                    # layer 1: weights (n_out rows of n_hid), biases
    b2 = w2 + n_hid * n_out
    u_out = n_in + n_hid
    n = X.shape[0]
    # Full batch in a fixed order: the cost a step computes before its update is the cost
    # after the previous epoch, so only the last epoch needs a pass of its own (phase 1).
    reuse = n_batch == n and not shuffled
    cost = zero
    for e in range(epochs):
        for r in range(n):
            order[r] = r
        if shuffled:
            shuffle(order, state)
        total = zero
        with_cost = not reuse or e == epochs - 1
        for phase in range(2 if with_cost else 1):     # 0: the steps; 1: the cost after them
            for start in range(0, n, n_batch):
                rows = order[start:min(start + n_batch, n)]
                n_rows = rows.shape[0]
                if phase == 1:                         # in batches, as kernels.total_cost
                    for r in range(n_rows):
                        rows[r] = start + r
                part = zero
                for s in range(n_rows):
                    r = rows[s]
                    for j in range(n_in):              # a^0 = x
                        a[s, j] = X[r, j]
                    for k in range(n_hid):             # (5)/(6), (11): hidden layer
                        acc = params[b1 + k]
                        for j in range(n_in):
                            acc += a[s, j] * params[k * n_in + j]
                        a[s, n_in + k] = _activate_scalar(acc, act_hid, one)
                    for k in range(n_out):             # (5)/(6), (11): output layer
                        acc = params[b2 + k]
                        for j in range(n_hid):
                            acc += a[s, n_in + j] * params[w2 + k * n_hid + j]
                        a[s, u_out + k] = _activate_scalar(acc, act_out, one)
                    for k in range(n_out):             # (2)
                        d = a[s, u_out + k] - Y[r, k]
                        part += d * d
                if phase == 1:
                    total += part
                    continue
                scale = one                            # the rest of the step, as kernels._step
                if loss == MSE:
                    count = params.dtype.type(n_rows * n_out)
                    scale = one / count
                    part *= scale                      # as kernels.loss_delta
                cost = part
                for p in range(params.shape[0]):
                    grad[p] = zero
                for s in range(n_rows):
                    r = rows[s]
                    for k in range(n_out):             # (13) dC/da_k = 2 (a_k - y_k), times (12)
                        d = (scale + scale) * (a[s, u_out + k] - Y[r, k])
                        g[s, u_out + k] = _derivative(a[s, u_out + k], act_out, one) * d
                    for j in range(n_hid):             # (15) with the old weights, then (12)
                        acc = zero
                        for k in range(n_out):
                            acc += params[w2 + k * n_hid + j] * g[s, u_out + k]
                        g[s, n_in + j] = _derivative(a[s, n_in + j], act_hid, one) * acc
                    for k in range(n_out):             # (22) and (21), output layer: a sum over
                        grad[b2 + k] += g[s, u_out + k]   # the samples, in their order
                        for j in range(n_hid):
                            grad[w2 + k * n_hid + j] += a[s, n_in + j] * g[s, u_out + k]
                    for k in range(n_hid):             # (22) and (21), hidden layer
                        grad[b1 + k] += g[s, n_in + k]
                        for j in range(n_in):
                            grad[k * n_in + j] += a[s, j] * g[s, n_in + k]
                bias_step = learning_rate * (one / params.dtype.type(n_rows) if bias_mean else one)
                for p in range(b1):                    # the update, weights then biases of each layer
                    params[p] -= learning_rate * grad[p]
                for p in range(b1, w2):
                    params[p] -= bias_step * grad[p]
                for p in range(w2, b2):
                    params[p] -= learning_rate * grad[p]
                for p in range(b2, b2 + n_out):
                    params[p] -= bias_step * grad[p]
        if reuse and e > 0:
            costs[e - 1] = cost
        if with_cost:
            if loss == MSE:
                total *= one / params.dtype.type(n * n_out)   # as kernels.total_cost
            costs[e] = total
