"""Verify the kernels on this machine: equivalence and gradient checks over a grid of networks.

:func:`run_check` builds a grid of small random networks (depth, widths and
batch size drawn from a seeded generator) covering every activation, every
loss, both dtypes, and the serial and parallel loop kernels, and runs on each

- :func:`bpfast.check_equivalence`: loop kernels vs. the matrix form on every
  intermediate (``z``, ``a``, ``delta``, ``dC/dw``, ``dC/db``, ``C``),
- :func:`bpfast.gradcheck`: the loop kernels' gradient vs. central finite
  differences of the cost, evaluated in float64,
- for the parallel kernels, whether their gradient is bit-identical to the
  serial one (as :class:`bpfast.MLP` documents). This is reported, not
  judged: PASS/FAIL is decided by the two checks above, at their tolerances.

ReLU has a kink at 0 where finite differences are not defined, so for nets with
a ReLU layer the inputs are redrawn until every ReLU pre-activation is at
least :data:`RELU_MARGIN` away from 0; the report says how many redraws that took.

``bpfast check`` prints the result and exits with status 1 on any failure.
"""

import inspect
import time
from dataclasses import dataclass, field

import numba
import numpy as np

from . import _validate as V
from . import reference as R
from ._config import EQUIVALENCE_TOL, GRADCHECK
from .equivalence import check_equivalence, gradcheck
from .model import MLP

__all__ = ["run_check", "CheckResult", "CheckRow", "RELU_MARGIN"]

CHECK_EPS = GRADCHECK["eps"]    # step of the central differences (bpfast/_config.py)
RELU_MARGIN = 100 * CHECK_EPS   # smallest |z| allowed at a ReLU unit, so no step crosses the kink
_MAX_REDRAWS = 1000

# Every element-wise activation as the hidden layers and as the output layer, with every loss:
# (hidden, output, loss). Softmax is output-only; cross-entropy needs it.
_ELEMENTWISE = ("identity", "sigmoid", "tanh", "relu")
COMBINATIONS = tuple(combo for h in _ELEMENTWISE for combo in (
    (h, h, "sse"), (h, h, "mse"), (h, "softmax", "cross_entropy"), (h, "softmax", "sse")))

# The networks with big layers that every grid adds, on every thread count: (sizes, activations,
# loss, batch). The batches pass the chunk of samples of (21)/(22) (256 float64, 512 float32) and
# the tasks of _ROWS samples; 12 outputs take (15) one term at a time, 40 in blocked sums.
_BIG = (
    ((24, 40, 12, 3), ("tanh", "sigmoid", "softmax"), "cross_entropy", 600),
    ((20, 48, 40, 5), ("relu", "sigmoid", "identity"), "mse", 130),
)
# Grid sizes: (depths, largest width, largest batch, architectures per combination and dtype).
_GRID = {
    "quick": {"depths": (1, 2, 3), "width": 6, "batch": 8, "repeats": 1},
    "full": {"depths": (1, 2, 3), "width": 8, "batch": 16, "repeats": 3},
}


@dataclass
class CheckRow:
    """One network, checked: what it is, the worst errors, the tolerances, and the verdict."""

    case: int
    architecture: str          # layer sizes, e.g. "3-5-2"
    activations: str           # e.g. "tanh/softmax"
    loss: str
    dtype: str
    threads: int
    batch: int
    equivalence_rel: float     # worst normwise max|loops - matrix| / max|value| over the intermediates
    equivalence_rtol: float
    equivalence_atol: float
    gradcheck_max_rel: float   # worst element relative error over the parameter arrays
    gradcheck_mean_rel: float  # worst per-array mean relative error
    gradcheck_max_tol: float
    gradcheck_mean_tol: float
    same_as_serial: object     # True/False for threads > 1, None for the serial kernels
    serial_diff: float         # threads > 1: worst max|parallel - serial| / max|serial| of the gradient
    redraws: int               # times the inputs were redrawn to keep ReLU units off the kink
    passed: bool
    equivalence: object = field(default=None, repr=False)   # the EquivalenceReport
    gradcheck: object = field(default=None, repr=False)     # the GradcheckReport


