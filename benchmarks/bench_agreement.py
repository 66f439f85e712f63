"""How closely the loop kernels agree with the matrix form, tracked over time."""

import bpfast

from .common import DTYPES, PROBLEMS
from bpfast.bench import problem_data


class Agreement:
    params = [list(PROBLEMS), [1, 2], DTYPES]
    param_names = ["problem", "threads", "dtype"]
    unit = "relative difference"

    def setup(self, problem, threads, dtype):
        import numba
        if threads > numba.config.NUMBA_NUM_THREADS:
            raise NotImplementedError("not enough cores")
        spec = PROBLEMS[problem]
        X, Y, weights, biases = problem_data(spec, dtype)
        self.net = bpfast.MLP.from_params(weights, biases, activation=list(spec.activations),
                                          loss=spec.loss, dtype=dtype, threads=threads)
        self.X, self.Y = X, Y

    def track_max_rel_difference(self, problem, threads, dtype):
        """Largest normwise relative difference over z, a, delta, dC/dw, dC/db and C."""
        return bpfast.check_equivalence(self.net, self.X, self.Y, raise_on_mismatch=False).max_rel
