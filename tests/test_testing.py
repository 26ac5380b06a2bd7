"""check_grads itself: it must fail on wrong derivatives, naming argument, order and mode."""

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad.core import Primitive, unwrap

# a primitive with a deliberately wrong reverse rule (factor 3 instead of 2) and a
# right forward rule
_sq = Primitive("bad_square", lambda x: x * x)
_sq.def_vjp(lambda ans, x: lambda g: (ea.multiply(g, ea.multiply(x, 3.0)),))
_sq.def_jvp(lambda p, t, params: (_sq(p[0]), ea.multiply(t[0], ea.multiply(p[0], 2.0))))


def test_detects_wrong_first_order_reverse_rule():
    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(AssertionError, match=r"rev-mode derivative of order 1 with respect to "
                                             r"argument 1"):
        ea.check_grads(lambda a, x: a * _sq(x), (np.ones(3), x), order=1, modes=("rev",))
    ea.check_grads(lambda x: _sq(x), (x,), order=1, modes=("fwd",))  # its forward rule is right


def test_detects_wrong_second_order():
    # d/dx of (g * 3 x^2) is right only if x is treated as traced; a rule that freezes x to a
    # constant gives a right first order and a wrong (zero) second order
    frozen = Primitive("frozen_cube", lambda x: x ** 3)
    frozen.def_vjp(lambda ans, x: lambda g: (ea.multiply(g, 3.0 * unwrap(x) ** 2),))
    x = np.array([0.5, -1.0, 2.0])
    ea.check_grads(lambda x: frozen(x), (x,), order=1)
    with pytest.raises(AssertionError, match="order 2"):
        ea.check_grads(lambda x: frozen(x), (x,), order=2)


def test_argument_validation():
    with pytest.raises(ValueError, match="mode"):
        ea.check_grads(lambda x: x, (np.ones(2),), modes=("sideways",))
    with pytest.raises(TypeError, match="tuple"):
        ea.check_grads(lambda x: x, np.ones(2))
