"""Start-up: JIT compilation of the default path, and a new process with a warm on-disk cache.

Two nets: the article's 3-3-2, which ``fit`` trains with the kernel compiled for its shape
(``bpfast.tiny``), and a digits-sized 64-32-10 softmax net, which takes the general kernels.
"""

_FIT = """
import numpy as np
import bpfast
net = bpfast.MLP([3, 3, 2], init="uniform", seed=0)
net.fit(np.array([[1., 2, 3], [3, 2, 1]]), np.array([[1., 0], [0, 1]]), epochs=10)
"""

_FIT_GENERAL = """
import numpy as np
import bpfast
net = bpfast.MLP([64, 32, 10], activation=["tanh", "softmax"], loss="cross_entropy", seed=0)
net.fit(np.zeros((64, 64)), np.eye(10)[np.arange(64) % 10], epochs=2, batch_size=32)
"""

_EMPTY_CACHE = "import os, tempfile\nos.environ['NUMBA_CACHE_DIR'] = tempfile.mkdtemp()\n"


class Startup:
    timeout = 300
    repeat = (1, 3, 60.0)

    def timeraw_first_fit_compiles(self):
        """Import, compile the article net's fit with an empty cache, and run it."""
        return _EMPTY_CACHE + _FIT

    def timeraw_first_fit_compiles_general(self):
        """Import, compile the general kernels' fit (digits-sized net) with an empty cache, and run it."""
        return _EMPTY_CACHE + _FIT_GENERAL

    def timeraw_first_fit_cached(self):
        """Import and run the article net's fit in a new process with a warm cache."""
        return _FIT

    def timeraw_first_fit_cached_general(self):
        """Import and run the digits-sized fit in a new process with a warm cache."""
        return _FIT_GENERAL

    def setup_cache(self):
        import subprocess
        import sys
        for code in (_FIT, _FIT_GENERAL):                  # fill the on-disk cache
            subprocess.run([sys.executable, "-c", code], check=True)
