"""The ``bpfast`` command: ``demo`` (the article's run), ``train`` (real data), ``explain``, ``check``."""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

from . import bench, datasets
from .datasets import ARTICLE_SEED as DEMO_SEED, ARTICLE_X, ARTICLE_Y
from ._config import ACTIVATIONS, BACKENDS, DTYPES, INITS, LOSSES
from .check import run_check
from .equivalence import check_equivalence
from .explain import MAX_BATCH, example_data, example_net, explain
from .model import MLP



def _integer(minimum, what, maximum=None):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}")
        return value
    return parse


_positive_int = _integer(1, "a positive integer")
_seed = _integer(0, "a non-negative integer")
# Steps and epochs: fit keeps a cost per epoch, so a count far beyond any run's length
# failed inside fit, after the output had started, naming fit's 'epochs'.
_MAX_COUNT = 10**8
_count = _integer(1, f"a positive integer up to {_MAX_COUNT}", _MAX_COUNT)
_MAX_REPEATS = 1000                                  # timed runs: each may be a whole fit
_repeats = _integer(1, f"a positive integer up to {_MAX_REPEATS}", _MAX_REPEATS)


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text!r}")
    return value


def _fraction(text):
    value = _positive_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1; got {text!r}")
    return value


def _widths(text):
    try:
        widths = [int(w) for w in text.split(",")]
    except ValueError:
        widths = []
    if not widths or any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"must be comma-separated positive integers such as 32 or "
                                         f"64,32; got {text!r}")
    return widths


def _output_path(text):
    """A file written at the end: fail now, not after the work, if it cannot be written."""
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: {folder} is not a writable folder")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: it is a folder")
    return text


def _plot_path(text):
    """--plot: needs matplotlib (the plot extra) and a .png name; checked before any work."""
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"must be a .png file name; got {text!r}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise argparse.ArgumentTypeError("needs matplotlib: pip install 'bpfast[plot]'") from None
    return _output_path(text)


# ---------------------------------------------------------------------- demo
def demo(args):
    X, Y = ARTICLE_X, ARTICLE_Y
    rule = "sum" if args.exact_bias else "mean"
    net = MLP([3, 3, 2], activation="sigmoid", loss="sse", init="uniform", seed=args.seed,
              dtype=args.dtype)
    start = MLP.from_params(net.weights, net.biases, dtype=args.dtype)
    print("The article's run: a 3-3-2 sigmoid network, cost (2) = sum of squared errors")
    print(f"  x = {X.tolist()}, y = {Y.tolist()}")
    print(f"  w ~ U[0,1) (seed {args.seed}), b = 0, learning rate {args.lr}, {args.steps} full-batch "
          f"steps, {args.dtype}")
    print(f"  bias gradient: {rule!r} "
          + ("(exact: summed over the batch)" if rule == "sum"
             else "(the article's rule: averaged over the batch; --exact-bias for the exact gradient)"))
    print()
    costs = net.fit(X, Y, learning_rate=args.lr, epochs=args.steps, bias_gradient=rule)
    print(f"{'step':>6}  cost")
    print(f"{0:>6}  {start.cost(X, Y):.6f}")
    for step in range(1, args.steps + 1):
        if step % args.every == 0 or step in (1, args.steps):
            print(f"{step:>6}  {costs[step - 1]:.6f}")
    print()
    out = net.forward(X)
    print("final outputs vs targets")
    for row_out, row_y in zip(out, Y):
        print(f"  {np.array2string(row_out, precision=4, floatmode='fixed')}   target {row_y.tolist()}")
    print()
    print(check_equivalence(net, X, Y))
    print()

    def run(backend):
        trial = MLP.from_params(start.weights, start.biases, dtype=args.dtype)
        trial.fit(X, Y, learning_rate=args.lr, epochs=args.steps, bias_gradient=rule, backend=backend)

    print(f"time for {args.steps} steps, median of {args.repeats} runs (after warm-up runs):")
    medians = {}
    for backend in BACKENDS:
        medians[backend] = bench.median_time(lambda b=backend: run(b), args.repeats, min_time=0)
    for backend, t in medians.items():
        print(f"  {backend:<11} {bench.format_seconds(t):>10}")
    print(f"  loops / vectorized speed ratio: {medians['vectorized'] / medians['loops']:.1f}x")
    if args.plot:
        _plot(args.plot, {"cost": np.concatenate([[start.cost(X, Y)], costs])}, "step",
              "The article's run: cost (2)")
    return 0


