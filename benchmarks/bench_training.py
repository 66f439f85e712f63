"""Loops vs. BLAS vs. frameworks on the same network: forward, gradients, one step, a whole fit."""

import os

from bpfast.bench import fit_memory

from .common import BACKENDS, DTYPES, PROBLEMS, runner_or_skip


class Training:
    params = [list(PROBLEMS), list(BACKENDS), DTYPES]
    param_names = ["problem", "backend", "dtype"]
    timeout = 600

    def setup(self, problem, backend, dtype):
        self.runner = runner_or_skip(problem, backend, dtype)
        self.runner.fit()                              # JAX compiles its fori_loop here

    def time_forward(self, problem, backend, dtype):
        self.runner.forward()

    def time_gradients(self, problem, backend, dtype):
        self.runner.gradients()

    def time_step(self, problem, backend, dtype):
        self.runner.step()

    def time_fit(self, problem, backend, dtype):
        self.runner.fit()


class Memory:
    params = [list(PROBLEMS), ["loops", "loops-parallel", "vectorized"], DTYPES]
    param_names = ["problem", "backend", "dtype"]

    def setup(self, problem, backend, dtype):
        self.runner = runner_or_skip(problem, backend, dtype)

    def peakmem_fit(self, problem, backend, dtype):
        self.runner.fit()


class MemoryRatio:
    """Peak memory of a fit (each in a fresh process) over parameters + z, a + gradients."""
    params = [[p for p in ("mnist", "large") if p in PROBLEMS] or ["mnist"], DTYPES]
    param_names = ["problem", "dtype"]
    unit = "peak / need"
    timeout = 300

    def setup(self, problem, dtype):
        if not os.path.exists("/proc/self/clear_refs"):
            raise NotImplementedError("measured through /proc: Linux only")

    def track_fit_memory_ratio(self, problem, dtype):
        return fit_memory(problem, dtype)["ratio"]
