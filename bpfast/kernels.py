"""Loop kernels: the article's element-wise equations (5)-(15), (21)-(22) as scalar loops.

Every function here is compiled with Numba (``@njit``) and can be called from a
user's own ``@njit`` code. They are written for one reader first: each loop
says, in a comment, which equation it computes. There is no matrix product in
this module; the matrix form lives in :mod:`bpfast.reference`.

Storage
-------
All parameters of a network live in one flat buffer ``params``. Layer ``i``
(the article's ``w^i``, shape ``(n_in, n_out)``) is stored *transposed*, as
``n_out`` rows of ``n_in`` contiguous weights, followed by its ``n_out``
biases. Storing the fan-in contiguously makes the innermost loop of (5)/(6),
(15) and (21) run over consecutive memory.

``layers`` is a small ``int64`` table, one row per weight layer, whose
columns are named by the constants ``N_IN, N_OUT, W_OFF, B_OFF, U_IN, U_OUT,
ACT``: the layer's widths, where its weights and biases start in ``params``,
where its input and output units start in a row of the unit buffers, and its
activation code. Build it with :func:`layer_table`.

The unit buffers ``z``, ``a``, ``delta`` and ``gz`` have shape
``(n_rows, n_units)``: row ``s`` holds, side by side, every unit of the
network for sample ``s`` (input units first). For the layer that maps units
``U_IN:U_IN+N_IN`` to ``U_OUT:U_OUT+N_OUT``:

- ``z[s, U_OUT + k]`` is the article's ``z^i_k`` (pre-activation),
- ``a[s, U_OUT + k]`` is ``a^{i+1}_k`` (``a[s, :N_IN of layer 0]`` is ``x``),
- ``delta[s, U_OUT + k]`` is ``delta^{i+1}_k = dC/da^{i+1}_k``,
- ``gz[s, U_OUT + k]`` is ``g'(z^i_k) * delta^{i+1}_k = dC/dz^i_k``.

The caller allocates every buffer (see :func:`allocate`); the kernels only
fill them, so they never allocate inside a training step.

Example
-------
>>> import numpy as np
>>> from numba import njit
>>> from bpfast import kernels as K
>>> layers, n_params, n_units = K.layer_table([3, 3, 2], ["sigmoid", "sigmoid"])
>>> @njit
... def my_cost(params, layers, X, Y):
...     rows = np.arange(X.shape[0])
...     z = np.empty((X.shape[0], 8)); a = np.empty_like(z)
...     K.forward(params, layers, X, rows, z, a)
...     return K.loss_sum(layers, K.SSE, Y, rows, z, a)
"""

import math

import numpy as np
from numba import njit

from ._config import ACTIVATIONS, JIT_OPTIONS, LOSSES

__all__ = [
    "N_IN", "N_OUT", "W_OFF", "B_OFF", "U_IN", "U_OUT", "ACT",
    "IDENTITY", "SIGMOID", "TANH", "RELU", "SOFTMAX", "SSE", "MSE", "CROSS_ENTROPY",
    "layer_table", "allocate", "pack", "unpack",
    "forward", "loss_sum", "loss_delta", "backward", "sgd_update", "train_step",
    "total_cost", "train", "shuffle",
]

# Columns of the layer table.
N_IN, N_OUT, W_OFF, B_OFF, U_IN, U_OUT, ACT = range(7)

# Activation and loss codes (the names are in bpfast._config).
IDENTITY = ACTIVATIONS["identity"]
SIGMOID = ACTIVATIONS["sigmoid"]
TANH = ACTIVATIONS["tanh"]
RELU = ACTIVATIONS["relu"]
SOFTMAX = ACTIVATIONS["softmax"]
SSE = LOSSES["sse"]
MSE = LOSSES["mse"]
CROSS_ENTROPY = LOSSES["cross_entropy"]

jit = njit(**JIT_OPTIONS)


# ------------------------------------------------------------------ layout (Python)
def layer_table(layer_sizes, activations):
    """Build the layer table for a network.

    Parameters
    ----------
    layer_sizes : sequence of int, length L
        Units per layer, input first: ``[3, 3, 2]`` is the article's network.
    activations : sequence of str or int, length L - 1
        Activation of each weight layer, by name or code.

    Returns
    -------
    layers : ndarray of shape (L - 1, 7), int64
    n_params : int
        Length of the flat parameter buffer.
    n_units : int
        Width of a row of the unit buffers (``sum(layer_sizes)``).
    """
    sizes = [int(n) for n in layer_sizes]
    layers = np.zeros((len(sizes) - 1, 7), dtype=np.int64)
    w_off = 0
    u_in = 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        act = activations[i]
        code = ACTIVATIONS[act] if isinstance(act, str) else int(act)
        layers[i] = (n_in, n_out, w_off, w_off + n_in * n_out, u_in, u_in + n_in, code)
        w_off += n_in * n_out + n_out
        u_in += n_in
    return layers, w_off, sum(sizes)


