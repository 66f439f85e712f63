"""Explain one backward pass: the element-wise chain rule (5)-(15) next to the matrix form (16)-(24).

:func:`explain` walks a small network backwards for one sample (or a small
batch) and lists, layer by layer, every quantity of the article's derivation:

- (13) the derivative of the cost with respect to each output,
- (12) ``g'(z_k)`` of each unit and ``g'(z_k) delta_k = dC/dz_k``,
- (14.x) every single path term ``w_jk g'(z_k) delta_k`` from ``a_j`` to ``C``,
- (15.j) the sum of the paths of each unit ``j``, next to the matrix form
  (16)/(17) ``(g'(z) * delta) w^T`` and their difference,
- (21)/(22) the parameter gradients element by element, next to (23)/(24).

Where the values come from:

- ``z``, ``a``, ``delta``, ``g'(z) delta`` and the element-wise gradients are
  computed by the loop kernels (:func:`bpfast.kernels.forward`,
  :func:`~bpfast.kernels.loss_delta`, :func:`~bpfast.kernels.backward`, in
  the network's own loop pass) run on the sample; ``g'(z_k)`` alone by the
  kernels' scalar derivative (12);
- the path terms (14.x) and their sums (15.j) are computed here, by explicit
  Python loops over ``j`` and ``k``, from the kernels' weights and ``dC/dz``;
- the matrix column comes from :func:`bpfast.reference.backward`.

Units are numbered from 1, as in the article: ``w^i_jk`` joins unit ``j`` of
``a^i`` to unit ``k`` of ``z^i``. Layer superscripts are the article's
(``a^0 = x``, ``w^0`` the first weights).

The result, an :class:`Explanation`, prints as aligned text tables and
converts to Markdown (:meth:`Explanation.to_markdown`) and to a JSON-ready
dict in which every quantity carries its equation label
(:meth:`Explanation.to_dict`).
"""

import math
import textwrap
from dataclasses import dataclass, field

import numpy as np

from . import _validate as V
from . import kernels as K
from . import reference as R
from .datasets import ARTICLE_SEED, ARTICLE_X, ARTICLE_Y
from .model import MLP

__all__ = ["explain", "Explanation", "example_net", "example_data", "MAX_PATH_TERMS", "MAX_BATCH"]

# Limits: explain prints every weight of every layer, and one column per sample in a batch.
MAX_PATH_TERMS = 64      # weights per layer, n_in * n_out: one (14.x) path term and one (21) row each
MAX_BATCH = 8            # samples in a batch

# The article's data and the start of `bpfast demo` (the same values as in bpfast.cli).
EXAMPLE_SEED = ARTICLE_SEED

_COST_DERIVATIVE = {
    "sse": "2 (a_k - y_k)",
    "mse": "2 (a_k - y_k) / n_out (C is the mean over the outputs)",
    "cross_entropy": "-y_k / a_k (0 where y_k = 0), for C = -sum_k y_k log a_k",
}


# ---------------------------------------------------------------------- the result
@dataclass
class Column:
    """One column of a table.

    ``kind`` is ``"index"`` (an integer j or k), ``"label"`` (the row's own
    equation label, such as ``(14.3)``), ``"value"`` or ``"diff"`` (numbers).
    ``equation`` labels the column's quantities in :meth:`Explanation.to_dict`;
    ``{row}`` in it stands for the row's label.
    """

    key: str
    header: str
    equation: str = ""
    kind: str = "value"


@dataclass
class Section:
    """One table: a title citing its equations, the columns, the rows, and notes."""

    key: str
    layer: object        # int, the article's layer superscript i of w^i; None for the whole net
    equation: str
    title: str
    columns: list
    rows: list
    notes: list = field(default_factory=list)


@dataclass
class Part:
    """A heading (one layer, or the batch) and its tables."""

    heading: str
    sections: list
    notes: list = field(default_factory=list)


