"""The equivalence layer: loop kernels vs. matrix form on every intermediate, and finite differences.

:func:`check_equivalence` runs one forward and backward pass both ways on the
same batch and compares ``z``, ``a``, ``delta``, ``dC/dw`` and ``dC/db`` of
every layer, each labelled with the equations that produce it.
:func:`gradcheck` compares the analytic gradient with central finite
differences of the cost, evaluated in float64.

Both compare arrays the way rounding errors of sums behave: normwise. An
array passes when ``max|loops - vectorized| <= atol + rtol * max(|loops|, |vectorized|)``
with the maxima taken over the whole array and ``rtol``/``atol`` from
:data:`bpfast._config.EQUIVALENCE_TOL` for the network's dtype.
"""

from dataclasses import dataclass, field

import numpy as np

from . import _validate as V
from . import kernels as K
from . import reference as R
from ._config import EQUIVALENCE_TOL, GRADCHECK

__all__ = ["EquivalenceError", "EquivalenceReport", "GradcheckReport", "check_equivalence", "gradcheck"]


class EquivalenceError(AssertionError):
    """The loop kernels and the matrix form disagree beyond tolerance; ``.report`` says where."""

    def __init__(self, report):
        super().__init__(f"loops and vectorized disagree:\n{report}")
        self.report = report


@dataclass
class Comparison:
    """One intermediate compared both ways."""

    quantity: str        # e.g. "delta^1"
    loops_eq: str        # equations of the element-wise form, e.g. "(15)"
    matrix_eq: str       # equations of the matrix form, e.g. "(16)-(18)"
    shape: tuple
    max_abs: float       # max |loops - vectorized|
    max_rel: float       # max_abs / max(|loops|, |vectorized|)
    passed: bool


def _table(header, rows):
    widths = [max(len(str(r[c])) for r in [header] + rows) for c in range(len(header))]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*map(str, r)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


@dataclass
class EquivalenceReport:
    """Every intermediate of one forward/backward pass, loops vs. matrix form."""

    architecture: str
    dtype: str
    n_samples: int
    rtol: float
    atol: float
    rows: list = field(default_factory=list)

    @property
    def passed(self):
        return all(r.passed for r in self.rows)

    @property
    def max_abs(self):
        """Largest absolute difference over every intermediate."""
        return max(r.max_abs for r in self.rows)

    @property
    def max_rel(self):
        """Largest normwise relative difference over every intermediate."""
        return max(r.max_rel for r in self.rows)

    def __str__(self):
        head = (f"Equivalence of loops and matrix form: {self.architecture}, {self.dtype}, "
                f"{self.n_samples} sample(s); pass if max|diff| <= {self.atol:g} + {self.rtol:g} * max|value|")
        body = _table(("quantity", "loops", "matrix", "shape", "max |diff|", "max rel", "ok"),
                      [(r.quantity, r.loops_eq, r.matrix_eq, "x".join(map(str, r.shape)),
                        f"{r.max_abs:.3e}", f"{r.max_rel:.3e}", "yes" if r.passed else "NO")
                       for r in self.rows])
        return f"{head}\n{body}\n{'all agree' if self.passed else 'MISMATCH'}"


def _compare(loops, vectorized, rtol, atol):
    loops = np.asarray(loops, dtype=np.float64)
    vectorized = np.asarray(vectorized, dtype=np.float64)
    same = (loops == vectorized) | (np.isnan(loops) & np.isnan(vectorized))  # equal infinities, and
    with np.errstate(invalid="ignore"):                                     # NaN in the same places,
        diff = np.where(same, 0.0, np.abs(loops - vectorized))              # agree
    scale = max(np.max(np.abs(x[np.isfinite(x)]), initial=0.0) for x in (loops, vectorized))
    max_abs = float(np.max(diff, initial=0.0))
    if scale > 0 or max_abs == 0 or np.isnan(max_abs):
        max_rel = max_abs / scale if scale > 0 else max_abs             # (0 or NaN as it is)
    else:
        max_rel = float("inf")                                          # all infinite, some unequal
    return max_abs, max_rel, bool(max_abs <= atol + rtol * scale)      # False for NaN


def _architecture(net):
    acts = "/".join(net.activations)
    return f"{'-'.join(map(str, net.layer_sizes))} {acts}, {net.loss}"