def allocate(layers, n_rows, dtype=np.float64):
    """Unit buffers ``(z, a, delta, gz)``, each of shape (n_rows, n_units)."""
    n_units = int(layers[-1, U_OUT] + layers[-1, N_OUT])
    return tuple(np.zeros((n_rows, n_units), dtype=dtype) for _ in range(4))


def pack(weights, biases, layers, dtype=np.float64):
    """Flat parameter buffer from the article's ``w^i`` (n_in, n_out) and ``b^i`` (n_out,)."""
    n_params = int(layers[-1, B_OFF] + layers[-1, N_OUT])
    params = np.empty(n_params, dtype=dtype)
    for i, (w, b) in enumerate(zip(weights, biases)):
        n_in, n_out, w0, b0 = layers[i, :4]
        params[w0:b0] = np.asarray(w).T.ravel()       # stored out x in
        params[b0:b0 + n_out] = b
    return params


def unpack(buffer, layers):
    """Split a flat buffer (parameters or gradients) into lists of fresh arrays.

    Returns ``(w_list, b_list)`` with ``w_list[i]`` of shape (n_in, n_out) and
    ``b_list[i]`` of shape (n_out,), each a C-contiguous copy.
    """
    ws, bs = [], []
    for n_in, n_out, w0, b0, *_ in layers:
        ws.append(np.ascontiguousarray(buffer[w0:b0].reshape(n_out, n_in).T))
        bs.append(buffer[b0:b0 + n_out].copy())
    return ws, bs


# ------------------------------------------------------------------ scalars
@jit
def _sigmoid(x, one):
    """(1), split on the sign of x so exp never overflows."""
    if x >= 0:
        return one / (one + math.exp(-x))
    e = math.exp(x)
    return e / (one + e)


@jit
def _activate(x, act, one):
    """g(x) for an element-wise activation code."""
    if act == SIGMOID:
        return _sigmoid(x, one)
    if act == TANH:
        return math.tanh(x)
    if act == RELU:
        return x if x > 0 else one - one
    return x                                           # IDENTITY


@jit
def _derivative(z, a, act, one):
    """(12): g'(z) for an element-wise activation, from z and a = g(z)."""
    if act == SIGMOID:
        return a * (one - a)
    if act == TANH:
        return one - a * a
    if act == RELU:
        return one if z > 0 else one - one
    return one                                         # IDENTITY


# ------------------------------------------------------------------ forward
@jit
def forward(params, layers, X, rows, z, a):
    """Forward pass (5)/(6) and (11) for the samples ``X[rows]``.

    Fills ``z`` and ``a`` for rows ``0..len(rows)-1`` of the unit buffers.
    """
    one = params.dtype.type(1)
    n_rows = rows.shape[0]
    n0 = layers[0, N_IN]
    for s in range(n_rows):                            # a^0 = x
        for j in range(n0):
            a[s, j] = X[rows[s], j]
    for i in range(layers.shape[0]):
        n_in = layers[i, N_IN]
        n_out = layers[i, N_OUT]
        w0 = layers[i, W_OFF]
        b0 = layers[i, B_OFF]
        u_in = layers[i, U_IN]
        u_out = layers[i, U_OUT]
        act = layers[i, ACT]
        for s in range(n_rows):
            for k in range(n_out):                     # (5)/(6): z_k = sum_j a_j w_jk + b_k
                acc = params[b0 + k]
                wk = w0 + k * n_in
                for j in range(n_in):
                    acc += a[s, u_in + j] * params[wk + j]
                z[s, u_out + k] = acc
            if act == SOFTMAX:                         # (11) with g = softmax (output layer)
                top = z[s, u_out]
                for k in range(1, n_out):
                    top = max(top, z[s, u_out + k])
                total = one - one
                for k in range(n_out):
                    e = math.exp(z[s, u_out + k] - top)
                    a[s, u_out + k] = e
                    total += e
                for k in range(n_out):
                    a[s, u_out + k] /= total
            else:
                for k in range(n_out):                 # (11): a_k = g(z_k)
                    a[s, u_out + k] = _activate(z[s, u_out + k], act, one)


