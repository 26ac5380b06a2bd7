"""Regression tests for the engine's edges (issue 9): copies and pickles of traced values,
clear errors for NumPy-only operations on traced values, ellipsis dimensions summed by an
explicit output, and one validation of ``optimize=``."""

import copy
import pickle

import numpy as np
import opt_einsum
import pytest

import einsum_ad as ea

X = np.array([1.0, 2.0, 3.0])


# ------------------------------------------------------------------ copies and pickles


@pytest.mark.parametrize("make_copy", [copy.copy, copy.deepcopy,
                                       lambda x: copy.deepcopy({"a": [x]})["a"][0]],
                         ids=["copy", "deepcopy", "deepcopy_pytree"])
def test_copy_of_traced_value_keeps_its_gradient(make_copy):
    """A deepcopy inside a differentiated function gave a zero gradient, and
    value_and_grad returned a live traced value as the value."""
    f = lambda x: ea.sum(make_copy(x) * x)
    value, g = ea.value_and_grad(f)(X)
    np.testing.assert_allclose(g, 2 * X)
    assert isinstance(value, np.floating) and value == 14.0
    out, tangent = ea.jvp(lambda x: make_copy(x) * x, (X,), (np.ones(3),))
    np.testing.assert_allclose(tangent, 2 * X)


def test_pickling_a_traced_value_raises():
    with pytest.raises(TypeError, match="cannot be pickled"):
        ea.grad(lambda x: ea.sum(pickle.loads(pickle.dumps(x))))(X)
    with pytest.raises(TypeError, match="cannot be pickled"):
        ea.grad(lambda x: ea.sum(pickle.loads(pickle.dumps({"x": x}))["x"]))(X)


# ------------------------------------------------------------------ clear errors


@pytest.mark.parametrize("f, match", [
    (lambda x: x.item(), r"\.item\(\) of a traced value"),
    (lambda x: x.tolist()[0], r"\.tolist\(\) of a traced value"),
    (lambda x: int(x[0]), r"int\(\) of a traced value"),
    (lambda x: np.exp(x).sum(), r"numpy\.exp .*use einsum_ad\.exp"),
    (lambda x: np.sin(x).sum(), r"numpy\.sin .*use einsum_ad\.sin"),
    (lambda x: np.add.reduce(x), r"numpy\.add\.reduce .*use einsum_ad\.sum"),
    (lambda x: x.__setitem__(0, 1.0), r"cannot be assigned to .*immutable under tracing"),
], ids=["item", "tolist", "int", "np_exp", "np_sin", "np_add_reduce", "setitem"])
def test_numpy_only_operations_on_traced_values_raise_clear_type_errors(f, match):
    with pytest.raises(TypeError, match=match):
        ea.grad(f)(X)


def test_in_place_numpy_operator_with_traced_value_raises():
    def f(x):
        a = np.ones(3)
        a += x
        return ea.sum(a)
    with pytest.raises(TypeError, match=r"in-place operation"):
        ea.grad(f)(X)


def test_numpy_arrays_and_scalars_meet_traced_values_through_operators():
    """With NumPy's ufunc protocol implemented, ``ndarray op tracer`` is einsum_ad's op."""
    def f(x):
        return ea.sum(np.arange(3.0) * x + np.ones((3, 3)) @ x - np.float64(2.0) ** x
                      + (np.ones(3) < x) * x)
    g = ea.grad(f)(X)
    want = np.arange(3.0) + 3.0 - 2.0 ** X * np.log(2.0) + (1.0 < X)
    np.testing.assert_allclose(g, want)


def test_assigning_traced_value_into_numpy_slice_raises_type_error():
    def f(x):
        a = np.zeros(3)
        a[:] = x
        return ea.sum(x)
    with pytest.raises(TypeError, match="cannot be converted to a numpy array"):
        ea.grad(f)(X)


# ------------------------------------------------------------------ einsum compatibility


ELLIPSIS_SUMS = [
    ("...ij,...ij->", [(2, 3, 4), (2, 3, 4)]),
    ("...ij,...ij->", [(5, 2, 3, 4), (2, 3, 4)]),
    ("...ij->ij", [(4, 2, 3)]),
    ("...ij,...jk->ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i...->i", [(3, 2, 2)]),
]