@dataclass
class CheckResult:
    """Every row of a check run, with how it was run; prints as the table ``bpfast check`` shows."""

    rows: list
    quick: bool
    seed: int
    threads: tuple
    parallel_note: str
    seconds: float = 0.0

    @property
    def passed(self):
        return all(r.passed for r in self.rows)

    @property
    def failures(self):
        return [r for r in self.rows if not r.passed]

    def __str__(self):
        return "\n".join(self.lines())

    def lines(self):
        """The report as lines of text: header, table, details of any failure, summary."""
        eq64, eq32 = EQUIVALENCE_TOL["float64"], EQUIVALENCE_TOL["float32"]
        gc64, gc32 = GRADCHECK["float64"], GRADCHECK["float32"]
        out = [
            f"bpfast check{' --quick' if self.quick else ''} (seed {self.seed}): the loop kernels against "
            f"the matrix form and against finite differences",
            "  equivalence: every intermediate (z, a, delta, dC/dw, dC/db, C) must satisfy "
            "max|loops - matrix| <= atol + rtol * max|value|;",
            f"    'equiv rel' is the worst max|loops - matrix| / max|value|, 'tol equiv' the rtol "
            f"(float64: rtol {eq64['rtol']:g}, atol {eq64['atol']:g}; float32: rtol {eq32['rtol']:g}, "
            f"atol {eq32['atol']:g}).",
            f"  gradcheck: central differences of the cost in float64, eps {CHECK_EPS:g}; per "
            f"parameter array max rel <= tol max and mean rel <= tol mean",
            f"    (float64: {gc64['max_rel']:g} / {gc64['mean_rel']:g}; float32: {gc32['max_rel']:g} / "
            f"{gc32['mean_rel']:g}).",
            f"  grid: {_describe(self.quick, len(self.rows))}",
            f"  threads: {self.parallel_note}",
            f"  data: Glorot weights, biases ~ N(0, 0.25), x ~ N(0, 1); relu: inputs redrawn until every "
            f"ReLU pre-activation is at least {RELU_MARGIN:g} from the kink at 0 ('redraws' counts them).",
            "",
        ]
        header = ("case", "architecture", "activations", "loss", "dtype", "threads", "batch",
                  "equiv rel", "tol equiv", "grad max rel", "grad mean rel", "tol grad",
                  "= serial", "redraws", "result")
        table = [header]
        for r in self.rows:
            same = "-" if r.same_as_serial is None else ("yes" if r.same_as_serial else "no")
            table.append((str(r.case), r.architecture, r.activations, r.loss, r.dtype, str(r.threads),
                          str(r.batch), f"{r.equivalence_rel:.2e}", f"{r.equivalence_rtol:g}",
                          f"{r.gradcheck_max_rel:.2e}", f"{r.gradcheck_mean_rel:.2e}",
                          f"{r.gradcheck_max_tol:g}/{r.gradcheck_mean_tol:g}", same, str(r.redraws),
                          "PASS" if r.passed else "FAIL"))
        widths = [max(len(row[c]) for row in table) for c in range(len(header))]
        for i, row in enumerate(table):
            out.append("  ".join(t.ljust(w) if c < 5 else t.rjust(w)
                                 for c, (t, w) in enumerate(zip(row, widths))).rstrip())
            if i == 0:
                out.append("  ".join("-" * w for w in widths))
        for r in self.failures:
            out += ["", f"case {r.case} FAILED:"]
            if not r.equivalence.passed:
                out.append(str(r.equivalence))
            if not r.gradcheck.passed:
                out.append(str(r.gradcheck))
        worst_eq = max(self.rows, key=lambda r: r.equivalence_rel / r.equivalence_rtol)
        worst_gc = max(self.rows, key=lambda r: r.gradcheck_max_rel / r.gradcheck_max_tol)
        n_fail = len(self.failures)
        parallel = [r for r in self.rows if r.same_as_serial is not None]
        if parallel:
            same = sum(bool(r.same_as_serial) for r in parallel)
            worst = max(r.serial_diff for r in parallel)
            out += ["", f"Parallel kernels: gradient bit-identical to the serial one in {same} of "
                        f"{len(parallel)} cases" + ("." if same == len(parallel) else
                        f"; the others differ by at most {worst:.1e} of the largest gradient element "
                        f"(reported, not judged: PASS/FAIL comes from the checks above).")]
        out += [
            "",
            f"{len(self.rows)} cases: {len(self.rows) - n_fail} passed, {n_fail} failed. "
            f"Worst equivalence error {worst_eq.equivalence_rel:.2e} (case {worst_eq.case}, "
            f"{worst_eq.dtype}, tolerance {worst_eq.equivalence_rtol:g}); worst gradcheck error "
            f"{worst_gc.gradcheck_max_rel:.2e} (case {worst_gc.case}, {worst_gc.dtype}, tolerance "
            f"{worst_gc.gradcheck_max_tol:g}).",
            f"Time: {self.seconds:.1f} s, including JIT compilation (or loading it from Numba's cache).",
            "PASSED" if self.passed else "FAILED",
        ]
        return out


