"""The oracle: the article's scalar equations, one sample and one unit at a time.

Slow and obvious on purpose. No Numba and no bpfast: plain Python loops over
Python floats (double precision), straight from the element-wise equations
of EQUATIONS.md, so that every test can compare the fast code against values
computed a different way.

Shapes follow the article: ``weights[i]`` is ``w^i`` of shape (n_i, n_{i+1}),
``biases[i]`` is ``b^i`` of shape (n_{i+1},), ``activations[i]`` is the name
of the activation that turns ``z^i`` into ``a^{i+1}``. Arrays may be NumPy
arrays or nested lists; every value is read with ``float`` (exact for float32
and float64 inputs). Results come back as float64 NumPy arrays, built from
Python lists at the very end.
"""

import math

import numpy as np

ELEMENTWISE = ("identity", "sigmoid", "tanh", "relu")


# ------------------------------------------------------------------ helpers
def _matrix(a):
    """A list of lists of Python floats."""
    return [[float(v) for v in row] for row in a]


def _vector(a):
    return [float(v) for v in a]


def _params(weights, biases):
    return [_matrix(w) for w in weights], [_vector(b) for b in biases]


# ------------------------------------------------------------------ scalars
def sigmoid(x):
    """(1), stable: ``exp`` only ever sees a non-positive number."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def g(x, name):
    """(11): one element-wise activation."""
    if name == "sigmoid":
        return sigmoid(x)
    if name == "tanh":
        return math.tanh(x)
    if name == "relu":
        return x if x > 0 else 0.0
    if name == "identity":
        return x
    raise ValueError(f"not an element-wise activation: {name!r}")


def g_prime(x, name):
    """(12): ``g'(z)``, computed from ``z`` alone."""
    if name == "sigmoid":
        s = sigmoid(x)
        return s * (1.0 - s)
    if name == "tanh":
        t = math.tanh(x)
        return 1.0 - t * t
    if name == "relu":
        return 1.0 if x > 0 else 0.0
    if name == "identity":
        return 1.0
    raise ValueError(f"not an element-wise activation: {name!r}")


def softmax(z):
    """(11) with the softmax of one row of pre-activations."""
    top = max(z)
    e = [math.exp(v - top) for v in z]
    total = sum(e)
    return [v / total for v in e]


def log_softmax(z):
    top = max(z)
    log_norm = top + math.log(sum(math.exp(v - top) for v in z))
    return [v - log_norm for v in z]


# ------------------------------------------------------------------ one sample
def forward_sample(weights, biases, activations, x):
    """(5)/(6) and (11) for one sample.

    Returns ``zs`` (``zs[i]`` is ``z^i``, a list) and ``acts`` (``acts[0]`` is
    ``x``, ``acts[i + 1]`` is ``a^{i+1}``).
    """
    acts = [[float(v) for v in x]]
    zs = []
    for w, b, name in zip(weights, biases, activations):
        a_in = acts[-1]
        n_in, n_out = len(w), len(b)
        z = []
        for k in range(n_out):                       # (5)/(6): z_k = sum_j a_j w_jk + b_k
            acc = b[k]
            for j in range(n_in):
                acc += a_in[j] * w[j][k]
            z.append(acc)
        zs.append(z)
        if name == "softmax":
            acts.append(softmax(z))
        else:
            acts.append([g(v, name) for v in z])    # (11): a_k = g(z_k)
    return zs, acts


def sample_cost(loss, z_out, a_out, y):
    """Unnormalised cost of one sample: (2) for sse/mse, -sum y log a for cross_entropy."""
    if loss == "cross_entropy":
        log_a = log_softmax(z_out)
        return -sum(y[k] * log_a[k] for k in range(len(y)) if y[k] != 0)
    return sum((a_out[k] - y[k]) ** 2 for k in range(len(y)))