@dataclass
class Explanation:
    """The derivation of one backward pass, number by number.

    ``str(explanation)`` is :meth:`to_text`. The attributes are plain data:
    the header lines, the network, the samples, and the parts (one per layer,
    output layer first, then the batch part when ``batch`` is true).
    """

    header: list
    network: dict
    x: np.ndarray
    y: np.ndarray
    costs: list
    batch: bool
    parts: list
    digits: int = 10     # significant digits of printed values (the JSON keeps every digit)

    # ------------------------------------------------------------ renderers
    def to_text(self):
        """Aligned plain-text tables."""
        out = [self.header[0], "=" * len(self.header[0])]
        out += [_wrap(line) for line in self.header[1:]]
        for part in self.parts:
            out += ["", "", part.heading, "-" * len(part.heading)]
            out += [_wrap(note) for note in part.notes]
            for sec in part.sections:
                out += ["", _wrap(sec.title)]
                out += _text_table(sec, self.digits)
                out += [_wrap(note, "  ") for note in sec.notes]
        return "\n".join(out) + "\n"

    def to_markdown(self):
        """GitHub-flavoured Markdown: the same numbers as :meth:`to_text`, as pipe tables."""
        out = [f"### {_md(self.header[0])}", ""]
        out += [f"{_md(line)}\n" for line in self.header[1:]]
        for part in self.parts:
            out += [f"#### {_md(part.heading)}", ""]
            out += [f"{_md(note)}\n" for note in part.notes]
            for sec in part.sections:
                out += [f"**{_md(sec.title)}**", ""]
                out += _markdown_table(sec, self.digits)
                out += [""]
                out += [f"{_md(note)}\n" for note in sec.notes]
        return "\n".join(out).rstrip("\n") + "\n"

    def to_dict(self):
        """A JSON-ready dict; every number carries the equation that produces it."""
        parts = []
        for part in self.parts:
            sections = []
            for sec in part.sections:
                sections.append({
                    "id": sec.key, "layer": sec.layer, "equation": sec.equation, "title": sec.title,
                    "notes": list(sec.notes), "rows": [_row_dict(sec.columns, row) for row in sec.rows],
                })
            parts.append({"heading": part.heading, "notes": list(part.notes), "sections": sections})
        return {
            "title": self.header[0],
            "notes": list(self.header[1:]),
            "indexing": "1-based: w^i_jk joins unit j of a^i to unit k of z^i, as in the article",
            "network": dict(self.network),
            "batch": self.batch,
            "x": {"value": _json_list(self.x), "equation": "a^0 = x"},
            "y": {"value": _json_list(self.y), "equation": "(2)"},
            "cost": [{"sample": s + 1, "value": _json_number(c), "equation": "(2)"}
                     for s, c in enumerate(self.costs)],
            "parts": parts,
        }

    def __str__(self):
        return self.to_text()


# ---------------------------------------------------------------------- formatting
def _format(value, kind, digits=10):
    """The one number format shared by the text and Markdown renderers.

    Values get ``digits`` significant digits (10 for float64, 8 for float32);
    rounding differences ("diff" columns) three.
    """
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if kind == "index":
        return str(int(value))
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    return f"{v:.2e}" if kind == "diff" else f"{v:.{digits}g}"


def _wrap(line, indent=""):
    return textwrap.fill(line, width=100, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=False)


def _cells(sec, digits):
    return [[_format(v, c.kind, digits) for v, c in zip(row, sec.columns)] for row in sec.rows]


def _text_table(sec, digits):
    header = [c.header for c in sec.columns]
    cells = _cells(sec, digits)
    widths = [max(len(r[i]) for r in [header] + cells) for i in range(len(header))]
    right = [c.kind != "label" for c in sec.columns]

    def line(row):
        return "  " + "  ".join(t.rjust(w) if r else t.ljust(w) for t, w, r in zip(row, widths, right))

    lines = [line(header), line(["-" * w for w in widths])]
    return [s.rstrip() for s in lines + [line(r) for r in cells]]


def _md(text):
    return text.replace("|", "\\|").replace("*", "\\*")


