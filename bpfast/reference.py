"""Matrix reference: the article's network in NumPy matrix form, (16)-(24).

The second implementation of everything in :mod:`bpfast.kernels`, written with
whole-array operations (a batch stacked as rows) and nothing else: no loops
over units or samples. Parameters use the article's shapes, ``w^i`` of shape
``(n_in, n_out)`` and ``b^i`` of shape ``(n_out,)``; activations and the loss
are given by name (see :data:`bpfast._config.ACTIVATIONS` and ``LOSSES``).
"""

import numpy as np

__all__ = [
    "activate", "derivative", "forward", "cost", "output_delta", "output_gz",
    "backward", "gradients", "update",
]


def activate(z, name):
    """(1)/(11): ``a = g(z)`` element-wise (softmax: along each row)."""
    if name == "sigmoid":
        # Stable: exp of a non-positive number only, split on the sign of z.
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z.copy()                                     # identity


def derivative(z, a, name):
    """(12): ``g'(z)`` element-wise, from ``z`` and ``a = g(z)`` (not for softmax)."""
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return (z > 0).astype(z.dtype)
    return np.ones_like(z)                              # identity


def forward(weights, biases, activations, X):
    """Forward pass, (5)/(6) and (11) as matrix products: ``z^i = a^i w^i + b^i``.

    Returns
    -------
    zs : list of ndarray, ``zs[i]`` of shape (n_samples, n_{i+1})
    acts : list of ndarray, ``acts[0] = X`` and ``acts[i+1] = g(zs[i])``
    """
    acts, zs = [X], []
    for w, b, name in zip(weights, biases, activations):
        zs.append(acts[-1] @ w + b)
        acts.append(activate(zs[-1], name))
    return zs, acts


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cost(loss, z_out, a_out, Y):
    """The cost of a batch: ``sse`` (2) summed, ``mse`` its mean, or softmax cross-entropy summed."""
    if loss == "cross_entropy":
        return -np.sum(np.where(Y != 0, Y * _log_softmax(z_out), 0))
    sse = np.sum((a_out - Y) ** 2)
    return sse / Y.size if loss == "mse" else sse


def output_delta(loss, a_out, Y):
    """(13): ``delta^{L-1} = dC/da^{L-1}`` for the whole batch."""
    if loss == "cross_entropy":
        with np.errstate(divide="ignore"):                 # a_k == 0 < y_k gives -inf, as it should
            return np.where(Y != 0, -Y / np.where(Y != 0, a_out, 1), 0).astype(a_out.dtype)
    d = 2 * (a_out - Y)
    return d / Y.size if loss == "mse" else d


def output_gz(loss, activation, z_out, a_out, delta_out, Y):
    """``dC/dz^{L-2}``: (12) times (13), or the softmax Jacobian applied to (13)."""
    if loss == "cross_entropy":                         # softmax + cross-entropy, simplified
        return a_out * Y.sum(axis=1, keepdims=True) - Y
    if activation == "softmax":
        return a_out * (delta_out - np.sum(a_out * delta_out, axis=1, keepdims=True))
    return derivative(z_out, a_out, activation) * delta_out


def backward(weights, activations, loss, zs, acts, Y):
    """Backward pass in matrix form: every delta by (16)-(18), then every gradient by (23)/(24).

    Returns
    -------
    deltas : list of ndarray, ``deltas[i]`` is ``delta^{i+1}`` (n_samples, n_{i+1})
    grad_w : list of ndarray, (23) ``dC/dw^i = (a^i)^T (g'(z^i) * delta^{i+1})``
    grad_b : list of ndarray, (24) ``dC/db^i``, summed over the rows of the batch
    """
    n_layers = len(weights)
    deltas = [None] * n_layers
    gzs = [None] * n_layers
    deltas[-1] = output_delta(loss, acts[-1], Y)                            # (13)
    gzs[-1] = output_gz(loss, activations[-1], zs[-1], acts[-1], deltas[-1], Y)
    for i in range(n_layers - 1, 0, -1):
        deltas[i - 1] = gzs[i] @ weights[i].T                               # (16)-(18)
        gzs[i - 1] = derivative(zs[i - 1], acts[i], activations[i - 1]) * deltas[i - 1]
    grad_w = [acts[i].T @ gzs[i] for i in range(n_layers)]                 # (23)
    grad_b = [gzs[i].sum(axis=0) for i in range(n_layers)]                  # (24)
    return deltas, grad_w, grad_b


def gradients(weights, biases, activations, loss, X, Y):
    """Cost and exact gradient of the batch: ``(cost, grad_w, grad_b)``."""
    zs, acts = forward(weights, biases, activations, X)
    _, grad_w, grad_b = backward(weights, activations, loss, zs, acts, Y)
    return cost(loss, zs[-1], acts[-1], Y), grad_w, grad_b


def update(weights, biases, grad_w, grad_b, learning_rate, bias_scale=1):
    """All parameters together, in place: ``w -= lr * dw``, ``b -= lr * bias_scale * db``."""
    for w, b, dw, db in zip(weights, biases, grad_w, grad_b):
        w -= learning_rate * dw
        b -= learning_rate * bias_scale * db
