"""The hot paths that skip work a cache remembers must agree with the slow paths."""

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad import multilinear


def test_einsum_spec_cache_agrees_and_still_validates():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    multilinear._SPECS.clear()
    first = ea.einsum("ij,jk->ik", a, b)  # slow path, remembers the spec
    assert ("ij,jk->ik", (2, 3), (3, 4)) in multilinear._SPECS
    np.testing.assert_array_equal(ea.einsum("ij,jk->ik", a, b), first)  # cached path
    np.testing.assert_allclose(first, a @ b)
    # another shape under the same subscripts is checked again, not served from the cache
    with pytest.raises(ValueError, match="operand"):
        ea.einsum("ij,jk->ik", a, rng.standard_normal((4, 4)))
    # keywords that change the result bypass the cache
    out = np.empty((2, 4))
    assert ea.einsum("ij,jk->ik", a, b, out=out) is out
    assert ea.einsum("ij,jk->ik", a, b, dtype=np.float32, casting="same_kind").dtype == np.float32
    assert ea.einsum("ij,jk->ik", a, b, order="F").flags.f_contiguous
    # a 0-d result is a numpy scalar on both paths
    assert isinstance(ea.einsum("i,i->", a[0], a[0]), np.floating)
    assert isinstance(ea.einsum("i,i->", a[0], a[0]), np.floating)
    # a non-numeric operand with a cached key is still refused
    with pytest.raises(TypeError, match="operand 1"):
        ea.einsum("ij,jk->ik", a, b.astype(object))
    # traced operands on the cached path differentiate as before
    g = ea.grad(lambda x: ea.einsum("ij,jk->", x, b))(a)
    np.testing.assert_allclose(g, np.broadcast_to(b.sum(axis=1), (2, 3)))


def test_einsum_spec_cache_is_bounded():
    multilinear._SPECS.clear()
    for n in range(1, multilinear._SPECS_MAX + 10):
        multilinear._remember_spec("i->", [np.empty(n)], None)
    assert len(multilinear._SPECS) <= multilinear._SPECS_MAX
    multilinear._SPECS.clear()
