"""Every linear-algebra lowering against numpy, its derivatives, and its one einsum node.

One table of cases: each row is checked against numpy on plain arrays (values, shapes,
dtypes), with ``check_grads`` to second order in reverse and forward mode, and through
``make_graph`` to be the single einsum node it claims (plus the documented extra nodes).
"""

from __future__ import annotations

import numpy as np
import pytest

import einsum_ad as ea

E = ("einsum",)
SLICE = ("getitem", "einsum")  # diagonal/trace at an offset or of unequal axes
NORM = ("einsum", "sqrt")


def _np_norm(x, ord=None, axis=None, keepdims=False):
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


# (id, einsum_ad function, numpy function, operand shapes, recorded primitives)
CASES = [
    ("matmul", ea.matmul, np.matmul, [(3, 4), (4, 5)], E),
    ("matmul-1d-left", ea.matmul, np.matmul, [(4,), (2, 4, 5)], E),
    ("matmul-1d-right", ea.matmul, np.matmul, [(2, 3, 4), (4,)], E),
    ("matmul-1d-1d", ea.matmul, np.matmul, [(4,), (4,)], E),
    ("matmul-batch-broadcast", ea.matmul, np.matmul, [(2, 1, 3, 4), (5, 4, 2)], E),
    ("matmul-batch-size1", ea.matmul, np.matmul, [(1, 3, 4), (3, 4, 2)], E),
    ("dot-0d", ea.dot, np.dot, [(), (3, 2)], E),
    ("dot-1d", ea.dot, np.dot, [(3,), (3,)], E),
    ("dot-nd-1d", ea.dot, np.dot, [(2, 3), (3,)], E),
    ("dot-1d-nd", ea.dot, np.dot, [(3,), (2, 3, 4)], E),
    ("dot-nd-nd", ea.dot, np.dot, [(2, 3), (4, 3, 5)], E),
    ("vdot", ea.vdot, np.vdot, [(2, 3), (2, 3)], E),
    ("vdot-reshape", ea.vdot, np.vdot, [(2, 3), (3, 2)], ("reshape", "einsum")),
    ("inner", ea.inner, np.inner, [(2, 3), (4, 3)], E),
    ("inner-1d", ea.inner, np.inner, [(3,), (3,)], E),
    ("inner-0d", ea.inner, np.inner, [(), (2, 3)], E),
    ("outer", ea.outer, np.outer, [(3,), (4,)], E),
    ("outer-nd", ea.outer, np.outer, [(2, 3), ()], ("einsum", "reshape")),
    ("tensordot-2", ea.tensordot, np.tensordot, [(2, 3, 4), (3, 4, 5)], E),
    ("tensordot-0", lambda a, b: ea.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0),
     [(2,), (3,)], E),
    ("tensordot-pairs", lambda a, b: ea.tensordot(a, b, ([1, -1], [1, 0])),
     lambda a, b: np.tensordot(a, b, ([1, -1], [1, 0])), [(2, 3, 4), (4, 3, 5)], E),
    ("tensordot-int-pair", lambda a, b: ea.tensordot(a, b, (0, 1)),
     lambda a, b: np.tensordot(a, b, (0, 1)), [(3, 2), (4, 3)], E),
    ("kron", ea.kron, np.kron, [(2, 3), (4, 5)], ("einsum", "reshape")),
    ("kron-ndim", ea.kron, np.kron, [(3,), (2, 2)], ("einsum", "reshape")),
    ("kron-0d", ea.kron, np.kron, [(), (2, 2)], E),
    ("trace", ea.trace, np.trace, [(3, 3)], E),
    ("trace-axes", lambda a: ea.trace(a, 0, -1, 0), lambda a: np.trace(a, 0, -1, 0),
     [(3, 2, 3)], E),
    ("trace-offset", lambda a: ea.trace(a, 1), lambda a: np.trace(a, 1), [(3, 4)], SLICE),
    ("trace-offset-neg", lambda a: ea.trace(a, -2, 1, 2), lambda a: np.trace(a, -2, 1, 2),
     [(2, 4, 3)], SLICE),
    ("diagonal", ea.diagonal, np.diagonal, [(3, 3)], E),
    ("diagonal-axes", lambda a: ea.diagonal(a, 0, 2, 0), lambda a: np.diagonal(a, 0, 2, 0),
     [(4, 3, 4)], E),
    ("diagonal-rect", ea.diagonal, np.diagonal, [(2, 4)], SLICE),
    ("diagonal-offset", lambda a: ea.diagonal(a, -1, -1, -2),
     lambda a: np.diagonal(a, -1, -1, -2), [(2, 3, 4)], SLICE),
    ("transpose", ea.transpose, np.transpose, [(2, 3, 4)], E),
    ("transpose-axes", lambda a: ea.transpose(a, (1, -1, 0)),
     lambda a: np.transpose(a, (1, -1, 0)), [(2, 3, 4)], E),
    ("permute_dims", lambda a: ea.permute_dims(a, (2, 0, 1)),
     lambda a: np.permute_dims(a, (2, 0, 1)), [(2, 3, 4)], E),
    ("swapaxes", lambda a: ea.swapaxes(a, 0, -1), lambda a: np.swapaxes(a, 0, -1),
     [(2, 3, 4)], E),
    ("moveaxis", lambda a: ea.moveaxis(a, 0, -1), lambda a: np.moveaxis(a, 0, -1),
     [(2, 3, 4)], E),
    ("moveaxis-seq", lambda a: ea.moveaxis(a, [0, -1], [-1, 1]),
     lambda a: np.moveaxis(a, [0, -1], [-1, 1]), [(2, 3, 4, 5)], E),
    ("matrix_transpose", ea.matrix_transpose, np.matrix_transpose, [(5, 2, 3)], E),
    ("sum", ea.sum, np.sum, [(2, 3)], E),
    ("sum-axis", lambda a: ea.sum(a, -1), lambda a: np.sum(a, -1), [(2, 3, 4)], E),
    ("sum-keepdims", lambda a: ea.sum(a, (0, -1), keepdims=True),
     lambda a: np.sum(a, (0, -1), keepdims=True), [(2, 3, 4)], E),
    ("sum-all-keepdims", lambda a: ea.sum(a, keepdims=True),
     lambda a: np.sum(a, keepdims=True), [(2, 3)], E),
    ("sum-empty-tuple", lambda a: ea.sum(a, ()), lambda a: np.sum(a, ()), [(2, 3)], E),
    ("sum-size1-keepdims", lambda a: ea.sum(a, 1, keepdims=True),
     lambda a: np.sum(a, 1, keepdims=True), [(3, 1, 2)], E),
    ("mean", ea.mean, np.mean, [(2, 3)], E),
    ("mean-axis-keepdims", lambda a: ea.mean(a, (-1, 0), keepdims=True),
     lambda a: np.mean(a, (-1, 0), keepdims=True), [(2, 3, 4)], E),
    ("multiply", ea.multiply, np.multiply, [(2, 1, 3), (4, 3)], E),
    ("vecdot", ea.vecdot, np.vecdot, [(4, 1, 3), (5, 3)], E),
    ("vecdot-axis", lambda a, b: ea.vecdot(a, b, axis=0),
     lambda a, b: np.vecdot(a, b, axis=0), [(3, 2, 1), (3, 4)], E),
    ("norm", ea.linalg.norm, _np_norm, [(2, 3)], NORM),
    ("norm-vectors", lambda a: ea.linalg.norm(a, axis=-1), lambda a: _np_norm(a, axis=-1),
     [(2, 3)], NORM),
    ("norm-fro-keepdims", lambda a: ea.linalg.norm(a, "fro", (2, 0), True),
     lambda a: _np_norm(a, "fro", (2, 0), True), [(2, 3, 4)], NORM),
    ("norm-ord2", lambda a: ea.linalg.norm(a, 2), lambda a: _np_norm(a, 2), [(5,)], NORM),
]
IDS = [c[0] for c in CASES]


