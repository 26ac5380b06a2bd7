"""ea.einsum as a drop-in for numpy.einsum on plain arrays: values, dtypes, options, errors."""

import numpy as np
import pytest

import einsum_ad as ea

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


FORWARD_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ba", [(2, 3)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii->", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("iji->ij", [(2, 3, 2)]),
    ("ij->i", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,ij,j->", [(2,), (2, 3), (3,)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij,...jk->...ik", [(3, 4), (4, 2)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),
    ("ij,ij->ij", [(2, 1), (2, 3)]),
    ("...,...", [(), (2,)]),
    ("", [()]),
    ("i,i", [(0,), (0,)]),
    ("ij->", [(0, 3)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 5), (5, 2)]),
    ("ab,bc,cd,da->", [(2, 3), (3, 4), (4, 5), (5, 2)]),
    ("ijk,jkl,lmi->m", [(2, 3, 4), (3, 4, 5), (5, 2, 2)]),
    ("i...->...", [(2, 3, 4)]),
]


@pytest.mark.parametrize("subscripts, shapes", FORWARD_CASES)
@pytest.mark.parametrize("optimize", ["auto", False, True, "greedy", "optimal", "dp"])
def test_forward_matches_numpy(subscripts, shapes, optimize):
    ops = [r(*s) for s in shapes]
    got = ea.einsum(subscripts, *ops, optimize=optimize)
    want = np.einsum(subscripts, *ops)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.shape(got) == np.shape(want)


def test_interleaved_form_and_explicit_paths():
    a, b, c = r(2, 3), r(3, 4), r(4, 5)
    want = a @ b @ c
    np.testing.assert_allclose(ea.einsum(a, [0, 1], b, [1, 2], c, [2, 3], [0, 3]), want)
    np.testing.assert_allclose(ea.einsum("ij,jk,kl->il", a, b, c, optimize=[(1, 2), (0, 1)]), want)
    path = np.einsum_path("ij,jk,kl->il", a, b, c)[0]  # numpy's ['einsum_path', ...] form
    np.testing.assert_allclose(ea.einsum("ij,jk,kl->il", a, b, c, optimize=path), want)


def test_sixty_indices_through_interleaved_form():
    # a chain of 60 matrices: 61 distinct labels; each pairwise step relabels locally
    n = 60
    mats = [np.eye(2) + 0.01 * r(2, 2) for _ in range(n)]
    args = []
    for i, m in enumerate(mats):
        args += [m, [i, i + 1]]
    got = ea.einsum(*args, [0, n])
    want = np.linalg.multi_dot(mats)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_dtypes_follow_numpy():
    a32, b32 = r(3, 3).astype(np.float32), r(3, 3).astype(np.float32)
    assert ea.einsum("ij,jk->ik", a32, b32).dtype == np.float32
    assert ea.einsum("ij,jk->ik", a32, r(3, 3)).dtype == np.float64
    ai = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(ea.einsum("ij->j", ai), np.einsum("ij->j", ai))
    c = r(2, 2) + 1j * r(2, 2)
    np.testing.assert_allclose(ea.einsum("ij,jk", c, c), c @ c)
    assert isinstance(ea.einsum("i,i", r(3), r(3)), np.floating)  # 0-d: a numpy scalar


def test_same_array_twice():
    x = r(4)
    np.testing.assert_allclose(ea.einsum("i,i->", x, x), x @ x)


def test_nan_and_inf_propagate_forward():
    x = np.array([1.0, np.inf, 2.0])
    y = np.array([0.0, 1.0, np.nan])
    np.testing.assert_array_equal(ea.einsum("i,i->i", x, y), np.einsum("i,i->i", x, y))
    assert ea.einsum("i->", x) == np.inf


@pytest.mark.parametrize("bad, exc, match", [
    ("abc", TypeError, r"operand 0 is str"),
    (None, TypeError, r"operand 0 is NoneType"),
    (np.array(["a", "b"]), TypeError, r"dtype <U1"),
    (np.array([None, 1.0], dtype=object), TypeError, r"dtype object"),
])
def test_non_numeric_operands_raise(bad, exc, match):
    with pytest.raises(exc, match=match):
        ea.einsum("i,i->", bad, np.ones(2))


def test_bad_optimize():
    with pytest.raises(TypeError, match="optimize"):
        ea.einsum("ij,jk", r(2, 3), r(3, 4), optimize=3.5)
    with pytest.raises(ValueError, match="unknown optimize"):
        ea.einsum("ij,jk,kl", r(2, 3), r(3, 4), r(4, 2), optimize="no-such-optimizer")
    with pytest.raises(ValueError, match="invalid contraction path"):
        ea.einsum("ij,jk,kl", r(2, 3), r(3, 4), r(4, 2), optimize=[(0, 5), (0, 1)])
    with pytest.raises(ValueError, match="leaves 2 operands"):
        ea.einsum("ij,jk,kl", r(2, 3), r(3, 4), r(4, 2), optimize=[(0, 1)])


def test_error_names_operands_and_sizes():
    with pytest.raises(ValueError, match=r"label 'j'.*size 3.*size 4.*\(2, 3\) and \(4, 5\)"):
        ea.einsum("ij,jk->ik", r(2, 3), r(4, 5))
    with pytest.raises(ValueError, match="name 2 operand"):
        ea.einsum("ij,jk->ik", r(2, 3))


def test_plan_cache_is_used():
    ea.clear_plan_cache()
    a, b, c = r(2, 3), r(3, 4), r(4, 5)
    ea.einsum("ij,jk,kl->il", a, b, c)
    ea.einsum("ab,bc,cd->ad", a, b, c)  # the same canonical spec: a hit
    info = ea.plan_cache_info()
    assert info["misses"] == 1 and info["hits"] == 1 and info["size"] == 1


def test_numpy_keywords_out_dtype_order_casting():
    a = r(2, 3)
    out = np.zeros((2, 2))
    assert ea.einsum("ij,kj->ik", a, a, out=out) is out
    np.testing.assert_allclose(out, a @ a.T)
    with pytest.raises(TypeError, match=r"cannot cast operand 0 from dtype float64 to float32"):
        ea.einsum("ij,kj->ik", a, a, dtype=np.float32)
    got = ea.einsum("ij,kj->ik", a, a, dtype=np.float32, casting="same_kind")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, a @ a.T, rtol=1e-6)
    assert ea.einsum("ij->ji", a, order="C").flags.c_contiguous
    assert ea.einsum("ij->ji", a, order="F").flags.f_contiguous
    with pytest.raises(ValueError, match="order"):
        ea.einsum("ij->ji", a, order="Z")
    with pytest.raises(ValueError, match=r"out has shape \(3,\)"):
        ea.einsum("ij->i", a, out=np.zeros(3))
    with pytest.raises(TypeError, match="out= cannot be used with traced"):
        ea.grad(lambda x: ea.einsum("i->", x, out=np.zeros(())))(np.ones(2))