# ------------------------------------------------------------------ cost
@jit
def loss_sum(layers, loss, Y, rows, z, a):
    """Unnormalised cost of the batch: (2) summed over samples, or cross-entropy.

    For ``SSE`` and ``MSE`` this is ``sum_s sum_k (a_k - y_k)^2``; ``MSE``
    divides it by ``len(rows) * n_out`` (done by the callers). For
    ``CROSS_ENTROPY`` it is ``-sum_s sum_k y_k log a_k``, with ``log a_k``
    computed from ``z`` (log-softmax), so it stays finite when ``a_k`` underflows.
    """
    last = layers.shape[0] - 1
    n_out = layers[last, N_OUT]
    u = layers[last, U_OUT]
    total = z.dtype.type(0)
    for s in range(rows.shape[0]):
        r = rows[s]
        if loss == CROSS_ENTROPY:
            top = z[s, u]
            for k in range(1, n_out):
                top = max(top, z[s, u + k])
            norm = total - total
            for k in range(n_out):
                norm += math.exp(z[s, u + k] - top)
            log_norm = top + math.log(norm)
            for k in range(n_out):
                y = Y[r, k]
                if y != 0:
                    total -= y * (z[s, u + k] - log_norm)
        else:
            for k in range(n_out):                     # (2)
                d = a[s, u + k] - Y[r, k]
                total += d * d
    return total


@jit
def loss_delta(layers, loss, Y, rows, z, a, delta, gz):
    """Output layer: the cost (2), its derivative (13), and dC/dz = (12) * (13).

    Fills ``delta`` and ``gz`` of the output units and returns the batch cost
    (``MSE`` already divided by ``len(rows) * n_out``).
    """
    one = a.dtype.type(1)
    last = layers.shape[0] - 1
    n_out = layers[last, N_OUT]
    u = layers[last, U_OUT]
    act = layers[last, ACT]
    n_rows = rows.shape[0]
    cost = loss_sum(layers, loss, Y, rows, z, a)
    scale = one
    if loss == MSE:
        scale = one / a.dtype.type(n_rows * n_out)
        cost *= scale
    for s in range(n_rows):
        r = rows[s]
        if loss == CROSS_ENTROPY:
            y_sum = one - one
            for k in range(n_out):
                y = Y[r, k]
                y_sum += y
                # (13) for C = -sum y log a: dC/da_k = -y_k / a_k (0 where y_k = 0)
                delta[s, u + k] = -y / a[s, u + k] if y != 0 else one - one
            for k in range(n_out):                     # softmax Jacobian times (13), simplified
                gz[s, u + k] = a[s, u + k] * y_sum - Y[r, k]
            continue
        for k in range(n_out):                         # (13): dC/da_k = 2 (a_k - y_k)
            delta[s, u + k] = (scale + scale) * (a[s, u + k] - Y[r, k])
        if act == SOFTMAX:                             # dC/dz_k = a_k (delta_k - sum_m a_m delta_m)
            dot = one - one
            for k in range(n_out):
                dot += a[s, u + k] * delta[s, u + k]
            for k in range(n_out):
                gz[s, u + k] = a[s, u + k] * (delta[s, u + k] - dot)
        else:
            for k in range(n_out):                     # (12) * (13)
                gz[s, u + k] = _derivative(z[s, u + k], a[s, u + k], act, one) * delta[s, u + k]
    return cost


# ------------------------------------------------------------------ backward
@jit
def backward(params, layers, n_rows, z, a, delta, gz, grad):
    """Backward pass: (15) for every delta, (21)/(22) for every gradient.

    Needs ``gz`` of the output units (from :func:`loss_delta`). Overwrites
    ``grad`` (same layout as ``params``) with the gradient of the cost summed
    over the ``n_rows`` samples, and fills ``delta`` and ``gz`` of the hidden units.
    """
    one = params.dtype.type(1)
    for w in range(grad.shape[0]):
        grad[w] = 0
    for i in range(layers.shape[0] - 1, -1, -1):
        n_in = layers[i, N_IN]
        n_out = layers[i, N_OUT]
        w0 = layers[i, W_OFF]
        b0 = layers[i, B_OFF]
        u_in = layers[i, U_IN]
        u_out = layers[i, U_OUT]
        for s in range(n_rows):
            for k in range(n_out):
                g = gz[s, u_out + k]                   # g'(z_k) delta_k
                grad[b0 + k] += g                      # (22): dC/db_k = g'(z_k) delta_k
                wk = w0 + k * n_in
                for j in range(n_in):                  # (21): dC/dw_jk = a_j g'(z_k) delta_k
                    grad[wk + j] += a[s, u_in + j] * g
        if i == 0:
            break                                      # no delta for the input layer
        act_in = layers[i - 1, ACT]
        for s in range(n_rows):
            for j in range(n_in):
                delta[s, u_in + j] = 0
            for k in range(n_out):                     # (15): delta_j = sum_k of the (14.x) path
                g = gz[s, u_out + k]                   #       terms w_jk g'(z_k) delta_k
                wk = w0 + k * n_in
                for j in range(n_in):
                    delta[s, u_in + j] += params[wk + j] * g
            for j in range(n_in):                      # (12): dC/dz_j one layer down
                gz[s, u_in + j] = (_derivative(z[s, u_in + j], a[s, u_in + j], act_in, one)
                                   * delta[s, u_in + j])