def _args(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(s) + 0.5 for s in shapes)


@pytest.mark.parametrize("name, f, ref, shapes, prims", CASES, ids=IDS)
def test_matches_numpy(name, f, ref, shapes, prims):
    args = _args(shapes)
    got, want = f(*args), ref(*args)
    assert type(got) is type(want) or (np.ndim(want) == 0 and isinstance(got, np.generic))
    assert np.shape(got) == np.shape(want)
    assert np.result_type(got) == np.result_type(want)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, f, ref, shapes, prims", CASES, ids=IDS)
def test_gradients(name, f, ref, shapes, prims):
    ea.check_grads(f, _args(shapes, seed=1), order=2, modes=("rev",))
    ea.check_grads(f, _args(shapes, seed=2), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name, f, ref, shapes, prims", CASES, ids=IDS)
def test_one_einsum_node(name, f, ref, shapes, prims):
    graph = ea.make_graph(f, *_args(shapes))
    assert tuple(n.primitive for n in graph.nodes) == prims, str(graph)
    assert graph.outputs == [("node", len(prims) - 1)]


# ----------------------------------------------------------------------- dtypes, scalars


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.bool_, np.float32])
@pytest.mark.parametrize("fn", ["sum", "mean", "trace"])
def test_reduction_dtypes_follow_numpy(fn, dtype):
    a = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    got, want = getattr(ea, fn)(a), getattr(np, fn)(a)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_sum_int8_does_not_overflow():
    a = np.full(10, 100, dtype=np.int8)
    assert ea.sum(a) == 1000 and ea.sum(a, keepdims=True).dtype == np.int64


