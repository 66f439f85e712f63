"""Start-up: JIT compilation of the default path, and a new process with a warm on-disk cache."""

_FIT = """
import numpy as np
import bpfast
net = bpfast.MLP([3, 3, 2], init="uniform", seed=0)
net.fit(np.array([[1., 2, 3], [3, 2, 1]]), np.array([[1., 0], [0, 1]]), epochs=10)
"""


class Startup:
    timeout = 300
    repeat = (1, 3, 60.0)

    def timeraw_first_fit_compiles(self):
        """Import, compile the default fit path with an empty cache, and run it."""
        setup = ("import os, tempfile\n"
                 "os.environ['NUMBA_CACHE_DIR'] = tempfile.mkdtemp()\n")
        return setup + _FIT

    def timeraw_first_fit_cached(self):
        """Import and run the default fit path in a new process with a warm cache."""
        return _FIT

    def setup_cache(self):
        import subprocess
        import sys
        subprocess.run([sys.executable, "-c", _FIT], check=True)   # fill the on-disk cache