# ---------------------------------------------------------------------- train
_HEADERS = {"infer": "infer", "yes": True, "no": False}     # --header: load_csv's header=


def _load(args):
    if args.data == "digits":
        if args.target is not None:
            raise ValueError(f"--target picks the target column of a CSV file; the bundled digits have "
                             f"their own (got --target {args.target!r})")
        if args.header != "infer":
            raise ValueError(f"--header is about a CSV file; the bundled digits have no header line "
                             f"(got --header {args.header})")
        return datasets.load_digits(), "UCI digits (bundled, CC BY 4.0)"
    target, header = args.target, _HEADERS[args.header]
    if target is None:
        return datasets.load_csv(args.data, -1, header=header), args.data
    if not target.lstrip("-").isdecimal():             # a column name
        if header is False:
            raise ValueError(f"--target {target!r} is a column name, which needs a header line; leave out "
                             "--header no, or give the column's index")
        return datasets.load_csv(args.data, target, header=header), args.data
    try:                                               # a number is a column index ...
        return datasets.load_csv(args.data, int(target), header=header), args.data
    except datasets.TargetIndexError as by_index:
        try:                                           # ... or, out of range, a column's name
            return datasets.load_csv(args.data, target, header=header), args.data
        except ValueError:
            raise ValueError(f"{by_index}; no column is named {target!r} either") from None


def train(args):
    data, label = _load(args)
    if len(data.target_names) < 2:
        raise ValueError(f"the target of {label} holds only {len(data.target_names)} class "
                         f"({', '.join(data.target_names)}): a classifier needs at least 2")
    X_train, X_test, y_train, y_test = datasets.train_test_split(
        data.data, data.target, test_size=args.test_size, seed=args.seed)
    scaler = datasets.Standardizer().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    n_classes = len(data.target_names)
    Y_train = datasets.one_hot(y_train, n_classes)
    output = "softmax" if args.loss == "cross_entropy" else "sigmoid"
    sizes = [X_train.shape[1], *args.hidden, n_classes]
    net = MLP(sizes, activation=[args.activation] * len(args.hidden) + [output], loss=args.loss,
              seed=args.seed, dtype=args.dtype)
    print(f"{label}: {data.data.shape[0]} samples, {X_train.shape[1]} features, {n_classes} classes; "
          f"train {len(y_train)} / test {len(y_test)} (stratified, seed {args.seed}), inputs standardised")
    print(f"network {'-'.join(map(str, sizes))}, {'/'.join(net.activations)}, loss {args.loss}, "
          f"{args.dtype}, backend {args.backend}; lr {args.lr}, batch {args.batch_size}, "
          f"{args.epochs} epoch{'' if args.epochs == 1 else 's'}")

    bar = None
    if not args.no_progress:
        from tqdm import tqdm
        bar = tqdm(total=args.epochs, unit="epoch", file=sys.stderr, leave=False, disable=None)
    # One compiled call per epoch, so the bar and the accuracy curve see every epoch; the
    # network's own shuffle stream (seeded above) carries over, so this equals one fit call.
    stamps, costs, accuracy = [time.perf_counter()], [], []
    try:
        for _ in range(args.epochs):
            costs.append(net.fit(X_train, Y_train, learning_rate=args.lr, epochs=1,
                                 batch_size=args.batch_size, backend=args.backend)[0])
            stamps.append(time.perf_counter())
            if args.plot:
                accuracy.append(100 * float(np.mean(net.predict(X_test) == y_test)))
            if bar is not None:
                bar.set_postfix(cost=f"{costs[-1]:.4g}")
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    epoch_times = np.diff(stamps)
    train_acc = float(np.mean(net.predict(X_train) == y_train))
    test_acc = float(np.mean(net.predict(X_test) == y_test))
    print(f"final training cost {costs[-1]:.6g}")
    print(f"accuracy: train {train_acc:.2%}, test {test_acc:.2%}")
    rest = f", median of the others {bench.format_seconds(float(np.median(epoch_times[1:])))}" \
        if len(epoch_times) > 1 else ""
    first = " (includes JIT compilation or cache load)" if args.backend == "loops" else ""
    print(f"time per epoch: first {bench.format_seconds(epoch_times[0])}{first}{rest}; "
          f"total {bench.format_seconds(stamps[-1] - stamps[0])}")
    if args.save:
        path = args.save if str(args.save).endswith(".npz") else f"{args.save}.npz"   # as np.savez names it
        net.save(path)
        print(f"saved the trained network to {path}")
    if args.plot:
        _plot(args.plot, {"training cost": np.array(costs), "test accuracy (%)": np.array(accuracy)},
              "epoch",
              f"bpfast train {args.data}")
    return 0