def _markdown_table(sec, digits):
    lines = ["| " + " | ".join(_md(c.header) for c in sec.columns) + " |",
             "|" + "|".join(":---" if c.kind == "label" else "---:" for c in sec.columns) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in _cells(sec, digits)]
    return lines


def _json_number(value):
    if value is None or isinstance(value, str):
        return value
    v = float(value)
    return v if math.isfinite(v) else str(v)          # JSON has no inf or NaN


def _json_list(array):
    return [[_json_number(v) for v in row] for row in np.asarray(array)]


def _row_dict(columns, row):
    label = next((v for v, c in zip(row, columns) if c.kind == "label"), "")
    out = {}
    for value, col in zip(row, columns):
        if col.kind == "label":
            out["equation"] = value
        elif col.kind == "index":
            out[col.key] = int(value)
        else:
            out[col.key] = {"value": _json_number(value), "equation": col.equation.format(row=label)}
    return out


# ---------------------------------------------------------------------- input checks
def _check_net(net):
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a bpfast.MLP; got {type(net).__name__}")
    for i, (n_in, n_out) in enumerate(zip(net.layer_sizes[:-1], net.layer_sizes[1:])):
        if n_in * n_out > MAX_PATH_TERMS:
            raise ValueError(
                f"net is too large to explain: explain prints one path term (14.x) and one weight "
                f"gradient (21) per weight, so a layer may have at most {MAX_PATH_TERMS} weights "
                f"(n_in * n_out); layer {i} of this {'-'.join(map(str, net.layer_sizes))} network "
                f"has {n_in} x {n_out} = {n_in * n_out}. Explain a smaller network, such as 3-4-2")


def _samples(name, value, dtype, n_columns):
    """Coerce one sample (1-D) or a stack of samples (2-D) to a 2-D array, via bpfast._validate."""
    V.not_masked(name, value)
    try:
        arr = np.asarray(value)
    except ValueError:                                   # ragged: V.array explains it
        arr = value
    if isinstance(arr, np.ndarray) and arr.ndim == 1 and arr.dtype.kind in "biuf":
        arr = arr.reshape(1, -1)
    return V.array(name, arr, dtype, n_columns)


def _check_data(net, x, y, batch):
    V.flag("batch", batch)
    x = _samples("x", x, net.dtype, net.layer_sizes[0])
    y = _samples("y", y, net.dtype, net.layer_sizes[-1])
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must hold the same number of samples; got {x.shape[0]} and "
                         f"{y.shape[0]}")
    if net.loss == "cross_entropy" and (y < 0).any():
        raise ValueError(f"y must be non-negative for loss='cross_entropy'; got a minimum of {y.min()}")
    if not batch and x.shape[0] != 1:
        raise ValueError(f"x holds {x.shape[0]} samples, but explain(..., batch=False) walks through "
                         f"one sample: pass one row, or batch=True (bpfast explain --batch)")
    if x.shape[0] > MAX_BATCH:
        raise ValueError(f"the batch is too large to explain: explain prints one column per sample, "
                         f"so a batch may have at most {MAX_BATCH} samples; got {x.shape[0]}")
    return x, y


# ---------------------------------------------------------------------- computation
def _kernel_pass(net, X, Y):
    """Forward (5)/(6), (11), output (2), (12), (13), backward (15), (21)/(22): the loop kernels.

    Runs the network's own loop pass (``kernels.forward``, ``kernels.loss_delta``,
    ``kernels.backward``, serial or parallel as the network is set up) and
    returns ``(cost, z, a, delta, gz, grad)``, the kernels' buffers.
    """
    return net._loop_pass(X, Y)


def _path_terms(params, layers, i, gz_row):
    """(14.x): ``terms[j, k] = w^i_jk * (g'(z^i_k) delta^{i+1}_k)`` for one sample, by loops over k and j.

    ``w^i_jk = dz^i_k / da^i_j`` is (7)/(8), read from the kernels' parameter
    buffer (layer ``i`` stored transposed: ``w_jk`` at ``W_OFF + k * n_in + j``).
    """
    n_in, n_out, w0, _, _, u_out, _ = layers[i]
    terms = np.empty((n_in, n_out), dtype=params.dtype)
    for k in range(n_out):
        g = gz_row[u_out + k]                            # (12)*(13) or (12)*(15): dC/dz^i_k
        for j in range(n_in):
            terms[j, k] = params[w0 + k * n_in + j] * g  # (7)/(8) times dC/dz^i_k
    return terms