def output_delta_sample(loss, a_out, y, scale):
    """(13): ``dC/da^{L-1}_k``; ``scale`` is 1 (sse) or 1 / (number of elements) (mse)."""
    if loss == "cross_entropy":
        return [-y[k] / a_out[k] if y[k] != 0 else 0.0 for k in range(len(y))]
    return [2.0 * scale * (a_out[k] - y[k]) for k in range(len(y))]


def output_dz_sample(loss, name, z_out, a_out, delta_out, y):
    """``dC/dz^{L-2}_k`` of the output layer: (12) times (13), or through softmax."""
    n = len(a_out)
    if loss == "cross_entropy":                      # softmax + cross-entropy
        y_sum = sum(y)
        return [a_out[k] * y_sum - y[k] for k in range(n)]
    if name == "softmax":                            # softmax Jacobian applied to (13)
        dot = sum(a_out[m] * delta_out[m] for m in range(n))
        return [a_out[k] * (delta_out[k] - dot) for k in range(n)]
    return [g_prime(z_out[k], name) * delta_out[k] for k in range(n)]


def path_term(w_jk, dz_k):
    """(14.x): one path from ``a^i_j`` to ``C`` through unit ``k``: ``w_jk g'(z_k) delta_k``."""
    return w_jk * dz_k


def backward_sample(weights, activations, loss, zs, acts, y, scale):
    """Every delta of one sample by (13) and (15), every dC/dz by (12).

    Returns ``deltas`` and ``dzs``, with ``deltas[i]`` = ``delta^{i+1}`` and
    ``dzs[i]`` = ``dC/dz^i = g'(z^i) * delta^{i+1}``.
    """
    n_layers = len(weights)
    deltas = [None] * n_layers
    dzs = [None] * n_layers
    deltas[-1] = output_delta_sample(loss, acts[-1], y, scale)
    dzs[-1] = output_dz_sample(loss, activations[-1], zs[-1], acts[-1], deltas[-1], y)
    for i in range(n_layers - 1, 0, -1):             # delta^i from delta^{i+1}
        w = weights[i]
        n_in, n_out = len(w), len(w[0])
        delta = []
        for j in range(n_in):                        # (15): the sum of every (14.x) path term
            delta.append(sum(path_term(w[j][k], dzs[i][k]) for k in range(n_out)))
        deltas[i - 1] = delta
        dzs[i - 1] = [g_prime(zs[i - 1][j], activations[i - 1]) * delta[j] for j in range(n_in)]
    return deltas, dzs


# ------------------------------------------------------------------ batches
def forward(weights, biases, activations, X):
    """(5)/(6), (11) for every sample.

    Returns ``zs`` (``zs[i]`` of shape (n, n_{i+1})) and ``acts`` (``acts[0]``
    is ``X``, ``acts[i + 1]`` of shape (n, n_{i+1})), float64 arrays.
    """
    weights, biases = _params(weights, biases)
    per_sample = [forward_sample(weights, biases, activations, x) for x in _matrix(X)]
    zs = [np.array([s[0][i] for s in per_sample]) for i in range(len(weights))]
    acts = [np.array([s[1][i] for s in per_sample]) for i in range(len(weights) + 1)]
    return zs, acts


def cost(weights, biases, activations, loss, X, Y):
    """The batch cost: sse (2) summed, mse its mean over every element, cross-entropy summed."""
    weights, biases = _params(weights, biases)
    Y = _matrix(Y)
    total = 0.0
    for x, y in zip(_matrix(X), Y):
        zs, acts = forward_sample(weights, biases, activations, x)
        total += sample_cost(loss, zs[-1], acts[-1], y)
    if loss == "mse":
        total /= len(Y) * len(Y[0])
    return total


