"""Weight initialisers drawing from a seeded ``numpy.random.Generator``.

Each takes ``(rng, shape, fan_in, fan_out)`` (the fans are given explicitly, because the
layout of an einsum weight says nothing general about which axes are "in" and "out") and
returns a float64 array.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros", "ones",
           "as_generator"]


def as_generator(rng) -> np.random.Generator:
    """``rng`` as a Generator: an int seed (or None) makes a new one; a Generator is kept."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"expected a numpy.random.Generator or an int seed, got {type(rng).__name__}")


def _fans(shape, fan_in, fan_out, name):
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"{name}: negative size in shape {shape}")
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"{name}: fan_in and fan_out must be positive, got {fan_in}, {fan_out}")
    return shape


def glorot_uniform(rng, shape, fan_in: int, fan_out: int) -> np.ndarray:
    """Glorot/Xavier uniform: ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``.

    Examples:
        >>> import numpy as np
        >>> w = glorot_uniform(np.random.default_rng(0), (300, 200), 200, 300)
        >>> bool(np.abs(w).max() <= np.sqrt(6 / 500))
        True
    """
    shape = _fans(shape, fan_in, fan_out, "glorot_uniform")
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return as_generator(rng).uniform(-a, a, size=shape)


def glorot_normal(rng, shape, fan_in: int, fan_out: int) -> np.ndarray:
    """Glorot/Xavier normal: ``N(0, 2 / (fan_in + fan_out))``."""
    shape = _fans(shape, fan_in, fan_out, "glorot_normal")
    return as_generator(rng).normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def he_uniform(rng, shape, fan_in: int, fan_out: int = 1) -> np.ndarray:
    """He/Kaiming uniform (for ReLU layers): ``U(-a, a)`` with ``a = sqrt(6 / fan_in)``."""
    shape = _fans(shape, fan_in, fan_out, "he_uniform")
    a = math.sqrt(6.0 / fan_in)
    return as_generator(rng).uniform(-a, a, size=shape)


def he_normal(rng, shape, fan_in: int, fan_out: int = 1) -> np.ndarray:
    """He/Kaiming normal (for ReLU layers): ``N(0, 2 / fan_in)``.

    Examples:
        >>> import numpy as np
        >>> w = he_normal(np.random.default_rng(0), (400, 500), fan_in=500)
        >>> round(float(w.std() ** 2 * 500), 1)
        2.0
    """
    shape = _fans(shape, fan_in, fan_out, "he_normal")
    return as_generator(rng).normal(0.0, math.sqrt(2.0 / fan_in), size=shape)


def zeros(rng, shape, fan_in: int = 1, fan_out: int = 1) -> np.ndarray:
    """All zeros (for biases); ``rng`` is ignored."""
    return np.zeros(tuple(int(s) for s in shape))


def ones(rng, shape, fan_in: int = 1, fan_out: int = 1) -> np.ndarray:
    """All ones (for scales); ``rng`` is ignored."""
    return np.ones(tuple(int(s) for s in shape))


INITIALIZERS = {"glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
                "he_uniform": he_uniform, "he_normal": he_normal, "zeros": zeros, "ones": ones}


def get(init):
    """An initialiser from its name, or ``init`` itself if it is callable."""
    if callable(init):
        return init
    try:
        return INITIALIZERS[init]
    except (KeyError, TypeError):
        raise ValueError(f"unknown initialiser {init!r}; choose one of "
                         f"{sorted(INITIALIZERS)} or pass a function") from None