def test_plain_results_are_numpy_scalars_or_arrays():
    x = np.arange(3.0)
    assert isinstance(ea.dot(x, x), np.float64)
    assert isinstance(ea.sum(x), np.float64)
    assert isinstance(ea.vdot(x, x), np.float64)
    assert isinstance(ea.outer(x, x), np.ndarray)
    assert ea.sum([[1, 2], [3, 4]], axis=0).tolist() == [4, 6]


def test_int_and_list_inputs():
    np.testing.assert_array_equal(ea.kron([[1, 2]], [[1], [3]]), np.kron([[1, 2]], [[1], [3]]))
    assert ea.linalg.norm([3, 4]) == 5.0
    np.testing.assert_array_equal(ea.tensordot(np.arange(6).reshape(2, 3),
                                               np.arange(6).reshape(3, 2), 1),
                                  np.tensordot(np.arange(6).reshape(2, 3),
                                               np.arange(6).reshape(3, 2), 1))


def test_complex_plain_conjugates_first_argument():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    b = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    np.testing.assert_allclose(ea.vdot(a, b), np.vdot(a, b), rtol=1e-12)
    np.testing.assert_allclose(ea.vecdot(a, b), np.vecdot(a, b), rtol=1e-12)
    np.testing.assert_allclose(ea.linalg.norm(a), np.linalg.norm(a), rtol=1e-12)
    np.testing.assert_allclose(ea.linalg.norm(a, axis=0), np.linalg.norm(a, axis=0))


def test_complex_traced_first_argument_is_conjugated():
    a = np.array([1 + 2j, 3 - 1j, 0.5j])
    out, fn = ea.vjp(lambda a: ea.vdot(a, a), a)
    np.testing.assert_allclose(out, np.vdot(a, a))
    np.testing.assert_allclose(fn(np.ones((), complex))[0], 2 * np.conj(a))
    out, fn = ea.vjp(lambda a: ea.vecdot(a, np.ones(3)), a)
    np.testing.assert_allclose(out, np.vecdot(a, np.ones(3)))
    # the second argument of vdot is not conjugated: fine when traced
    out, fn = ea.vjp(lambda b: ea.vdot(np.ones(3, complex), b), a)
    np.testing.assert_allclose(fn(np.ones((), complex))[0], np.ones(3))


def test_mean_over_nothing():
    with pytest.warns(RuntimeWarning):
        got = ea.mean(np.ones((0, 3)), axis=0)
    with pytest.warns(RuntimeWarning):
        want = np.mean(np.ones((0, 3)), axis=0)
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="zero elements"):
        ea.grad(lambda x: ea.sum(ea.mean(x, axis=0)))(np.ones((0, 3)))


def test_empty_and_out_of_range_diagonals():
    a = np.arange(6.0).reshape(2, 3)
    for off in (3, 5, -2, -7):
        np.testing.assert_array_equal(ea.diagonal(a, off), np.diagonal(a, off))
        assert ea.trace(a, off) == np.trace(a, off)
    g = ea.grad(lambda a: ea.trace(a, 2))(a)
    np.testing.assert_array_equal(g, [[0, 0, 1], [0, 0, 0]])


def test_transpose_method_and_operator_use_the_lowerings():
    g = ea.make_graph(lambda a, b: (a.T @ b), np.ones((3, 2)), np.ones((3, 4)))
    assert [n.primitive for n in g.nodes] == ["einsum", "einsum"]


# ------------------------------------------------------------------------------- errors


def _bad(x):
    return np.ones(x)