def backprop(weights, biases, activations, loss, X, Y):
    """One forward and backward pass over the batch, sample by sample.

    Returns a dict of float64 arrays and lists of arrays:
    ``cost``; ``z``, ``a`` (as :func:`forward`); ``delta`` (``delta[i]`` is
    ``delta^{i+1}``, (13)/(15)); ``dz`` (``dC/dz^i``); ``grad_w`` (21) and
    ``grad_b`` (22), summed over the samples.
    """
    weights, biases = _params(weights, biases)
    X, Y = _matrix(X), _matrix(Y)
    n_layers = len(weights)
    scale = 1.0 / (len(Y) * len(Y[0])) if loss == "mse" else 1.0
    grad_w = [[[0.0] * len(w[0]) for _ in w] for w in weights]
    grad_b = [[0.0] * len(b) for b in biases]
    records = []
    total = 0.0
    for x, y in zip(X, Y):
        zs, acts = forward_sample(weights, biases, activations, x)
        total += sample_cost(loss, zs[-1], acts[-1], y)
        deltas, dzs = backward_sample(weights, activations, loss, zs, acts, y, scale)
        for i in range(n_layers):
            for k in range(len(biases[i])):
                grad_b[i][k] += dzs[i][k]                    # (22): dC/db_k = g'(z_k) delta_k
                for j in range(len(weights[i])):
                    grad_w[i][j][k] += acts[i][j] * dzs[i][k]  # (21): dC/dw_jk = a_j g'(z_k) delta_k
        records.append((zs, acts, deltas, dzs))
    total *= scale

    def stack(slot, count):
        return [np.array([r[slot][i] for r in records]) for i in range(count)]

    return {
        "cost": total,
        "z": stack(0, n_layers),
        "a": stack(1, n_layers + 1),
        "delta": stack(2, n_layers),
        "dz": stack(3, n_layers),
        "grad_w": [np.array(gw) for gw in grad_w],
        "grad_b": [np.array(gb) for gb in grad_b],
    }


def gradients(weights, biases, activations, loss, X, Y):
    """``(cost, grad_w, grad_b)``: the exact gradient (21)/(22) summed over the samples."""
    r = backprop(weights, biases, activations, loss, X, Y)
    return r["cost"], r["grad_w"], r["grad_b"]


def fit(weights, biases, activations, loss, X, Y, learning_rate, epochs, bias_gradient="sum"):
    """Full-batch gradient descent, samples in order, every parameter updated together.

    ``bias_gradient="mean"`` is the article's rule: weights move by the summed
    gradient, biases by the gradient averaged over the samples.

    Returns ``(weights, biases, costs)`` with ``costs[e]`` the cost after epoch ``e``.
    """
    weights, biases = _params(weights, biases)
    n = len(_matrix(X))
    bias_scale = 1.0 / n if bias_gradient == "mean" else 1.0
    costs = []
    for _ in range(epochs):
        _, grad_w, grad_b = gradients(weights, biases, activations, loss, X, Y)
        for i in range(len(weights)):
            for j in range(len(weights[i])):
                for k in range(len(weights[i][j])):
                    weights[i][j][k] -= learning_rate * float(grad_w[i][j, k])
            for k in range(len(biases[i])):
                biases[i][k] -= learning_rate * bias_scale * float(grad_b[i][k])
        costs.append(cost(weights, biases, activations, loss, X, Y))
    return [np.array(w) for w in weights], [np.array(b) for b in biases], np.array(costs)


def finite_difference(weights, biases, activations, loss, X, Y, eps=1e-6):
    """Central differences of :func:`cost` for every parameter: ``(grad_w, grad_b)``."""
    weights, biases = _params(weights, biases)

    def central(vec, idx):
        keep = vec[idx]
        h = eps * max(1.0, abs(keep))
        vec[idx] = keep + h
        up = cost(weights, biases, activations, loss, X, Y)
        vec[idx] = keep - h
        down = cost(weights, biases, activations, loss, X, Y)
        vec[idx] = keep
        return (up - down) / (2 * h)

    grad_w = [np.array([[central(row, k) for k in range(len(row))] for row in w]) for w in weights]
    grad_b = [np.array([central(b, k) for k in range(len(b))]) for b in biases]
    return grad_w, grad_b