def check_equivalence(net, X, Y, raise_on_mismatch=True):
    """Run one forward/backward pass with the loop kernels and with the matrix form, and compare.

    Parameters
    ----------
    net : MLP
    X : array_like of shape (n_samples, n_in)
    Y : array_like of shape (n_samples, n_out)
    raise_on_mismatch : bool
        Raise :class:`EquivalenceError` when an intermediate disagrees.

    Returns
    -------
    EquivalenceReport
        Prints as a table: ``z`` (5)/(6), ``a`` (11), ``delta`` (13)/(15) vs
        (16)-(18), ``dC/dw`` (21) vs (23), ``dC/db`` (22) vs (24), and the cost (2).
    """
    V.flag("raise_on_mismatch", raise_on_mismatch)
    X, Y = V.data(net, X, Y)
    tol = EQUIVALENCE_TOL[net.dtype.name]
    cost, z, a, delta, _, grad = net._loop_pass(X, Y)
    grad_w, grad_b = K.unpack(grad, net._layers)

    ws, bs, acts = net._vectorized_params()
    with np.errstate(all="ignore"):                   # inf and NaN as the loops give them, silently
        zs, a_ref = R.forward(ws, bs, acts, X)
        deltas, grad_w_ref, grad_b_ref = R.backward(ws, acts, net.loss, zs, a_ref, Y)
        cost_ref = R.cost(net.loss, zs[-1], a_ref[-1], Y)

    report = EquivalenceReport(_architecture(net), net.dtype.name, X.shape[0], **tol)

    def add(quantity, loops_eq, matrix_eq, loops, vectorized):
        report.rows.append(Comparison(quantity, loops_eq, matrix_eq, np.shape(vectorized),
                                      *_compare(loops, vectorized, **tol)))

    last = len(ws) - 1
    for i, (_, n_out, _, _, _, u_out, _) in enumerate(net._layers):
        cols = slice(u_out, u_out + n_out)
        add(f"z^{i}", "(5)/(6)", "a w + b", z[:, cols], zs[i])
        add(f"a^{i + 1}", "(11)", "g(z)", a[:, cols], a_ref[i + 1])
    for i in range(last, -1, -1):
        n_out, u_out = net._layers[i, K.N_OUT], net._layers[i, K.U_OUT]
        add(f"delta^{i + 1}", "(13)" if i == last else "(15)", "(13)" if i == last else "(16)-(18)",
            delta[:, u_out:u_out + n_out], deltas[i])
    for i in range(last, -1, -1):
        add(f"dC/dw^{i}", "(21)", "(23)", grad_w[i], grad_w_ref[i])
        add(f"dC/db^{i}", "(22)", "(24)", grad_b[i], grad_b_ref[i])
    add("C", "(2)", "(2)", cost, cost_ref)
    if raise_on_mismatch and not report.passed:
        raise EquivalenceError(report)
    return report


@dataclass
class GradcheckReport:
    """Analytic gradient vs. central finite differences, one row per parameter array."""

    architecture: str
    dtype: str
    backend: str
    eps: float
    max_rel_tol: float
    mean_rel_tol: float
    rows: list = field(default_factory=list)   # (name, shape, max_rel, mean_rel, max_abs, passed)

    @property
    def passed(self):
        return all(r[-1] for r in self.rows)

    @property
    def max_rel(self):
        return max(r[2] for r in self.rows)

    def __str__(self):
        head = (f"Gradient check ({self.backend}, {self.dtype}) of {self.architecture}: central "
                f"differences in float64, eps {self.eps:g}; pass if max rel <= {self.max_rel_tol:g} "
                f"and mean rel <= {self.mean_rel_tol:g}")
        body = _table(("parameter", "shape", "max rel", "mean rel", "max |diff|", "ok"),
                      [(name, "x".join(map(str, shape)), f"{mx:.2e}", f"{mean:.2e}", f"{ab:.2e}",
                        "yes" if ok else "NO") for name, shape, mx, mean, ab, ok in self.rows])
        return f"{head}\n{body}\n{'passed' if self.passed else 'FAILED'}"


def gradcheck(net, X, Y, backend="loops", eps=None):
    """Compare the analytic gradient with central finite differences of the cost.

    The finite differences perturb a float64 copy of each parameter by
    ``h = eps * max(1, |p|)`` and evaluate the cost with the matrix form, so
    they share no code with the loop kernels. Relative error of an element:
    ``|analytic - numeric| / max(|analytic|, |numeric|, floor)``, where the
    floor (see :data:`bpfast._config.GRADCHECK`) absorbs rounding errors
    where a gradient is (nearly) zero.

    Returns
    -------
    GradcheckReport
        Max and mean relative error per parameter array (``report.passed``).
    """
    X, Y = V.data(net, X, Y)
    eps = GRADCHECK["eps"] if eps is None else V.positive_float("eps", eps)
    grad_w, grad_b = net.gradients(X, Y, backend=backend)

    ws, bs, acts = net._vectorized_params()
    ws = [w.astype(np.float64) for w in ws]
    bs = [b.astype(np.float64) for b in bs]
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)

    def cost():
        zs, a = R.forward(ws, bs, acts, X64)
        return R.cost(net.loss, zs[-1], a[-1], Y64)

    abs_floor = GRADCHECK["abs_floor"] * max(1.0, abs(cost()))
    tol = GRADCHECK[net.dtype.name]
    report = GradcheckReport(_architecture(net), net.dtype.name, backend, eps, tol["max_rel"],
                             tol["mean_rel"])
    for i in range(len(ws)):
        for name, param, analytic in ((f"dC/dw^{i}", ws[i], grad_w[i]), (f"dC/db^{i}", bs[i], grad_b[i])):
            numeric = np.empty(param.shape)
            flat = param.reshape(-1)                       # a view: perturbs ws/bs in place
            for p in range(flat.size):
                keep = flat[p]
                h = eps * max(1.0, abs(keep))
                flat[p] = keep + h
                up = cost()
                flat[p] = keep - h
                down = cost()
                flat[p] = keep
                numeric.flat[p] = (up - down) / (2 * h)
            diff = np.abs(analytic.astype(np.float64) - numeric)
            floor = abs_floor + tol["array_floor"] * np.max(np.abs(numeric))
            rel = diff / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
            max_rel, mean_rel = float(rel.max()), float(rel.mean())
            report.rows.append((name, param.shape, max_rel, mean_rel, float(diff.max()),
                                max_rel <= tol["max_rel"] and mean_rel <= tol["mean_rel"]))
    return report