ERRORS = [
    ("matmul-core", ea.matmul, np.matmul, (_bad((2, 3)), _bad((4, 5)))),
    ("matmul-batch", ea.matmul, np.matmul, (_bad((2, 2, 3)), _bad((4, 3, 5)))),
    ("matmul-0d", ea.matmul, np.matmul, (_bad(()), _bad((2,)))),
    ("dot", ea.dot, np.dot, (_bad((2, 3)), _bad((4, 5)))),
    ("dot-1d", ea.dot, np.dot, (_bad((2, 3)), _bad((4,)))),
    ("dot-size1", ea.dot, np.dot, (_bad((2, 1)), _bad((3,)))),
    ("inner", ea.inner, np.inner, (_bad((2, 3)), _bad((4,)))),
    ("vdot", ea.vdot, np.vdot, (_bad(3), _bad(4))),
    ("tensordot-size", ea.tensordot, np.tensordot, (_bad((2, 3)), _bad((2, 3)), 1)),
    ("tensordot-len", ea.tensordot, np.tensordot, (_bad((2, 3)), _bad((3, 2)), ([0], [0, 1]))),
    ("tensordot-range", ea.tensordot, np.tensordot, (_bad((2, 3)), _bad((3, 2)), ([5], [0]))),
    ("tensordot-int-range", ea.tensordot, np.tensordot, (_bad((2, 3)), _bad((3, 2)), 3)),
    ("tensordot-dup", ea.tensordot, np.tensordot,
     (_bad((2, 2)), _bad((2, 2)), ([0, 0], [1, 1]))),
    ("trace-1d", ea.trace, np.trace, (_bad(3),)),
    ("trace-same", ea.trace, np.trace, (_bad((2, 2)), 0, 1, -1)),
    ("diagonal-range", ea.diagonal, np.diagonal, (_bad((2, 2)), 0, 1, 2)),
    ("diagonal-1d", ea.diagonal, np.diagonal, (_bad(2),)),
    ("transpose-repeat", ea.transpose, np.transpose, (_bad((2, 2)), (0, 0))),
    ("transpose-length", ea.transpose, np.transpose, (_bad((2, 2)), (0,))),
    ("transpose-range", ea.transpose, np.transpose, (_bad((2, 2)), (0, 2))),
    ("swapaxes", ea.swapaxes, np.swapaxes, (_bad((2, 2)), 0, 2)),
    ("moveaxis-length", ea.moveaxis, np.moveaxis, (_bad((2, 2)), [0, 1], [0])),
    ("moveaxis-repeat", ea.moveaxis, np.moveaxis, (_bad((2, 2)), [0, 0], [0, 1])),
    ("moveaxis-range", ea.moveaxis, np.moveaxis, (_bad((2, 2)), [0, 1], [0, 3])),
    ("matrix_transpose", ea.matrix_transpose, np.matrix_transpose, (_bad(2),)),
    ("sum-dup", ea.sum, np.sum, (_bad((2, 2)), (0, -2))),
    ("sum-range", ea.sum, np.sum, (_bad((2, 2)), 2)),
    ("sum-float-axis", ea.sum, np.sum, (_bad((2, 2)), 1.0)),
    ("mean-range", ea.mean, np.mean, (_bad((2, 2)), -3)),
    ("multiply", ea.multiply, np.multiply, (_bad(2), _bad(3))),
    ("vecdot-core", ea.vecdot, np.vecdot, (_bad(3), _bad(4))),
    ("vecdot-size1-core", ea.vecdot, np.vecdot, (_bad(3), _bad(1))),
    ("vecdot-0d", ea.vecdot, np.vecdot, (_bad(()), _bad(()))),
    ("norm-3-axes", ea.linalg.norm, np.linalg.norm, (_bad((2, 2, 2)), None, (0, 1, 2))),
    ("norm-dup-axes", ea.linalg.norm, np.linalg.norm, (_bad((2, 2)), None, (0, 0))),
    ("norm-ord-3d", ea.linalg.norm, np.linalg.norm, (_bad((2, 2, 2)), 2)),
]


