"""The hot paths that skip work a cache remembers must agree with the slow paths."""

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad.numpy import multilinear


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


def _log_softmax_composite(x, axis):
    """The composite log_softmax was before it became one node: x - logsumexp(x)."""
    return x - ea.logsumexp(x, axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0, (0, 2), None])
def test_log_softmax_node_matches_composite(axis):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 5)) * 5
    got = ea.log_softmax(x, axis=axis)
    np.testing.assert_allclose(got, _log_softmax_composite(x, axis), rtol=1e-13, atol=1e-13)
    u = rng.standard_normal(x.shape)
    g = ea.grad(lambda x: ea.sum(u * ea.log_softmax(x, axis=axis)))(x)
    want = ea.grad(lambda x: ea.sum(u * _log_softmax_composite(x, axis)))(x)
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-13)
    ea.testing.check_grads(lambda x: ea.log_softmax(x, axis=axis), (x,), order=2,
                           modes=("rev", "fwd"))


def test_log_softmax_node_edge_values():
    x = np.array([[1e4, 0.0, -1e4], [-np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf],
                  [np.nan, 0.0, 1.0], [np.inf, 0.0, 1.0]])
    with np.errstate(invalid="ignore"):  # inf - inf, in both
        want = _log_softmax_composite(x, -1)
        got = ea.log_softmax(x, axis=-1)
    np.testing.assert_allclose(got, want, rtol=1e-15)
    f32 = ea.log_softmax(x[:2].astype(np.float32))
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32, want[:2].astype(np.float32), rtol=1e-6)
    # the composite still serves integer input (float64 result) and empty axes
    np.testing.assert_allclose(ea.log_softmax(np.array([0, 0])), np.log([0.5, 0.5]))
    assert ea.log_softmax(np.zeros((2, 0)), axis=-1).shape == (2, 0)