def _path_sums(terms):
    """(15.j): ``delta^i_j`` as the sum of the paths of unit j, over k in order."""
    n_in, n_out = terms.shape
    sums = np.empty(n_in, dtype=terms.dtype)
    for j in range(n_in):
        total = terms.dtype.type(0)
        for k in range(n_out):
            total += terms[j, k]
        sums[j] = total
    return sums


def _g_prime(z_row, a_row, layers, i):
    """(12): ``g'(z^i_k)`` of each unit, by the kernels' scalar derivative; None for softmax."""
    n_out, u_out, act = layers[i, K.N_OUT], layers[i, K.U_OUT], layers[i, K.ACT]
    if act == K.SOFTMAX:
        return [None] * n_out
    one = z_row.dtype.type(1)
    return [K._derivative(a_row[u_out + k], act, one) for k in range(n_out)]


# ---------------------------------------------------------------------- the walk
def _layer_part(net, params, layers, i, z, a, delta, gz, grad, y, ref):
    """Every table of layer i for one sample (row 0 of the kernels' buffers)."""
    deltas_ref, grad_w_ref, grad_b_ref = ref
    n_in, n_out, w0, b0, u_in, u_out, act = (int(v) for v in layers[i])
    last = layers.shape[0] - 1
    name = net.activations[i]
    i1 = i + 1
    delta_eq = "(13)" if i == last else "(15)"
    gz_eq = f"(12)*{delta_eq}"
    where = "the output layer" if i == last else "a hidden layer"
    if i == 0:
        where = ("the only layer" if i == last else "the first layer") + ", a^0 = x"
    heading = (f"Layer {i} ({where}): w^{i} is {n_in} x {n_out}; z^{i} = a^{i} w^{i} + b^{i} (5)/(6), "
               f"a^{i1} = g(z^{i}) (11), g = {name}")
    sections = []

    if i == last:
        sections.append(Section(
            f"layer{i}.cost_derivative", i, "(13)",
            f"(13) the cost derivative of each output: delta^{i1}_k = dC/da^{i1}_k = "
            f"{_COST_DERIVATIVE[net.loss]}",
            [Column("k", "k", kind="index"), Column("a", f"a^{i1}_k (11)", "(11)"),
             Column("y", "y_k", "(2)"), Column("delta", f"delta^{i1}_k (13)", "(13)")],
            [(k + 1, a[0, u_out + k], y[0, k], delta[0, u_out + k]) for k in range(n_out)]))

    g_prime = _g_prime(z[0], a[0], layers, i)
    notes = []
    if act == K.SOFTMAX:
        notes.append(
            "g is softmax: each a_k depends on every z_m, so (12) is a Jacobian, not one number per "
            "unit; the loop kernel applies it to (13) directly: "
            + ("dC/dz_k = a_k sum_m y_m - y_k (softmax with cross-entropy, simplified)."
               if net.loss == "cross_entropy" else "dC/dz_k = a_k (delta_k - sum_m a_m delta_m)."))
    sections.append(Section(
        f"layer{i}.activation_derivative", i, "(12)",
        f"(12) g'(z^{i}_k) of each unit k, and dC/dz^{i}_k = g'(z^{i}_k) delta^{i1}_k, the factor "
        f"every path through unit k shares",
        [Column("k", "k", kind="index"), Column("z", f"z^{i}_k (5)/(6)", "(5)/(6)"),
         Column("a", f"a^{i1}_k (11)", "(11)"), Column("g_prime", f"g'(z^{i}_k) (12)", "(12)"),
         Column("delta", f"delta^{i1}_k {delta_eq}", delta_eq),
         Column("dC_dz", f"g'(z^{i}_k) delta^{i1}_k", gz_eq)],
        [(k + 1, z[0, u_out + k], a[0, u_out + k], g_prime[k], delta[0, u_out + k], gz[0, u_out + k])
         for k in range(n_out)],
        notes))

    if i > 0:
        terms = _path_terms(params, layers, i, gz[0])
        sums = _path_sums(terms)
        rows = []
        for k in range(n_out):                           # the article's order: k outer, j inner
            for j in range(n_in):
                w_jk = params[w0 + k * n_in + j]
                rows.append((f"(14.{k * n_in + j + 1})", j + 1, k + 1, w_jk, gz[0, u_out + k], terms[j, k]))
        sections.append(Section(
            f"layer{i}.paths", i, "(14.x)",
            f"(14.x) every path from a^{i}_j to C through z^{i}_k: w^{i}_jk g'(z^{i}_k) delta^{i1}_k "
            f"(layer {i}, numbered k first, then j, as in the article)",
            [Column("equation", "eq", kind="label"), Column("j", "j", kind="index"),
             Column("k", "k", kind="index"),
             Column("w", f"w^{i}_jk = dz^{i}_k/da^{i}_j (7)/(8)", "(7)/(8)"),
             Column("dC_dz", f"g'(z^{i}_k) delta^{i1}_k", gz_eq),
             Column("path_term", "path term", "{row}")],
            rows,
            [f"Each term is one path only: a^{i}_j reaches C through each of the {n_out} units of "
             f"z^{i}, so unit j has {n_out} terms, numbered {n_in} apart (the article's (14.1) and "
             f"(14.4) are the two paths of a^1_1); (15.j) adds them." if n_out > 1 else
             f"z^{i} has one unit, so each a^{i}_j has one path to C: (15.j) is (14.j) alone."]))
        matrix = deltas_ref[i - 1][0]
        kernel = delta[0, u_in:u_in + n_in]
        form = "(16)/(17)" if i == last else "(16)/(17), by (18)"
        sections.append(Section(
            f"layer{i}.deltas", i, "(15)",
            f"(15.j) delta^{i}_j = dC/da^{i}_j, the sum of the {n_out} path{'s' if n_out > 1 else ''} "
            f"of unit j, next to the "
            f"matrix form {form}: delta^{i} = (g'(z^{i}) * delta^{i1}) (w^{i})^T",
            [Column("equation", "eq", kind="label"), Column("j", "j", kind="index"),
             Column("sum_of_paths", "sum of paths", "{row}"),
             Column("kernel", "kernels.backward (15)", "(15)"),
             Column("matrix", "matrix (16)/(17)", "(16)/(17)"),
             Column("difference", "sum - matrix", "{row} - (16)/(17)", kind="diff")],
            [(f"(15.{j + 1})", j + 1, sums[j], kernel[j], matrix[j], float(sums[j]) - float(matrix[j]))
             for j in range(n_in)]))

    rows = []
    for j in range(n_in):
        for k in range(n_out):
            loop = grad[w0 + k * n_in + j]
            rows.append((j + 1, k + 1, a[0, u_in + j], gz[0, u_out + k], loop, grad_w_ref[i][j, k],
                         float(loop) - float(grad_w_ref[i][j, k])))
    sections.append(Section(
        f"layer{i}.weight_gradients", i, "(21)",
        f"(21) dC/dw^{i}_jk = a^{i}_j g'(z^{i}_k) delta^{i1}_k element by element, next to (23) "
        f"dC/dw^{i} = (a^{i})^T (g'(z^{i}) * delta^{i1})",
        [Column("j", "j", kind="index"), Column("k", "k", kind="index"),
         Column("a", f"a^{i}_j", "a^0 = x" if i == 0 else "(11)"),
         Column("dC_dz", f"g'(z^{i}_k) delta^{i1}_k", gz_eq),
         Column("kernel", "kernels.backward (21)", "(21)"), Column("matrix", "matrix (23)", "(23)"),
         Column("difference", "(21) - (23)", "(21) - (23)", kind="diff")],
        rows))
    sections.append(Section(
        f"layer{i}.bias_gradients", i, "(22)",
        f"(22) dC/db^{i}_k = g'(z^{i}_k) delta^{i1}_k, next to (24)",
        [Column("k", "k", kind="index"), Column("kernel", "kernels.backward (22)", "(22)"),
         Column("matrix", "matrix (24)", "(24)"),
         Column("difference", "(22) - (24)", "(22) - (24)", kind="diff")],
        [(k + 1, grad[b0 + k], grad_b_ref[i][k], float(grad[b0 + k]) - float(grad_b_ref[i][k]))
         for k in range(n_out)]))
    notes = []
    if i == 0:
        notes.append("No (14.x) or (15.j) here: a^0 = x is the input, no parameter lies below it, so "
                     "no delta^0 is needed (the article's deltas start at i = 1).")
    return Part(heading, sections, notes)


