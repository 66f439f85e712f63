"""What every suite needs: the problems and runners live in the package (bpfast.bench),
so that `bpfast bench` and ASV time exactly the same code."""

import os

from bpfast.bench import BACKENDS, PROBLEMS as ALL_PROBLEMS, available_backends, make_runner  # noqa: F401

DTYPES = ["float64", "float32"]

# BPFAST_ASV_PROBLEMS=article,digits runs a subset (CI uses it to prove the suite runs, fast).
PROBLEMS = {name: ALL_PROBLEMS[name]
            for name in os.environ.get("BPFAST_ASV_PROBLEMS", ",".join(ALL_PROBLEMS)).split(",")}


def runner_or_skip(problem, backend, dtype):
    """A prepared, warmed-up runner; NotImplementedError (ASV's "skip") for a missing peer."""
    if backend not in available_backends():
        raise NotImplementedError(f"{backend} is not installed")
    runner = make_runner(problem, backend, dtype)
    if hasattr(runner, "prepare"):
        runner.prepare()
    # Numba compilation (or cache load) and the peers' tracing happen here, not in the timings.
    runner.forward()
    runner.gradients()
    runner.step()
    return runner