def _plot(path, series, xlabel, title):
    """Line plots side by side; the x axis counts from 1 (``first_x`` 0 for the starting point)."""
    import matplotlib                                  # checked by _plot_path before any work
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series), 3.5), squeeze=False)
    for ax, (name, values) in zip(axes[0], series.items()):
        first = 0 if xlabel == "step" else 1           # the demo's curve starts at step 0
        ax.plot(np.arange(first, first + len(values)), values)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name)
        if name.endswith("cost"):
            ax.set_yscale("log")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


# ---------------------------------------------------------------------- explain
def _samples_arg(option, text):
    """--x / --y: numbers separated by ',' within a sample and ';' between samples."""
    if text is None:
        return None
    try:
        return np.array([[float(v) for v in row.split(",")] for row in text.split(";")])
    except ValueError:
        raise ValueError(f"{option} must be numbers separated by ',' within a sample and ';' between "
                         f"samples, such as 1,2,3;3,2,1; got {text!r}") from None


def explain_command(args):
    x, y = _samples_arg("--x", args.x), _samples_arg("--y", args.y)
    if (x is None) != (y is None):
        raise ValueError("give both --x and --y, or neither")
    seed = DEMO_SEED if args.seed is None else args.seed
    if args.model:
        clash = [f"--{name}" for name in ("layers", "activation", "loss", "init", "dtype")
                 if getattr(args, name) is not None]
        if clash:
            raise ValueError(f"--model takes the network from the file; drop {', '.join(clash)}")
        net, about = MLP.load(args.model), f"Parameters: loaded from {args.model}."
    else:
        activation = args.activation or "sigmoid"
        net, about = example_net(args.layers, activation.split(",") if "," in activation else activation,
                                 args.loss or "sse", args.init or "uniform", seed, args.dtype or "float64")
    if x is None:
        x, y, data = example_data(net.layer_sizes[0], net.layer_sizes[-1], seed, args.batch)
        about += " " + data
    else:
        about += " Data: --x and --y."
    result = explain(net, x, y, batch=args.batch, about=about)
    if args.format == "json":
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(result.to_markdown() if args.format == "markdown" else result.to_text(), end="")
    return 0


# ---------------------------------------------------------------------- check
def check_command(args):
    print(f"bpfast check: running the {'quick' if args.quick else 'full'} grid (the first run compiles "
          f"the kernels)...", file=sys.stderr)
    result = run_check(quick=args.quick, seed=args.seed)
    print(result)
    return 0 if result.passed else 1