def _batch_part(net, params, layers, X, Y, per_sample, grad):
    """How the per-sample gradients (21)/(22) add up to the batch gradient (23)/(24), and erratum 1.

    ``per_sample[s]`` is the kernels' gradient of sample ``s`` alone, ``grad``
    theirs on the whole batch.
    """
    n = X.shape[0]
    ws, bs = K.unpack(params, layers)
    zs, acts = R.forward(ws, bs, list(net.activations), X)
    _, grad_w_ref, grad_b_ref = R.backward(ws, list(net.activations), net.loss, zs, acts, Y)
    # mse is a mean over the batch: its batch gradient is the mean of the per-sample ones.
    scale = params.dtype.type(1) / params.dtype.type(n) if net.loss == "mse" else params.dtype.type(1)
    combine = "mean over samples" if net.loss == "mse" else "sum over samples"
    samples = [(f"sample_{s + 1}", f"sample {s + 1}") for s in range(n)]
    notes = [
        f"Each sample column is the loop kernels run on that sample alone; the '{combine}' column "
        f"adds them here in sample order"
        + (" and divides by the batch size (mse is the mean of the squared errors over the whole "
           "batch)" if net.loss == "mse" else "")
        + ". The loop kernel on the whole batch accumulates the same products in the same order; "
        "the matrix form (23) does the sum inside the product (a^i)^T (g'(z^i) * delta^{i+1}), "
        "with one row of a^i per sample.",
        "Erratum 1: the article's code sums the weight gradient over the batch (the product in (23) "
        "does) but averages the bias gradient (np.mean over the samples). The gradient of C summed "
        "over the batch sums both: the last columns of each bias table show the article's mean and "
        "how far it is from the exact value. bpfast's fit uses the exact sum (bias_gradient='sum') "
        "and offers the article's rule as bias_gradient='mean'.",
    ]
    sections = []
    for i in range(layers.shape[0] - 1, -1, -1):
        n_in, n_out, w0, b0 = (int(v) for v in layers[i, :4])
        rows = []
        for j in range(n_in):
            for k in range(n_out):
                p = w0 + k * n_in + j
                total = params.dtype.type(0)
                for g in per_sample:
                    total += g[p]
                total *= scale
                rows.append((j + 1, k + 1, *(g[p] for g in per_sample), total, grad[p], grad_w_ref[i][j, k],
                             float(total) - float(grad_w_ref[i][j, k])))
        sections.append(Section(
            f"batch.layer{i}.weight_gradients", i, "(23)",
            f"dC/dw^{i}_jk: (21) for each sample, their {combine.split()[0]}, and (23) on the batch",
            [Column("j", "j", kind="index"), Column("k", "k", kind="index"),
             *[Column(key, header, "(21)") for key, header in samples],
             Column("combined", combine, "(21) " + combine.split()[0]),
             Column("kernel", "kernels.backward on the batch (21)", "(21)"),
             Column("matrix", "matrix (23)", "(23)"),
             Column("difference", f"{combine.split()[0]} - (23)", f"(21) {combine.split()[0]} - (23)",
                    kind="diff")],
            rows))
        rows = []
        for k in range(n_out):
            p = b0 + k
            total = params.dtype.type(0)
            for g in per_sample:
                total += g[p]
            total *= scale
            mean = total / params.dtype.type(n)
            rows.append((k + 1, *(g[p] for g in per_sample), total, grad[p], grad_b_ref[i][k],
                         float(total) - float(grad_b_ref[i][k]), mean, float(mean) - float(total)))
        sections.append(Section(
            f"batch.layer{i}.bias_gradients", i, "(24)",
            f"dC/db^{i}_k: (22) for each sample, their {combine.split()[0]} (the exact (24)), and the "
            f"article's average over the batch (erratum 1)",
            [Column("k", "k", kind="index"),
             *[Column(key, header, "(22)") for key, header in samples],
             Column("combined", f"{combine} (exact)", "(22) " + combine.split()[0]),
             Column("kernel", "kernels.backward on the batch (22)", "(22)"),
             Column("matrix", "matrix (24)", "(24)"),
             Column("difference", f"{combine.split()[0]} - (24)", f"(22) {combine.split()[0]} - (24)",
                    kind="diff"),
             Column("article_mean", "article's mean", "erratum 1: (24) / n_samples"),
             Column("article_error", "article - exact", "erratum 1 - (24)")],
            rows))
    heading = f"The batch: how the gradients of {n} samples add up"
    return Part(heading, sections, notes)