@pytest.mark.parametrize("name, f, ref, args", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_numpy(name, f, ref, args):
    with pytest.raises(Exception) as want:
        ref(*args)
    with pytest.raises(type(want.value)):
        f(*args)


def test_error_messages_name_the_problem():
    with pytest.raises(ValueError, match=r"shapes \(2,3\) and \(4,5\) not aligned: 3 \(dim 1\)"):
        ea.dot(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="axis 0 of a .* size 2, axis 0 of b .* size 3"):
        ea.tensordot(np.ones((2, 3)), np.ones((3, 2)), ([0], [0]))
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds"):
        ea.sum(np.ones((2, 2)), axis=2)
    with pytest.raises(ValueError, match="invalid norm order 'fro' for vectors"):
        ea.linalg.norm(np.ones(3), "fro")
    with pytest.raises(TypeError, match="operand 1 .* dtype <U1"):
        ea.dot(np.ones(2), np.array(["a", "b"]))


def test_regression_step_sums_in_the_result_dtype():
    # A pairwise step sums a label only one operand has *before* multiplying; that sum must
    # run in the step's result dtype, as numpy's einsum does: int8 next to int64 used to
    # wrap around (1200 -> -80) and bool next to int64 became a logical or (12 -> 1).
    a = np.full((3, 4), 100, dtype=np.int8)
    one = np.array(1, dtype=np.int64)
    assert ea.einsum("ab,->", a, one) == np.einsum("ab,->", a, one) == 1200
    assert ea.einsum("ab,->", np.ones((3, 4), bool), one) == 12
    assert ea.einsum("ab,c->c", a, np.ones(2, np.int64)).tolist() == [1200, 1200]


# ------------------------------------------------------------------ random shapes and axes


def _random_cases(seed, n=40):
    """(einsum_ad call, numpy call, operands) on random shapes, axes, offsets, keepdims."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        nd = int(rng.integers(1, 5))
        shape = tuple(int(d) for d in rng.integers(1, 4, nd))
        x = rng.standard_normal(shape)
        axes = tuple(int(a) - nd * int(rng.integers(0, 2))  # some axes negative
                     for a in rng.permutation(nd)[:int(rng.integers(0, nd + 1))])
        keep = bool(rng.integers(0, 2))
        yield (lambda x, a=axes, k=keep: ea.sum(x, a, keepdims=k),
               lambda x, a=axes, k=keep: np.sum(x, a, keepdims=k), (x,))
        yield (lambda x, a=axes, k=keep: ea.mean(x, a or None, keepdims=k),
               lambda x, a=axes, k=keep: np.mean(x, a or None, keepdims=k), (x,))
        perm = tuple(int(p) for p in rng.permutation(nd))
        yield (lambda x, p=perm: ea.transpose(x, p), lambda x, p=perm: np.transpose(x, p), (x,))
        src, dst = int(rng.integers(-nd, nd)), int(rng.integers(-nd, nd))
        yield (lambda x, s=src, d=dst: ea.moveaxis(x, s, d),
               lambda x, s=src, d=dst: np.moveaxis(x, s, d), (x,))
        if nd >= 2:
            i, j = (int(a) for a in rng.permutation(nd)[:2])
            off = int(rng.integers(-3, 4))
            yield (lambda x, o=off, i=i, j=j: ea.diagonal(x, o, i, j),
                   lambda x, o=off, i=i, j=j: np.diagonal(x, o, i, j), (x,))
            yield (lambda x, o=off, i=i - nd, j=j: ea.trace(x, o, i, j),
                   lambda x, o=off, i=i - nd, j=j: np.trace(x, o, i, j), (x,))
        # matmul with random batch broadcasting (size-1 batch axes on either side)
        m, k, p = (int(d) for d in rng.integers(1, 4, 3))
        batch = tuple(int(d) for d in rng.integers(1, 3, int(rng.integers(0, 3))))
        bb = tuple(1 if rng.integers(0, 2) else d for d in batch)[int(rng.integers(0, 2)):]
        a, b = rng.standard_normal(batch + (m, k)), rng.standard_normal(bb + (k, p))
        yield ea.matmul, np.matmul, (a, b)
        # tensordot over a random number of trailing/leading axes, in a random order
        n = int(rng.integers(0, nd + 1))
        order = [int(q) for q in rng.permutation(n)]
        y = rng.standard_normal(tuple(shape[nd - n + q] for q in order) + (2,))
        ax = ([nd - n + q for q in order], list(range(n)))
        yield (lambda x, y, ax=ax: ea.tensordot(x, y, ax),
               lambda x, y, ax=ax: np.tensordot(x, y, ax), (x, y))


def test_random_shapes_and_axes_against_numpy():
    count = 0
    for f, ref, args in _random_cases(seed=7):
        got, want = f(*args), ref(*args)
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        count += 1
    assert count > 250


def test_random_shapes_and_axes_gradients():
    for f, _, args in _random_cases(seed=8, n=12):
        ea.check_grads(f, args, order=2, modes=("fwd", "rev"))
        graph = ea.make_graph(f, *args)
        assert [n.primitive for n in graph.nodes].count("einsum") == 1, str(graph)