# ---------------------------------------------------------------------- parser
def build_parser():
    parser = argparse.ArgumentParser(prog="bpfast", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="the article's 3-3-2 run, both backends, with the equivalence report")
    p.add_argument("--seed", type=_seed, default=DEMO_SEED, help=f"seed of the U[0,1) start (default {DEMO_SEED})")
    p.add_argument("--steps", type=_count, default=1000, help="full-batch steps (default 1000)")
    p.add_argument("--lr", type=_positive_float, default=0.1, help="learning rate (default 0.1)")
    p.add_argument("--every", type=_positive_int, default=100, help="print the cost every N steps")
    p.add_argument("--exact-bias", action="store_true",
                   help="exact bias gradient (summed over the batch) instead of the article's mean")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float64")
    p.add_argument("--repeats", type=_repeats, default=5,
                   help="timing runs per backend (median; default 5, at most 1000)")
    p.add_argument("--plot", metavar="FILE.png", type=_plot_path, help="write the cost curve (needs matplotlib)")
    p.set_defaults(func=demo)

    p = sub.add_parser("train", help="train on the bundled digits or on a CSV file")
    p.add_argument("data", help="'digits' (bundled UCI digits) or the path of a CSV file")
    p.add_argument("--target", help="CSV target column: a header name or an index (default: last); a "
                                    "number is an index, or a name if no column has that index")
    p.add_argument("--header", choices=sorted(_HEADERS), default="infer",
                   help="whether the CSV's first line names the columns (default: infer: it does if "
                        "a field is not a number; say yes for names that are all numbers)")
    p.add_argument("--hidden", type=_widths, default=[32], metavar="W[,W...]",
                   help="hidden layer widths (default 32)")
    p.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "softmax"], default="tanh",
                   help="hidden activation (default tanh)")
    p.add_argument("--loss", choices=sorted(LOSSES), default="cross_entropy",
                   help="loss (default cross_entropy, with a softmax output; else a sigmoid output)")
    p.add_argument("--epochs", type=_count, default=30)
    p.add_argument("--batch-size", type=_positive_int, default=32)
    p.add_argument("--lr", type=_positive_float, default=0.01, help="learning rate (default 0.01)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float64")
    p.add_argument("--backend", choices=BACKENDS, default="loops")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the split, the start and the shuffling")
    p.add_argument("--test-size", type=_fraction, default=0.2, help="fraction held out (default 0.2)")
    p.add_argument("--save", metavar="MODEL.npz", type=_output_path, help="save the trained network")
    p.add_argument("--plot", metavar="FILE.png", type=_plot_path, help="write cost and test accuracy per epoch")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=train)

    p = sub.add_parser("explain", help="one backward pass, element by element (5)-(15), next to the "
                                       "matrix form (16)-(24)")
    p.add_argument("--layers", type=_widths, metavar="N,N[,N...]",
                   help="layer sizes, input first (default 3,3,2: the article's network)")
    p.add_argument("--activation", metavar="NAME[,NAME...]",
                   help=f"one activation for every layer, or one per weight layer, from "
                        f"{', '.join(ACTIVATIONS)} (default sigmoid)")
    p.add_argument("--loss", choices=sorted(LOSSES), help="default sse, the article's (2)")
    p.add_argument("--init", choices=INITS, help="default uniform, the article's U[0,1) start")
    p.add_argument("--seed", type=_seed, help=f"seed of the start and of drawn samples (default {DEMO_SEED}, "
                                            f"the start of bpfast demo)")
    p.add_argument("--dtype", choices=sorted(DTYPES), help="default float64")
    p.add_argument("--model", metavar="MODEL.npz", help="explain a saved network (bpfast train --save)")
    p.add_argument("--x", metavar="X", help="the sample, comma-separated (--x=-1,2 for a leading minus); "
                                            "with --batch, samples separated by ';' (default: the "
                                            "article's for a 3-input, 2-output net, else drawn from --seed)")
    p.add_argument("--y", metavar="Y", help="the targets, in the form of --x")
    p.add_argument("--batch", action="store_true",
                   help=f"every sample (at most {MAX_BATCH}): how the per-sample gradients add up, and "
                        f"the article's averaged bias gradient (erratum 1)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="aligned text tables (default), Markdown, or JSON")
    p.set_defaults(func=explain_command)

    p = sub.add_parser("check", help="verify the loop kernels here: equivalence and gradient checks over "
                                     "a grid of random networks")
    p.add_argument("--quick", action="store_true",
                   help="a small grid of 32 cases: about a second once the kernels are compiled, under a "
                        "minute with the first compilation")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the grid (default 0)")
    p.set_defaults(func=check_command)

    p = sub.add_parser("bench", help="race the loop kernels against NumPy (and PyTorch, JAX when "
                                     "installed): median time per step, GFLOP/s, ratios")
    p.add_argument("--problems", type=_names(bench.PROBLEMS), default=list(bench.PROBLEMS),
                   help=f"comma-separated, from {','.join(bench.PROBLEMS)} (default: all)")
    p.add_argument("--backends", type=_names(bench.BACKENDS), default=list(bench.BACKENDS),
                   help=f"comma-separated, from {','.join(bench.BACKENDS)} (default: all that are "
                        f"installed)")
    p.add_argument("--dtypes", type=_names(DTYPES), default=sorted(DTYPES, reverse=True),
                   help="comma-separated, from float64,float32 (default: both)")
    p.add_argument("--repeats", type=_repeats, default=7,
                   help="timed rounds per case (median; default 7, at most 1000)")
    p.add_argument("--json", metavar="FILE.json", type=_output_path, help="also write the results as JSON")
    p.add_argument("--plot", metavar="FILE.png", type=_plot_path, help="bar chart of the speed-ups (needs matplotlib)")
    p.add_argument("--scaling", metavar="FILE.png", type=_plot_path,
                   help="also plot time per step against batch size and width (needs matplotlib)")
    p.add_argument("--memory", action="store_true",
                   help="also measure the peak memory of a fit against parameters + z, a + gradients "
                        "(mnist and large; Linux: it reads /proc)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=bench_command)
    return parser


def _names(allowed):
    def parse(text):
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"must be comma-separated names from {','.join(allowed)}; "
                                             f"got {text!r}")
        return names
    return parse


def bench_command(args):
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0   # before we add our own
    cases = [(p, d, b) for p in args.problems for d in args.dtypes for b in args.backends]
    bar = None
    if not args.no_progress:
        from tqdm import tqdm
        bar = tqdm(total=len(cases), unit="case", file=sys.stderr, leave=False, disable=None)

    def progress(label):
        if bar is not None:
            bar.set_description(label)
            bar.update(1)

    try:
        results = bench.run_grid(args.problems, args.backends, args.dtypes, args.repeats, progress)
    finally:
        if bar is not None:
            bar.close()
    info = bench.machine()
    if load > 0.5:
        print(f"warning: load average {load:.1f} before this run: other work shares these cores, so "
              f"timings (of the parallel kernels above all) are not clean", file=sys.stderr)
    missing = [b for b in args.backends if b not in bench.available_backends()]
    print(f"bpfast bench on {info['cpu']}, {info['cores']} cores; numpy {info['numpy']}, "
          f"numba {info['numba']}; median of {args.repeats} rounds")
    if missing:
        print(f"not installed, left out: {', '.join(missing)} (pip install 'bpfast[compare]' for "
              f"torch, 'bpfast[jax]' for jax)")
    if not results:
        why = ("none of the chosen backends is installed" if len(missing) == len(args.backends) else
               "nothing to time: loops-parallel is left out for article (fit runs bpfast.tiny at any "
               "thread count); choose --backends loops")
        print(f"bpfast bench: error: {why}", file=sys.stderr)
        return 2
    print(bench.format_table(results))
    print("vs NumPy: NumPy's time / this backend's (above 1: faster than NumPy). loops speed-up, for "
          "the peers: this backend's time / the faster loops variant's.")
    if "article" in args.problems and "loops-parallel" in args.backends:
        print("article: fit trains a net this small with the kernel compiled for its shape "
              "(bpfast.tiny) at any thread count, so loops-parallel is left out.")
    if args.json:
        with open(args.json, "w") as f:
            f.write(bench.to_json(results, args.repeats, round(load, 2)))
        print(f"wrote {args.json}")
    if args.plot:
        bench.plot(results, args.plot)
    if args.scaling:
        bench.scaling(args.scaling, args.dtypes[0], [b for b in args.backends if b != "jax"])
    if args.memory:
        if {"mnist", "large"} & set(args.problems):
            print(_memory_table(args))
        else:
            print("--memory measures mnist and large (the small problems fit in a few memory pages): "
                  "add them to --problems")
    return 0


def _memory_table(args):
    """Peak memory of a fit, each in a fresh process; the small problems fit in a few pages."""
    lines = ["peak memory of a full-batch fit (loops): parameters held + growth of the resident set",
             "problem  dtype    threads      peak      need  peak / need",
             "-------  -------  -------  --------  --------  -----------"]
    for problem in [p for p in args.problems if p in ("mnist", "large")]:
        for dtype in args.dtypes:
            for threads in (1, 2):
                m = bench.fit_memory(problem, dtype, threads)
                lines.append(f"{problem:<7}  {dtype:<7}  {threads:>7}  {m['peak'] / 2**20:>5.1f} MiB  "
                             f"{m['need'] / 2**20:>5.1f} MiB  {m['ratio']:>11.2f}")
    lines.append("need: parameters + z (non-input units) + a + gradients of one batch")
    return "\n".join(lines)


def main(argv=None):
    args = build_parser().parse_args(argv)
    previous = warnings.formatwarning                # warnings as one line, like the errors (Python's
    warnings.formatwarning = (                       # format adds a file name and a line of bpfast's code)
        lambda message, category, *_, **__: f"bpfast {args.command}: warning: {message}\n")
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as err:
        print(f"bpfast {args.command}: error: {err}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = previous


if __name__ == "__main__":
    sys.exit(main())