@np.errstate(all="ignore")        # the matrix form's inf and NaN as the loops give them, silently
def explain(net, x, y, batch=False, *, about=None):
    """Walk one backward pass through a small network, element by element and in matrix form.

    Parameters
    ----------
    net : MLP
        A small network: at most :data:`MAX_PATH_TERMS` weights per layer.
    x : array_like of shape (n_in,) or (n_samples, n_in)
        One sample, or with ``batch=True`` up to :data:`MAX_BATCH` samples.
    y : array_like of shape (n_out,) or (n_samples, n_out)
        The targets of the samples.
    batch : bool
        False: walk through the one sample in ``x``. True: walk through the
        first sample, then show how the per-sample gradients (21)/(22) add up
        to the batch gradient (23)/(24), and how the article's averaged bias
        gradient differs from the exact one (erratum 1).
    about : str or None
        One line saying where the network and the data come from, printed in the header.

    Returns
    -------
    Explanation
        Prints as text tables; see :meth:`Explanation.to_markdown` and
        :meth:`Explanation.to_dict`.

    Raises
    ------
    TypeError, ValueError
        For a net that is not an MLP or too large to print, and for bad ``x``, ``y`` or ``batch``.
    """
    _check_net(net)
    x, y = _check_data(net, x, y, batch)
    params, layers = net.packed()
    acts = list(net.activations)
    ws, bs = K.unpack(params, layers)

    per_sample, costs, walk = [], [], None
    for s in range(x.shape[0]):
        cost, z, a, delta, gz, grad = _kernel_pass(net, x[s:s + 1], y[s:s + 1])
        per_sample.append(grad)
        costs.append(cost)
        if s == 0:
            walk = (z, a, delta, gz, grad)
    zs, a_ref = R.forward(ws, bs, acts, x[:1])
    ref = R.backward(ws, acts, net.loss, zs, a_ref, y[:1])

    parts = [_layer_part(net, params, layers, i, *walk, y[:1], ref)
             for i in range(layers.shape[0] - 1, -1, -1)]
    digits = 8 if net.dtype == np.float32 else 10
    if batch:
        batch_cost, *_, batch_grad = _kernel_pass(net, x, y)
        parts.append(_batch_part(net, params, layers, x, y, per_sample, batch_grad))

    sizes = "-".join(map(str, net.layer_sizes))
    header = [
        "bpfast explain: one backward pass, element by element (5)-(15), (21)/(22), next to the "
        "matrix form (16)-(18), (23)/(24)",
        f"Network {sizes}, activations {'/'.join(acts)}, loss {net.loss}, {net.dtype.name}."
        + (f" {about}" if about else ""),
    ]
    for s in range(x.shape[0]):
        header.append(f"Sample {s + 1}: x = {_vector_text(x[s], digits)}, y = "
                      f"{_vector_text(y[s], digits)}, C = {_format(costs[s], 'value', digits)} (2).")
    if batch:
        header.append(f"The batch: C = {_format(batch_cost, 'value', digits)} (2), "
                      + ("the mean over the samples (loss mse)." if net.loss == "mse"
                         else "the sum over the samples."))
    header += [
        ("The layer tables walk sample 1 backwards, from the output layer to the first; the batch "
         "part follows them." if batch else "The tables walk backwards, from the output layer to "
         "the first."),
        "Indices are 1-based, as in the article: w^i_jk joins unit j of a^i to unit k of z^i; j "
        "runs over a layer's inputs, k over its outputs. Superscripts are the article's layer "
        "numbers: a^0 = x, w^0 the first weights, delta^i = dC/da^i.",
        "Where the numbers come from: z, a, delta, g'(z) delta and the gradients (21)/(22) from the "
        "loop kernels (bpfast.kernels.forward, loss_delta, backward) run on the sample; the path "
        "terms (14.x) and their sums (15.j) from explicit loops over j and k in bpfast.explain; "
        "the matrix form (16)/(17), (23)/(24) from bpfast.reference.backward. A difference of 0 "
        "means equal to the last bit.",
    ]
    network = {"layer_sizes": list(net.layer_sizes), "activations": acts, "loss": net.loss,
               "dtype": net.dtype.name}
    return Explanation(header, network, x, y, [float(c) for c in costs], bool(batch), parts, digits)