@pytest.mark.parametrize("subscripts, shapes", ELLIPSIS_SUMS)
@pytest.mark.parametrize("optimize", [False, True, "greedy", "optimal"])
def test_explicit_output_without_ellipsis_sums_ellipsis_dimensions(subscripts, shapes,
                                                                     optimize):
    """JAX (and older numpy releases' unoptimised einsum) sum the ellipsis dimensions an
    explicit output leaves out; einsum_ad raised ValueError. (numpy 2.4 refuses them: the
    reference keeps them in front of the output, then sums them.)"""
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s) for s in shapes]
    lhs, out = subscripts.split("->")
    kept = np.einsum(f"{lhs}->...{out}", *ops)
    width = kept.ndim - len(out)
    want = kept.sum(axis=tuple(range(width)))
    np.testing.assert_allclose(ea.einsum(subscripts, *ops, optimize=optimize), want,
                               rtol=1e-12, atol=1e-12)
    ea.check_grads(lambda *xs: ea.einsum(subscripts, *xs, optimize=optimize), tuple(ops),
                   order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("n_operands", [1, 2, 3])
def test_optimize_is_validated_the_same_for_every_operand_count(n_operands):
    """"bogus" passed with two operands and was refused with three; the message listed the
    names as a set, in a different order on every run."""
    subs = ",".join(["ab", "bc", "cd"][:n_operands])
    ops = [np.ones((2, 2))] * n_operands
    with pytest.raises(ValueError, match=r"unknown optimize='bogus'; use one of auto, "
                                         r"auto-hq, branch-1, branch-2, branch-all, dp"):
        ea.einsum(subs, *ops, optimize="bogus")
    with pytest.raises(TypeError, match="optimize must be"):
        ea.einsum(subs, *ops, optimize=2.5)


@pytest.mark.parametrize("make", [
    lambda: opt_einsum.RandomGreedy(max_repeats=4),
    lambda: opt_einsum.DynamicProgramming(),
], ids=["RandomGreedy", "DynamicProgramming"])
def test_optimize_accepts_path_optimizer_instances_and_asks_once(make):
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    opt = make()
    calls = []
    original = opt.__call__

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    opt.__call__ = counting  # instances are called through type(opt).__call__: wrap below
    type_call = type(opt).__call__
    type(opt).__call__ = lambda self, *a, **k: (calls.append(1), type_call(self, *a, **k))[1]
    try:
        for _ in range(3):
            np.testing.assert_allclose(ea.einsum("ij,jk,kl->il", a, b, c, optimize=opt),
                                       a @ b @ c)
        ea.check_grads(lambda a: ea.einsum("ij,jk,kl->il", a, b, c, optimize=opt), (a,),
                       order=1)
    finally:
        type(opt).__call__ = type_call
    assert len(calls) == 1  # one plan per (spec, shapes, dtypes, optimizer, backend)


def test_optimize_accepts_cotengra_optimizers():
    ctg = pytest.importorskip("cotengra")
    rng = np.random.default_rng(2)
    ops = [rng.standard_normal(s) for s in [(2, 3), (3, 4), (4, 2)]]
    opt = ctg.HyperOptimizer(max_repeats=2, progbar=False, methods=["greedy"])
    np.testing.assert_allclose(ea.einsum("ij,jk,ki->", *ops, optimize=opt),
                               np.einsum("ij,jk,ki->", *ops))


# ------------------------------------------------------------------ the standard's results


def test_view_like_functions_return_0d_arrays_not_scalars():
    """ea.reshape (and broadcast_to, squeeze, expand_dims) handed a 0-d NumPy result out as
    a numpy scalar, where numpy's own functions (and the standard) return a 0-d array:
    asarray(result, copy=False) then failed (the array API suite's test_asarray_arrays)."""
    x = np.array([True])
    for got in (ea.reshape(x, ()), ea.squeeze(x), ea.broadcast_to(np.asarray(1.5), ()),
                ea.reshape(np.asarray(2.0), ())):
        assert type(got) is np.ndarray and got.shape == ()
        assert ea.asarray(got, copy=False) is got
    assert type(ea.expand_dims(np.asarray(1.0), 0)) is np.ndarray


def test_broadcast_arrays_returns_a_list_as_the_standard_says():
    out = ea.broadcast_arrays(np.ones((3, 1)), np.ones(4))
    assert isinstance(out, list) and [a.shape for a in out] == [(3, 4), (3, 4)]
    assert ea.broadcast_arrays() == []