def _describe(quick, n_cases):
    grid = _GRID["quick" if quick else "full"]
    depths = grid["depths"]
    return (f"{n_cases} cases: every element-wise activation as hidden and output layer with sse and "
            f"mse, and under a softmax output with sse and cross_entropy; float64 and float32; "
            f"depths {depths[0]}-{depths[-1]}, widths 1-{grid['width']}, batches 1-{grid['batch']}, "
            f"drawn from the seed; and {len(_BIG)} networks of big layers per dtype and thread count "
            f"({', '.join('-'.join(map(str, b[0])) for b in _BIG)}, batches "
            f"{', '.join(str(b[3]) for b in _BIG)}), which run the blocked sums and the parallel loops.")


def thread_counts():
    """The thread counts to check, and a sentence saying why.

    ``(1, 2)`` when :class:`bpfast.MLP` takes ``threads`` and Numba can use two
    threads here; else ``(1,)``.
    """
    if "threads" not in inspect.signature(MLP).parameters:
        return (1,), "1 = serial kernels only: the parallel kernels are not available in this build"
    if numba.config.NUMBA_NUM_THREADS < 2:
        return (1,), ("1 = serial kernels only: Numba can use one thread on this machine "
                      "(NUMBA_NUM_THREADS = 1), so the parallel kernels are not checked")
    return (1, 2), ("1 = serial kernels, 2 = the parallel kernels on 2 threads; '= serial' says "
                    "whether their gradient is bit-identical to the serial one (reported, not judged)")


def _cases(quick, seed, threads):
    """The grid: one dict of MLP arguments and data sizes per case, drawn from ``seed``.

    Every (hidden, output, loss) combination gets a network per dtype (and, in
    the full grid, three per dtype: the second with a batch of one sample).
    Depths cycle, so the two dtypes of a combination get different depths and
    at least one of them has a hidden layer. The full grid runs each network
    on every thread count; the quick grid alternates them.
    """
    grid = _GRID["quick" if quick else "full"]
    depths = grid["depths"]
    rng = np.random.default_rng(seed)
    cases = []
    for c, (hidden, output, loss) in enumerate(COMBINATIONS):
        for repeat in range(grid["repeats"]):
            for d, dtype in enumerate(("float64", "float32")):
                net_seed = int(rng.integers(2**31))
                depth = depths[(c + repeat + d) % len(depths)]
                sizes = [int(n) for n in rng.integers(1, grid["width"] + 1, size=depth + 1)]
                if output == "softmax":
                    sizes[-1] = max(sizes[-1], 2)
                batch = 1 if repeat == 1 else int(rng.integers(1, grid["batch"] + 1))
                counts = (threads[(c + d) % len(threads)],) if quick else threads
                for t in counts:
                    cases.append({"sizes": sizes, "activation": [hidden] * (depth - 1) + [output],
                                  "loss": loss, "dtype": dtype, "threads": t, "batch": batch,
                                  "seed": net_seed})
    # Networks with big layers (at least kernels._SMALL weights), so that the blocked sums, the
    # work space, the chunks of samples, (15) below few outputs and every prange loop run too.
    for sizes, activation, loss, batch in _BIG:
        for dtype in ("float64", "float32"):
            net_seed = int(rng.integers(2**31))
            for t in threads:
                cases.append({"sizes": list(sizes), "activation": list(activation), "loss": loss,
                              "dtype": dtype, "threads": t, "batch": batch, "seed": net_seed})
    return cases


