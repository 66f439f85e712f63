"""The speed comparison: problems, backends, and the grid ``bpfast bench`` runs.

Shipped in the package because both the command line and the ASV suite in
``benchmarks/`` use it. A *problem* fixes a network and a batch; a *runner*
holds one backend's copy of the parameters and data and exposes ``step``
(forward + backward + update), ``forward``, ``gradients`` and ``fit``
(``fit_steps`` full-batch steps in one call, the way each backend does a
loop best: one compiled call for the loop kernels and for JAX's
``lax.fori_loop``, a Python loop for NumPy and PyTorch).

Backends: ``loops`` (serial loop kernels), ``loops-parallel`` (the same on
every core Numba may use), ``vectorized`` (the NumPy matrix form, BLAS),
and ``torch`` and ``jax`` when they are importable.
"""

import json
import os
import platform
import time
from dataclasses import dataclass

import numpy as np

from . import kernels as K
from . import reference as R
from . import tiny
from ._config import LOSSES
from .datasets import ARTICLE_X, ARTICLE_Y

__all__ = ["Problem", "PROBLEMS", "BACKENDS", "available_backends", "make_runner", "run_grid",
           "format_table", "fit_memory", "median_time", "median_times"]


@dataclass(frozen=True)
class Problem:
    name: str
    layer_sizes: tuple
    batch: int
    activations: tuple
    loss: str
    learning_rate: float
    fit_steps: int                    # steps of the whole-fit benchmark

    @property
    def macs(self):
        """Multiply-adds of one step: forward (5)/(6), weight gradients (21), deltas (15)."""
        pairs = [a * b for a, b in zip(self.layer_sizes[:-1], self.layer_sizes[1:])]
        return self.batch * (2 * sum(pairs) + sum(pairs[1:]))

    @property
    def flops(self):
        return 2 * self.macs


def _hidden(n):
    return ("sigmoid",) * n + ("softmax",)


# Must not be changed, only appended: the benchmark history depends on them.
PROBLEMS = {
    "article": Problem("article", (3, 3, 2), 2, ("sigmoid", "sigmoid"), "sse", 0.1, 1000),
    "digits": Problem("digits", (64, 32, 10), 64, _hidden(1), "cross_entropy", 0.01, 100),
    "mnist": Problem("mnist", (784, 128, 10), 256, _hidden(1), "cross_entropy", 0.001, 10),
    "large": Problem("large", (784, 512, 512, 10), 1024, _hidden(2), "cross_entropy", 0.0001, 2),
}
BACKENDS = ("loops", "loops-parallel", "vectorized", "torch", "jax")


