"""The two backends the namespace's own test modules run their tables on: NumPy, and
array-api-strict where installed (the backend that refuses anything outside the standard).

Shared by tests/test_namespace_manip.py, tests/test_namespace_stats.py and tests/test_fft.py.
"""

import numpy as np

from einsum_ad import backend as B

try:
    import array_api_strict
except ImportError:  # only NumPy then
    array_api_strict = None

BACKENDS = ["numpy"] + (["array_api_strict"] if array_api_strict is not None else [])


def _xp(name):
    """The array namespace of backend ``name``."""
    return np if name == "numpy" else array_api_strict


def _on(name, x):
    """A NumPy array as an array of backend ``name`` (anything else as it is)."""
    if name == "numpy" or not isinstance(x, np.ndarray):
        return x
    return array_api_strict.asarray(x)


def _np(x):
    """An array of any backend as a NumPy array."""
    b = B.of(x)
    return np.asarray(x if b is None else b.to_numpy(x))