@jit
def sgd_update(params, layers, grad, learning_rate, bias_scale):
    """Gradient-descent step on every parameter at once (the article's last stage).

    Weights move by ``learning_rate * grad``; biases by
    ``learning_rate * bias_scale * grad``: ``bias_scale = 1`` is the exact
    gradient, ``1 / n_rows`` the article's averaged bias rule (erratum 1).
    """
    for i in range(layers.shape[0]):
        b0 = layers[i, B_OFF]
        for w in range(layers[i, W_OFF], b0):
            params[w] -= learning_rate * grad[w]
        step = learning_rate * bias_scale
        for b in range(b0, b0 + layers[i, N_OUT]):
            params[b] -= step * grad[b]


@jit
def train_step(params, layers, loss, X, Y, rows, learning_rate, bias_mean, z, a, delta, gz, grad):
    """One full step on the samples ``X[rows]``: forward, backward, update. Returns the cost before it."""
    one = params.dtype.type(1)
    n_rows = rows.shape[0]
    forward(params, layers, X, rows, z, a)
    cost = loss_delta(layers, loss, Y, rows, z, a, delta, gz)
    backward(params, layers, n_rows, z, a, delta, gz, grad)
    bias_scale = one / params.dtype.type(n_rows) if bias_mean else one
    sgd_update(params, layers, grad, learning_rate, bias_scale)
    return cost


@jit
def total_cost(params, layers, loss, X, Y, z, a):
    """Cost of the whole data set, evaluated in chunks of ``z.shape[0]`` rows."""
    n = X.shape[0]
    chunk = z.shape[0]
    seq = np.arange(n)
    total = z.dtype.type(0)
    for start in range(0, n, chunk):
        rows = seq[start:min(start + chunk, n)]
        forward(params, layers, X, rows, z, a)
        total += loss_sum(layers, loss, Y, rows, z, a)
    if loss == MSE:
        total /= z.dtype.type(n * layers[layers.shape[0] - 1, N_OUT])
    return total


@jit
def shuffle(order, state):
    """Fisher-Yates shuffle of ``order`` in place, driven by ``state[0]``.

    A Park-Miller generator (multiplier 48271, modulus 2**31 - 1) whose
    products fit in int64: the same sequence with or without the JIT, and no
    global random state touched. ``state[0]`` must be in [1, 2**31 - 2].
    """
    s = state[0]
    for i in range(order.shape[0] - 1, 0, -1):
        s = (s * 48271) % 2147483647
        j = s % (i + 1)
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp
    state[0] = s


@jit
def train(params, layers, loss, X, Y, learning_rate, epochs, batch_size, shuffled, bias_mean, state, costs):
    """Train in place: ``epochs`` passes of mini-batch gradient descent, all inside one compiled call.

    Buffers are allocated once, at the start. ``costs[e]`` receives the cost
    on all of ``(X, Y)`` after epoch ``e``. ``state`` carries the shuffle
    generator (see :func:`shuffle`) from call to call.
    """
    n = X.shape[0]
    n_batch = min(batch_size, n)
    n_units = layers[layers.shape[0] - 1, U_OUT] + layers[layers.shape[0] - 1, N_OUT]
    z = np.empty((n_batch, n_units), dtype=params.dtype)
    a = np.empty_like(z)
    delta = np.empty_like(z)
    gz = np.empty_like(z)
    grad = np.empty_like(params)
    order = np.arange(n)
    for e in range(epochs):
        if shuffled:
            shuffle(order, state)
        for start in range(0, n, n_batch):
            rows = order[start:min(start + n_batch, n)]
            train_step(params, layers, loss, X, Y, rows, learning_rate, bias_mean, z, a, delta, gz, grad)
        costs[e] = total_cost(params, layers, loss, X, Y, z, a)