def _problem(case):
    """The network and data of one case.

    Weights are Glorot, biases ~ N(0, 0.5^2) (non-zero, so the bias terms
    matter), inputs ~ N(0, 1), targets in [0, 1) or one-hot. With a ReLU
    layer, the inputs (and every 20th time the biases) are redrawn until every
    ReLU pre-activation is at least RELU_MARGIN from the kink at 0.
    """
    kwargs = {"threads": case["threads"]} if case["threads"] != 1 else {}
    net = MLP(case["sizes"], activation=case["activation"], loss=case["loss"], seed=case["seed"],
              dtype=case["dtype"], **kwargs)
    rng = np.random.default_rng(case["seed"])
    n_in, n_out, batch = net.layer_sizes[0], net.layer_sizes[-1], case["batch"]
    ws = net.weights
    relu = [i for i, name in enumerate(net.activations) if name == "relu"]
    for redraws in range(_MAX_REDRAWS):
        if redraws % 20 == 0:
            bs = [rng.normal(0, 0.5, size=b.shape) for b in net.biases]
            net.set_params(ws, bs)
        X = rng.normal(size=(batch, n_in))
        if relu:
            # The check computes in the net's dtype: look at the values the net will see.
            zs, _ = R.forward([w.astype(np.float64) for w in net.weights],
                              [b.astype(np.float64) for b in net.biases], list(net.activations),
                              X.astype(net.dtype).astype(np.float64))
            if min(np.abs(zs[i]).min() for i in relu) < RELU_MARGIN:
                continue
        break
    else:
        raise RuntimeError(f"could not draw inputs keeping every ReLU unit {RELU_MARGIN:g} from 0 "
                           f"in {_MAX_REDRAWS} tries")
    if net.activations[-1] == "softmax":
        Y = np.eye(n_out)[rng.integers(n_out, size=batch)]
    else:
        Y = rng.random((batch, n_out))
    return net, X, Y, redraws


def _run_case(number, case):
    net, X, Y, redraws = _problem(case)
    eq = check_equivalence(net, X, Y, raise_on_mismatch=False)
    gc = gradcheck(net, X, Y, eps=CHECK_EPS)
    same, serial_diff = None, 0.0
    if case["threads"] != 1:
        serial = MLP.from_params(net.weights, net.biases, activation=list(net.activations),
                                 loss=net.loss, dtype=net.dtype)
        ours, theirs = net.gradients(X, Y), serial.gradients(X, Y)
        pairs = [(p, q) for mine, ref in zip(ours, theirs) for p, q in zip(mine, ref)]
        same = all(np.array_equal(p, q) for p, q in pairs)
        serial_diff = max(float(np.max(np.abs(p.astype(np.float64) - q)))
                          / max(float(np.max(np.abs(q))), np.finfo(np.float64).tiny) for p, q in pairs)
    eq_tol = EQUIVALENCE_TOL[net.dtype.name]
    gc_tol = GRADCHECK[net.dtype.name]
    return CheckRow(
        case=number, architecture="-".join(map(str, net.layer_sizes)),
        activations="/".join(net.activations), loss=net.loss, dtype=net.dtype.name,
        threads=case["threads"], batch=case["batch"], equivalence_rel=eq.max_rel,
        equivalence_rtol=eq_tol["rtol"], equivalence_atol=eq_tol["atol"],
        gradcheck_max_rel=gc.max_rel, gradcheck_mean_rel=max(r[3] for r in gc.rows),
        gradcheck_max_tol=gc_tol["max_rel"], gradcheck_mean_tol=gc_tol["mean_rel"],
        same_as_serial=same, serial_diff=serial_diff, redraws=redraws, passed=eq.passed and gc.passed,
        equivalence=eq, gradcheck=gc)


def run_check(quick=False, seed=0):
    """Check the loop kernels on a grid of random networks; see the module docstring.

    Parameters
    ----------
    quick : bool
        A small grid (32 cases: every activation and loss with each dtype,
        depths 1-3, widths 1-6, batches 1-8, serial and parallel kernels
        alternating): about a second once the kernels are compiled, under a
        minute including the first JIT compilation of all four variants
        (two dtypes, serial and parallel). False:
        the full grid (96 networks, depths 1-3, widths 1-8, batches 1-16,
        each on every thread count).
    seed : int
        Seeds the grid (architectures, parameters, data).

    Returns
    -------
    CheckResult
        ``.passed``, ``.rows`` (one :class:`CheckRow` per case); prints as a table.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer; got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed}")
    V.flag("quick", quick)
    start = time.perf_counter()
    threads, note = thread_counts()
    cases = _cases(bool(quick), int(seed), threads)
    rows = [_run_case(number, case) for number, case in enumerate(cases, 1)]
    return CheckResult(rows, bool(quick), int(seed), threads, note, time.perf_counter() - start)