def _vector_text(v, digits):
    return "[" + ", ".join(_format(e, "value", digits) for e in v) + "]"


# ---------------------------------------------------------------------- the command's problem
def example_net(layers=None, activation="sigmoid", loss="sse", init="uniform", seed=EXAMPLE_SEED,
                dtype="float64"):
    """The network ``bpfast explain`` explains by default, or a small variation of it.

    Parameters
    ----------
    layers : sequence of int or None
        None: the article's 3-3-2 network.
    activation, loss, init, seed, dtype
        As for :class:`bpfast.MLP`. The defaults are the article's: sigmoid,
        sse (2), a U[0,1) start with zero biases; seed 16 is the start of ``bpfast demo``.

    Returns
    -------
    net : MLP
    about : str
        One line saying where the parameters come from.
    """
    net = MLP([3, 3, 2] if layers is None else layers, activation=activation, loss=loss, init=init,
              seed=seed, dtype=dtype)
    start = "the article's U[0,1) start" if init == "uniform" else f"a {init} start"
    return net, f"Parameters: {start} (seed {seed}), zero biases."


def example_data(n_in, n_out, seed=EXAMPLE_SEED, batch=False):
    """The samples ``bpfast explain`` uses when none are given.

    The article's ``x`` and ``y`` for a network with 3 inputs and 2 outputs;
    else two samples drawn from ``seed``: ``x ~ N(0, 1)`` rounded to two
    decimals, ``y`` one-hot. Only the first sample unless ``batch``.

    Returns
    -------
    x : ndarray of shape (n_samples, n_in)
    y : ndarray of shape (n_samples, n_out)
    about : str
        One line saying where the data come from.
    """
    if n_in == 3 and n_out == 2:
        x, y = ARTICLE_X, ARTICLE_Y
        about = "Data: the article's x and y."
    else:
        rng = np.random.default_rng(None if seed is None else [seed, 1])
        x = np.round(rng.normal(size=(2, n_in)), 2)
        y = np.zeros((2, n_out))
        y[np.arange(2), np.arange(2) % n_out] = 1
        about = f"Data: two samples drawn with seed {seed} (x ~ N(0, 1), y one-hot)."
    return (x, y, about) if batch else (x[:1], y[:1], about)