def problem_data(problem, dtype):
    """Deterministic ``(X, Y, weights, biases)`` for a problem, in ``dtype``."""
    rng = np.random.default_rng(20190512)
    sizes, n = problem.layer_sizes, problem.batch
    if problem.name == "article":
        X, Y = ARTICLE_X, ARTICLE_Y
        weights = [rng.random((a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    else:
        X = rng.standard_normal((n, sizes[0]))
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
        weights = [rng.uniform(-1, 1, (a, b)) * np.sqrt(6 / (a + b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(b) for b in sizes[1:]]
    cast = [np.ascontiguousarray(x, dtype=dtype) for x in [X, Y] + weights + biases]
    k = len(weights)
    return cast[0], cast[1], cast[2:2 + k], cast[2 + k:]


def fits_tiny(problem):
    """Whether ``MLP.fit`` trains this problem's net with :mod:`bpfast.tiny` (its shape compiled in)."""
    return tiny.eligible(K.layer_table(problem.layer_sizes, problem.activations)[0], LOSSES[problem.loss])


def available_backends():
    """The backends importable here (torch and jax are optional)."""
    found = ["loops", "loops-parallel", "vectorized"]
    for name in ("torch", "jax"):
        try:
            __import__(name)
        except ImportError:
            continue
        found.append(name)
    return found


# ---------------------------------------------------------------- runners
class _Loops:
    def __init__(self, problem, dtype, parallel):
        import numba
        X, Y, ws, bs = problem_data(problem, dtype)
        self.X, self.Y = X, Y
        self.layers = K.layer_table(problem.layer_sizes, problem.activations)[0]
        self.params = K.pack(ws, bs, self.layers, dtype)
        self.loss = LOSSES[problem.loss]
        self.lr = np.dtype(dtype).type(problem.learning_rate)
        self.rows = np.arange(problem.batch)
        self.buffers = K.allocate(self.layers, problem.batch, dtype)
        self.scratch = K.scratch(self.layers, problem.batch, dtype)
        self.state = np.array([1], dtype=np.int64)
        self.costs = np.empty(problem.fit_steps, dtype=dtype)
        self.steps = problem.fit_steps
        self.k = K.parallel if parallel else K
        self.threads = numba.config.NUMBA_NUM_THREADS if parallel else 1

    def prepare(self):
        """Give the parallel kernels every thread (a process-wide Numba setting)."""
        import numba
        numba.set_num_threads(self.threads)

    def step(self):
        self.k.train_step(self.params, self.layers, self.loss, self.X, self.Y, self.rows, self.lr,
                          False, self.buffers, self.scratch)

    def forward(self):
        self.k.forward(self.params, self.layers, self.X, self.rows, self.buffers[0], self.buffers[1])

    def gradients(self):
        z, a, delta, gz = self.buffers
        n = self.rows.shape[0]
        self.k.forward(self.params, self.layers, self.X, self.rows, z, a)
        K.loss_delta(self.layers, self.loss, self.Y, self.rows, z, a, delta, gz)
        self.k.backward(self.params, self.layers, n, z, a, delta, gz, self.scratch[:len(self.params)],
                        self.scratch[len(self.params):])

    def fit(self):                                    # the kernels MLP.fit runs
        args = (self.params, self.layers, self.loss, self.X, self.Y, self.lr, self.steps,
                self.X.shape[0], False, False, self.state, self.costs)
        if tiny.eligible(self.layers, self.loss):
            tiny.train(*args)
        else:
            K.train_from_python(*args, parallel=self.k is K.parallel)

    def output(self):
        self.forward()
        return self.buffers[1][:, self.layers[-1, K.U_OUT]:].copy()


class _Vectorized:
    def __init__(self, problem, dtype):
        self.X, self.Y, self.ws, self.bs = problem_data(problem, dtype)
        self.acts, self.loss, self.lr = list(problem.activations), problem.loss, problem.learning_rate
        self.steps = problem.fit_steps

    def step(self):
        _, grad_w, grad_b = R.gradients(self.ws, self.bs, self.acts, self.loss, self.X, self.Y)
        R.update(self.ws, self.bs, grad_w, grad_b, self.lr)

    def forward(self):
        return R.forward(self.ws, self.bs, self.acts, self.X)

    def gradients(self):
        return R.gradients(self.ws, self.bs, self.acts, self.loss, self.X, self.Y)

    def fit(self):
        for _ in range(self.steps):
            self.step()

    def output(self):
        return self.forward()[1][-1]


class _Torch:
    def __init__(self, problem, dtype):
        import torch
        X, Y, ws, bs = problem_data(problem, dtype)
        self.torch = torch
        self.X, self.Y = torch.from_numpy(X), torch.from_numpy(Y)
        self.ws = [torch.from_numpy(w.copy()).requires_grad_() for w in ws]
        self.bs = [torch.from_numpy(b.copy()).requires_grad_() for b in bs]
        self.acts, self.loss, self.lr = problem.activations, problem.loss, problem.learning_rate
        self.steps = problem.fit_steps

    def _logits_and_output(self):
        a = self.X
        for w, b, act in zip(self.ws, self.bs, self.acts):
            z = a @ w + b
            a = {"sigmoid": self.torch.sigmoid, "softmax": lambda t: self.torch.softmax(t, 1)}[act](z)
        return z, a

    def _cost(self):
        z, a = self._logits_and_output()
        if self.loss == "cross_entropy":
            return self.torch.nn.functional.cross_entropy(z, self.Y, reduction="sum")
        return ((a - self.Y) ** 2).sum()

    def step(self):
        self._cost().backward()
        with self.torch.no_grad():
            for p in self.ws + self.bs:
                p -= self.lr * p.grad
                p.grad = None

    def forward(self):
        with self.torch.no_grad():
            return self._logits_and_output()

    def gradients(self):
        for p in self.ws + self.bs:
            p.grad = None
        self._cost().backward()

    def fit(self):
        for _ in range(self.steps):
            self.step()

    def output(self):
        return self.forward()[1].numpy()


class _Jax:
    def __init__(self, problem, dtype):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        X, Y, ws, bs = problem_data(problem, dtype)
        self.jax = jax
        self.X, self.Y = jnp.asarray(X), jnp.asarray(Y)
        self.params = tuple((jnp.asarray(w), jnp.asarray(b)) for w, b in zip(ws, bs))
        acts, loss, lr, steps = problem.activations, problem.loss, problem.learning_rate, problem.fit_steps

        def out(params, X):
            a = X
            for (w, b), act in zip(params, acts):
                z = a @ w + b
                a = jax.nn.sigmoid(z) if act == "sigmoid" else jax.nn.softmax(z, axis=1)
            return z, a

        def cost(params, X, Y):
            z, a = out(params, X)
            if loss == "cross_entropy":
                return -jnp.sum(Y * jax.nn.log_softmax(z, axis=1))
            return jnp.sum((a - Y) ** 2)

        def step(params, X, Y):
            grads = jax.grad(cost)(params, X, Y)
            return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)

        self._forward = jax.jit(out)
        self._grad = jax.jit(jax.grad(cost))
        self._step = jax.jit(step)
        self._fit = jax.jit(lambda params, X, Y: jax.lax.fori_loop(
            0, steps, lambda i, p: step(p, X, Y), params))

    def step(self):
        self.params = self.jax.block_until_ready(self._step(self.params, self.X, self.Y))

    def forward(self):
        return self.jax.block_until_ready(self._forward(self.params, self.X))

    def gradients(self):
        return self.jax.block_until_ready(self._grad(self.params, self.X, self.Y))

    def fit(self):
        self.params = self.jax.block_until_ready(self._fit(self.params, self.X, self.Y))

    def output(self):
        return np.asarray(self.forward()[1])


def make_runner(problem, backend, dtype):
    """A runner for one (problem, backend, dtype); raises ImportError for a missing peer."""
    problem = PROBLEMS[problem] if isinstance(problem, str) else problem
    dtype = np.dtype(dtype)
    if backend in ("loops", "loops-parallel"):
        return _Loops(problem, dtype, parallel=backend == "loops-parallel")
    if backend == "vectorized":
        return _Vectorized(problem, dtype)
    if backend == "torch":
        return _Torch(problem, dtype)
    if backend == "jax":
        return _Jax(problem, dtype)
    raise ValueError(f"backend must be one of {list(BACKENDS)}; got {backend!r}")


# ---------------------------------------------------------------- timing
def median_time(fn, repeats=7, min_time=0.02):
    """Median seconds per call of ``fn`` over ``repeats`` rounds of at least ``min_time`` each."""
    return median_times([fn], repeats, min_time)[0]


def median_times(fns, repeats=7, min_time=0.02, before=None, pause=0.25):
    """:func:`median_time` of each of ``fns``, with their rounds interleaved.

    Round ``r`` times every function once before round ``r + 1`` starts, so a slow
    spell of a shared machine (measured here: the same kernel at 250 us for a second,
    then 430 us for the next) falls on all of them alike and their ratios stay
    side by side. ``before[i]``, if given, runs (untimed) before each round of ``fns[i]``.
    Between rounds it sleeps ``pause`` seconds: the thread pools of OpenBLAS, OpenMP and
    XLA spin for a while after their last task, and took the cores from the next backend
    (measured: PyTorch's MNIST step at 4.5 ms right after the others, 2.1 ms alone), and
    an untimed call starts each round, to wake the backend's threads after the pause.
    """
    before = before or [None] * len(fns)
    numbers = []
    for fn, prepare in zip(fns, before):
        if prepare is not None:
            prepare()
        fn()                                          # warm-up (JIT compilation, caches)
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        numbers.append(int(min_time / max(once, 1e-9)) + 1 if once < min_time else 1)
    rounds = [[] for _ in fns]
    for _ in range(repeats):
        for fn, prepare, number, times in zip(fns, before, numbers, rounds):
            if prepare is not None:
                prepare()
            fn()                                      # wakes the threads after the pause
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - start) / number)
            if len(fns) > 1:
                time.sleep(pause)                     # let this backend's threads go idle
    return [float(np.median(times)) for times in rounds]


_MEMORY_PROBE = """
import ctypes, gc, json, sys
import numpy as np
import bpfast
from bpfast.bench import PROBLEMS, problem_data

def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))

problem, dtype, threads = PROBLEMS[sys.argv[1]], sys.argv[2], int(sys.argv[3])
X, Y, weights, biases = problem_data(problem, dtype)
net = bpfast.MLP.from_params(weights, biases, activation=list(problem.activations), loss=problem.loss,
                             threads=threads)
# The same fit once first: it compiles (or loads) the kernels and makes every one-time allocation.
# Its buffers (mmapped, see fit_memory) go back to the system; then what compiling left behind is
# freed now, not during the measured fit (the resident set would shrink under the reset peak and
# hide the fit's growth: measured 0.29 instead of 1.14 with a cold cache).
net.fit(X, Y, learning_rate=1e-3, epochs=1)
gc.collect()
ctypes.CDLL("libc.so.6").malloc_trim(0)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")                                                      # reset the peak (VmHWM)
before = status("VmRSS")
net.fit(X, Y, learning_rate=1e-3, epochs=2)
print(json.dumps({"growth": status("VmHWM") - before, "params": int(net.packed()[0].nbytes)}))
"""


def fit_memory(problem, dtype="float64", threads=1):
    """Peak memory of one full-batch ``MLP.fit`` (loop kernels) against what backprop must hold.

    Runs in a fresh process (Linux: it reads and resets ``VmHWM`` in ``/proc``),
    so no earlier allocation is reused. Returns a dict: ``peak``, the parameters
    the model holds plus the growth of the resident set during the fit, in bytes;
    ``need``, the parameters + z (of the non-input units) + a + the gradients of
    one batch; and ``ratio = peak / need``.
    """
    import subprocess
    import sys
    if not os.path.exists("/proc/self/clear_refs"):
        raise OSError("fit_memory reads /proc/self: Linux only")
    spec = PROBLEMS[problem] if isinstance(problem, str) else problem
    # A fixed mmap threshold: glibc otherwise raises it after the compiler frees large blocks,
    # and the fit's buffers then reuse freed heap pages instead of growing the resident set.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, spec.name, dtype, str(threads)],
                         capture_output=True, text=True, check=True, env=env)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    item = np.dtype(dtype).itemsize
    sizes = spec.layer_sizes
    need = got["params"] * 2 + spec.batch * (2 * sum(sizes) - sizes[0]) * item
    peak = got["params"] + got["growth"]
    return {"problem": spec.name, "dtype": dtype, "threads": threads, "peak": peak, "need": need,
            "ratio": peak / need}


def machine():
    import numba
    return {"machine": platform.processor() or platform.machine(), "cpu": _cpu_name(),
            "cores": numba.config.NUMBA_NUM_THREADS, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__}


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def run_grid(problems, backends, dtypes, repeats=7, progress=None):
    """Time one training step (the whole fit for ``article``) for every combination.

    Returns a list of dicts: problem, dtype, backend, seconds (median per step),
    gflops, and ``unit`` ("step" or "fit of N steps"). Combinations whose
    backend is not importable are left out. The backends of one problem and dtype
    are timed round by round, interleaved (see :func:`median_times`).
    """
    results = []
    have = set(available_backends())
    for name in problems:
        problem = PROBLEMS[name]
        whole = name == "article"
        steps = problem.fit_steps if whole else 1
        for dtype in dtypes:
            runners = {}
            for backend in backends:
                if whole and backend == "loops-parallel" and fits_tiny(problem):
                    continue                          # fit runs the same kernel at any thread count
                if progress is not None:
                    progress(f"{name} {dtype} {backend}")
                if backend in have:
                    runners[backend] = make_runner(problem, backend, dtype)
            fns = [r.fit if whole else r.step for r in runners.values()]
            before = [getattr(r, "prepare", None) for r in runners.values()]
            for backend, seconds in zip(runners, median_times(fns, repeats, before=before)):
                results.append({
                    "problem": name, "dtype": dtype, "backend": backend, "seconds": seconds,
                    "unit": f"fit of {steps} steps" if whole else "step",
                    "seconds_per_step": seconds / steps,
                    "gflops": problem.flops * steps / seconds / 1e9,
                })
            del runners, fns, before                  # free one problem's buffers before the next
    return results


def ratios(results):
    """Per (problem, dtype): time of every backend divided by the time of the fastest loops variant."""
    table = {}
    for r in results:
        table.setdefault((r["problem"], r["dtype"]), {})[r["backend"]] = r["seconds"]
    out = {}
    for key, times in table.items():
        loops = [t for b, t in times.items() if b.startswith("loops")]
        out[key] = {b: t / min(loops) for b, t in times.items()} if loops else {}
    return out


def format_table(results):
    """An aligned text table: median time, GFLOP/s, speed relative to NumPy and to the best loops."""
    rel = ratios(results)
    rows = [("problem", "dtype", "backend", "median", "per", "GFLOP/s", "vs NumPy", "loops speed-up")]
    for r in results:
        key = (r["problem"], r["dtype"])
        numpy_time = next((x["seconds"] for x in results if (x["problem"], x["dtype"]) == key
                           and x["backend"] == "vectorized"), None)
        t = r["seconds"]
        rows.append((r["problem"], r["dtype"], r["backend"], format_seconds(t), r["unit"],
                     f"{r['gflops']:.1f}",
                     f"{numpy_time / t:.2f}x" if numpy_time else "-",
                     f"{rel[key][r['backend']]:.2f}x" if r["backend"] in rel[key]
                     and not r["backend"].startswith("loops") else "-"))
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if c >= 3 else cell.ljust(w) for c, (cell, w) in
                       enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_seconds(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def to_json(results, rounds=None, load_average=None):
    """The results as JSON, with the machine, the rounds of each median, the 1-minute load
    average before the run, and each problem's network and batch."""
    problems = {r["problem"] for r in results}
    return json.dumps({
        "machine": machine(), "rounds": rounds, "load_average_before": load_average,
        "problems": {p.name: {"layer_sizes": list(p.layer_sizes), "batch": p.batch,
                              "activations": list(p.activations), "loss": p.loss,
                              "fit_steps": p.fit_steps} for p in PROBLEMS.values() if p.name in problems},
        "results": results}, indent=2)


def plot(results, path):
    """Bar chart: speed of every backend relative to NumPy, per problem and dtype (log scale)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("--plot needs matplotlib: pip install 'bpfast[plot]'")
        return False
    keys = list(dict.fromkeys((r["problem"], r["dtype"]) for r in results))
    backends = list(dict.fromkeys(r["backend"] for r in results))
    speed = {(r["problem"], r["dtype"], r["backend"]): r["seconds"] for r in results}
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(keys)), 4))
    width = 0.8 / len(backends)
    for b, backend in enumerate(backends):
        values = []
        for problem, dtype in keys:
            numpy_time = speed.get((problem, dtype, "vectorized"))
            own = speed.get((problem, dtype, backend))
            values.append(numpy_time / own if numpy_time and own else 0)
        ax.bar(np.arange(len(keys)) + b * width, values, width, label=backend)
    ax.axhline(1, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(keys)) + 0.4 - width / 2)
    ax.set_xticklabels([f"{p}\n{d}" for p, d in keys])
    ax.set_ylabel("speed relative to NumPy (higher is faster)")
    ax.set_title(f"bpfast bench: {_cpu_name()}")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")
    return True


def scaling(path, dtype="float64", backends=("loops", "loops-parallel", "vectorized"), repeats=3,
            progress=None):
    """Plot time per step against batch size (784-128-10) and hidden width (784-W-10, batch 256).

    Returns the measurements as ``{"batch": {backend: [(x, seconds)]}, "width": {...}}``.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sweeps = {
        "batch": [(b, Problem(f"b{b}", (784, 128, 10), b, _hidden(1), "cross_entropy", 1e-3, 1))
                  for b in (1, 4, 16, 64, 256, 1024)],
        "width": [(w, Problem(f"w{w}", (784, w, 10), 256, _hidden(1), "cross_entropy", 1e-3, 1))
                  for w in (16, 32, 64, 128, 256, 512, 1024)],
    }
    have = set(available_backends())
    data = {name: {b: [] for b in backends if b in have} for name in sweeps}
    for name, points in sweeps.items():
        for x, problem in points:
            for backend in data[name]:
                if progress is not None:
                    progress(f"{name} {x} {backend}")
                runner = make_runner(problem, backend, dtype)
                if hasattr(runner, "prepare"):
                    runner.prepare()
                data[name][backend].append((x, median_time(runner.step, repeats)))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    labels = {"batch": "batch size (network 784-128-10)", "width": "hidden width (784-W-10, batch 256)"}
    for ax, (name, series) in zip(axes, data.items()):
        for backend, points in series.items():
            xs, ts = zip(*points)
            ax.plot(xs, np.array(ts) * 1e3, marker="o", label=backend)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(labels[name])
        ax.set_ylabel(f"time per step (ms), {dtype}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"bpfast bench --scaling: {_cpu_name()}, {machine()['cores']} cores")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")
    return data
