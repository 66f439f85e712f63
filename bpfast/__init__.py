"""bpfast: backpropagation written twice, as Numba scalar loops and as NumPy matrix algebra.

The public names are re-exported here; the loop kernels are in
:mod:`bpfast.kernels`, the matrix form in :mod:`bpfast.reference`.
"""

from . import datasets, kernels, reference
from .datasets import load_csv, load_digits, one_hot
from .equivalence import EquivalenceError, EquivalenceReport, GradcheckReport, check_equivalence, gradcheck
from .explain import explain
from .model import MLP

__version__ = "0.1.0"

__all__ = [
    "MLP", "check_equivalence", "gradcheck", "explain", "EquivalenceError", "EquivalenceReport",
    "GradcheckReport", "load_digits", "load_csv", "one_hot", "datasets", "kernels", "reference",
    "__version__",
]
