"""Statistical, searching, sorting, set and utility functions of the array API namespace:
one table of differentiable rows (values against numpy, derivatives against finite
differences in both modes to second order, on every backend), one of constant-valued
rows, then the edge cases a table cannot say (zeros in products, ties in sort)."""

import warnings

import numpy as np
import pytest
from _strict_backends import BACKENDS, _np, _on, _xp, array_api_strict  # noqa: F401
from hypothesis import given, settings
from hypothesis import strategies as st

import einsum_ad as ea
from einsum_ad import backend as B
from einsum_ad.core import is_traced


def _r(*shape, seed=0):
    return np.random.default_rng(seed + 7 * sum(shape)).standard_normal(shape)


def _zeros_in(*shape, seed=0, at=()):
    x = _r(*shape, seed=seed)
    for pos in at:
        x[pos] = 0.0
    return x


def _tied():
    """Ties in every row, at non-adjacent places."""
    return np.array([[0.5, -1.0, 0.5, 2.0, -1.0], [3.0, 3.0, 1.0, -2.0, 3.0]])


# weights equal on the tied positions of the sorted rows below
_TW = np.array([[1.0, 1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 2.0, 3.0, 3.0]])

# name, make(xp) -> function of backend arrays, numpy reference, argument builder
DIFFERENTIABLE = [
    ("prod_all", lambda xp: ea.prod, np.prod, lambda: (_r(2, 3),)),
    ("prod_axis", lambda xp: lambda x: ea.prod(x, axis=1), lambda x: np.prod(x, axis=1),
     lambda: (_r(3, 4),)),
    ("prod_axes_keepdims", lambda xp: lambda x: ea.prod(x, axis=(0, -1), keepdims=True),
     lambda x: np.prod(x, axis=(0, -1), keepdims=True), lambda: (_r(2, 2, 3),)),
    ("prod_one_zero", lambda xp: lambda x: ea.prod(x, axis=0), lambda x: np.prod(x, axis=0),
     lambda: (_zeros_in(4, 3, at=[(1, 0), (2, 2)]),)),
    ("prod_two_zeros", lambda xp: ea.prod, np.prod,
     lambda: (_zeros_in(2, 3, at=[(0, 1), (1, 2)]),)),
    ("prod_initial_where", lambda xp: lambda x: ea.prod(
        x, axis=1, initial=2.0, where=xp.asarray([True, False, True])),
     lambda x: np.prod(x, axis=1, initial=2.0, where=np.array([True, False, True])),
     lambda: (_r(2, 3),)),
    ("cumulative_sum", lambda xp: lambda x: ea.cumulative_sum(x, axis=-1),
     lambda x: np.cumulative_sum(x, axis=-1), lambda: (_r(3, 4),)),
    ("cumulative_sum_initial", lambda xp: lambda x: ea.cumulative_sum(
        x, axis=0, include_initial=True),
     lambda x: np.cumulative_sum(x, axis=0, include_initial=True), lambda: (_r(3, 2),)),
    ("cumsum_flat", lambda xp: ea.cumsum, np.cumsum, lambda: (_r(2, 3),)),
    ("cumulative_prod", lambda xp: lambda x: ea.cumulative_prod(x, axis=1),
     lambda x: np.cumulative_prod(x, axis=1), lambda: (_r(2, 5),)),
    ("cumulative_prod_zeros", lambda xp: lambda x: ea.cumulative_prod(x, axis=1),
     lambda x: np.cumulative_prod(x, axis=1),
     lambda: (_zeros_in(3, 6, at=[(0, 0), (1, 2), (1, 4), (2, 5)]),)),
    ("cumulative_prod_initial", lambda xp: lambda x: ea.cumulative_prod(
        x, include_initial=True), lambda x: np.cumulative_prod(x, include_initial=True),
     lambda: (_zeros_in(5, at=[2]),)),
    ("cumprod_flat", lambda xp: ea.cumprod, np.cumprod, lambda: (_r(2, 3),)),
    ("var", lambda xp: ea.var, np.var, lambda: (_r(3, 4),)),
    ("var_axis_correction", lambda xp: lambda x: ea.var(x, axis=0, correction=1),
     lambda x: np.var(x, axis=0, ddof=1), lambda: (_r(3, 4),)),
    ("var_ddof_keepdims", lambda xp: lambda x: ea.var(x, axis=(0, 2), ddof=1.5,
                                                      keepdims=True),
     lambda x: np.var(x, axis=(0, 2), ddof=1.5, keepdims=True), lambda: (_r(2, 3, 2),)),
    ("var_where", lambda xp: lambda x: ea.var(x, axis=1, where=xp.asarray(
        [[True, True, False, True]] * 2)),
     lambda x: np.var(x, axis=1, where=np.array([[True, True, False, True]] * 2)),
     lambda: (_r(2, 4),)),
    ("var_complex", lambda xp: lambda x: ea.var(x, axis=1), lambda x: np.var(x, axis=1),
     lambda: (_r(2, 3) + 1j * _r(2, 3, seed=1),)),
    ("std", lambda xp: lambda x: ea.std(x, axis=-1, correction=1),
     lambda x: np.std(x, axis=-1, ddof=1), lambda: (_r(3, 4),)),
    ("mean_sum_max_min", lambda xp: lambda x: ea.mean(x, axis=0) * ea.sum(x, axis=0)
     + ea.max(x, axis=0) - ea.min(x, axis=0),
     lambda x: x.mean(0) * x.sum(0) + x.max(0) - x.min(0), lambda: (_r(3, 4),)),
    ("sort", lambda xp: lambda x: ea.sort(x), np.sort, lambda: (_r(3, 5),)),
    ("sort_axis0_descending", lambda xp: lambda x: ea.sort(x, axis=0, descending=True),
     lambda x: np.flip(np.sort(x, axis=0), axis=0), lambda: (_r(4, 3),)),
    ("sort_unstable", lambda xp: lambda x: ea.sort(x, stable=False), np.sort,
     lambda: (_r(2, 6),)),
    ("sort_flat", lambda xp: lambda x: ea.sort(x, axis=None), lambda x: np.sort(x, axis=None),
     lambda: (_r(2, 3),)),
    # a tie: sort is differentiable where the loss is symmetric in the tied positions
    ("sort_ties_symmetric", lambda xp: lambda x: ea.sum(ea.sort(x) ** 2 * xp.asarray(_TW),
                                                        axis=-1),
     lambda x: np.sum(np.sort(x) ** 2 * _TW, -1),
     lambda: (np.array([[0.5, -1.0, 0.5, 2.0, -1.0], [4.0, 0.0, 0.0, 4.0, -3.0]]),)),
    ("diff", lambda xp: ea.diff, np.diff, lambda: (_r(3, 5),)),
    ("diff_n2_axis0", lambda xp: lambda x: ea.diff(x, n=2, axis=0),
     lambda x: np.diff(x, n=2, axis=0), lambda: (_r(4, 3),)),
    ("diff_prepend_append", lambda xp: lambda x, p: ea.diff(x, prepend=p, append=1.0),
     lambda x, p: np.diff(x, prepend=p, append=1.0), lambda: (_r(2, 3), _r(2, 1))),
    ("where_searched", lambda xp: lambda x, y: ea.where(x > y, x, y * 2.0),
     lambda x, y: np.where(x > y, x, y * 2.0), lambda: (_r(3, 4), _r(4, seed=3))),
    # integer-valued results next to differentiable values: constants under tracing
    ("take_argmax", lambda xp: lambda x: ea.take_along_axis(
        x, ea.argmax(x, axis=1, keepdims=True), axis=1),
     lambda x: np.take_along_axis(x, np.argmax(x, axis=1, keepdims=True), axis=1),
     lambda: (_r(3, 4),)),
    ("take_argsort", lambda xp: lambda x: ea.take_along_axis(x, ea.argsort(x, axis=0), axis=0),
     lambda x: np.take_along_axis(x, np.argsort(x, axis=0), axis=0), lambda: (_r(3, 2),)),
    ("count_scales", lambda xp: lambda x: x * ea.astype(ea.count_nonzero(x > 0, axis=0),
                                                      x.dtype),
     lambda x: x * np.count_nonzero(x > 0, axis=0), lambda: (_r(3, 4),)),
]


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _check_values(got, want, rtol=1e-12):
    got, want = _as_list(got), _as_list(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = _np(g), np.asarray(w)
        assert g.shape == w.shape
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,make,ref,build", DIFFERENTIABLE,
                         ids=[row[0] for row in DIFFERENTIABLE])
def test_values_match_numpy(name, make, ref, build, backend):
    args = build()
    _check_values(make(_xp(backend))(*[_on(backend, a) for a in args]), ref(*args))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,make,ref,build", DIFFERENTIABLE,
                         ids=[row[0] for row in DIFFERENTIABLE])
def test_gradients_both_modes_second_order(name, make, ref, build, backend):
    args = tuple(_on(backend, a) for a in build())
    ea.check_grads(make(_xp(backend)), args, order=2, modes=("fwd", "rev"))


# name, make(xp) -> function, numpy reference, argument builder: integer or boolean results
_M = np.array([[0.0, 1.5, 0.0, -2.0], [3.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
_S = np.array([3.0, 1.0, 2.0, 1.0, np.nan, 3.0])
CONSTANT = [
    ("argmax", lambda xp: ea.argmax, np.argmax, lambda: (_r(3, 4),)),
    ("argmax_axis_keepdims", lambda xp: lambda x: ea.argmax(x, axis=0, keepdims=True),
     lambda x: np.argmax(x, axis=0, keepdims=True), lambda: (_r(3, 4),)),
    ("argmin_axis", lambda xp: lambda x: ea.argmin(x, axis=-1),
     lambda x: np.argmin(x, axis=-1), lambda: (_tied(),)),
    ("count_nonzero", lambda xp: ea.count_nonzero, np.count_nonzero, lambda: (_M,)),
    ("count_nonzero_axes", lambda xp: lambda x: ea.count_nonzero(x, axis=(0, 1),
                                                                 keepdims=True),
     lambda x: np.count_nonzero(x, axis=(0, 1), keepdims=True), lambda: (_M,)),
    ("nonzero", lambda xp: ea.nonzero, np.nonzero, lambda: (_M,)),
    ("searchsorted", lambda xp: lambda x: ea.searchsorted(x, xp.asarray([-1.0, 0.5, 9.0])),
     lambda x: np.searchsorted(x, [-1.0, 0.5, 9.0]), lambda: (np.sort(_r(6)),)),
    ("searchsorted_right_sorter", lambda xp: lambda x: ea.searchsorted(
        x, xp.asarray([1.0, 2.0]), side="right", sorter=ea.argsort(x)),
     lambda x: np.searchsorted(x, [1.0, 2.0], side="right", sorter=np.argsort(x)),
     lambda: (np.array([2.0, 1.0, 3.0, 1.0]),)),
    ("searchsorted_scalar", lambda xp: lambda x: ea.searchsorted(x, 0.25),
     lambda x: np.searchsorted(x, 0.25), lambda: (np.sort(_r(5)),)),
    ("unique_values", lambda xp: ea.unique_values, np.unique_values, lambda: (_S,)),
    ("unique_counts", lambda xp: ea.unique_counts, np.unique_counts, lambda: (_M,)),
    ("unique_inverse", lambda xp: ea.unique_inverse, np.unique_inverse, lambda: (_M,)),
    ("unique_all", lambda xp: ea.unique_all, np.unique_all,
     lambda: (np.array([3, 1, 3, 2, 1]),)),
    ("argsort", lambda xp: ea.argsort, lambda x: np.argsort(x, kind="stable"),
     lambda: (_tied(),)),
    ("argsort_descending_stable", lambda xp: lambda x: ea.argsort(x, descending=True),
     lambda x: np.array([[3, 0, 2, 1, 4], [0, 1, 4, 2, 3]]), lambda: (_tied(),)),
    ("argsort_unstable", lambda xp: lambda x: ea.argsort(x, axis=0, kind="quicksort"),
     lambda x: np.argsort(x, axis=0), lambda: (_r(5, 3),)),
    ("argsort_nan_flat", lambda xp: lambda x: ea.argsort(x, axis=None),
     lambda x: np.argsort(x, axis=None, kind="stable"), lambda: (_S,)),
    ("all", lambda xp: lambda x: ea.all(x, axis=1), lambda x: np.all(x, axis=1),
     lambda: (_M + 1.0,)),
    ("any_keepdims", lambda xp: lambda x: ea.any(x, axis=0, keepdims=True),
     lambda x: np.any(x, axis=0, keepdims=True), lambda: (_M,)),
    ("all_where", lambda xp: lambda x: ea.all(x, axis=1, where=xp.asarray(
        [True, False, False, True])),
     lambda x: np.all(x, axis=1, where=[True, False, False, True]), lambda: (_M,)),
    ("any_empty", lambda xp: lambda x: ea.any(x, axis=0), lambda x: np.any(x, axis=0),
     lambda: (np.zeros((0, 3)),)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,make,ref,build", CONSTANT, ids=[row[0] for row in CONSTANT])
def test_constant_results_match_numpy(name, make, ref, build, backend):
    args = build()
    got = make(_xp(backend))(*[_on(backend, a) for a in args])
    want = ref(*args)
    got, want = _as_list(got), _as_list(want)
    for g, w in zip(got, want):
        g, w = _np(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype.kind == w.dtype.kind, (g, w)
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,make,ref,build", CONSTANT, ids=[row[0] for row in CONSTANT])
def test_constant_results_under_tracing_are_plain(name, make, ref, build, backend):
    """Traced in both modes: the result is the plain (untraced) value, never a tracer (the
    unique values excepted: they are differentiable, tests/test_qa_sets.py)."""
    args = [_on(backend, a) for a in build()]
    if not np.issubdtype(_np(args[0]).dtype, np.floating):
        return
    f = make(_xp(backend))
    seen = {}

    def g(x):
        seen["out"] = f(x, *args[1:])
        return x * 2.0

    def constants(out):
        parts = _as_list(out)
        return parts[1:] if name.startswith("unique") else parts

    ea.vjp(g, args[0])
    for v in constants(seen["out"]):
        assert not is_traced(v) and B.of(v) is not None
    seen.clear()
    ea.jvp(g, (args[0],), (args[0],))
    assert all(not is_traced(v) and B.of(v) is not None for v in constants(seen["out"]))


# ------------------------------------------------------------------------ exactness


def test_prod_gradient_is_exact_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 4.0, -2.0]])
    g = ea.grad(lambda x: ea.sum(ea.prod(x, axis=1)))(x)
    np.testing.assert_array_equal(g, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [-8.0, -2.0, 4.0]])
    # the Hessian of prod(x) at a point with one zero: d2/dxi dxj = prod of the others
    v = np.array([0.0, 2.0, 3.0, 5.0])
    h = ea.hessian(ea.prod)(v)
    want = np.array([[np.prod(np.delete(v, [i, j])) if i != j else 0.0 for j in range(4)]
                     for i in range(4)])
    np.testing.assert_array_equal(h, want)
    _, t = ea.jvp(ea.prod, (v,), (np.array([1.0, 0.0, 0.0, 0.0]),))
    assert t == 30.0


def test_cumulative_prod_gradient_is_exact_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    jac = ea.jacrev(lambda x: ea.cumulative_prod(x))(x)
    want = np.zeros((5, 5))
    for k in range(5):
        for i in range(k + 1):
            want[k, i] = np.prod(np.delete(x[:k + 1], i))
    np.testing.assert_array_equal(jac, want)
    np.testing.assert_array_equal(ea.jacfwd(lambda x: ea.cumulative_prod(x))(x), want)


def test_sort_ties_take_a_consistent_permutation():
    x = np.array([2.0, 1.0, 2.0, 1.0])  # stable order: 1 (at 1), 1 (at 3), 2 (at 0), 2 (at 2)
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    g = ea.grad(lambda x: ea.sum(ea.sort(x) * w))(x)
    np.testing.assert_array_equal(g, [100.0, 1.0, 1000.0, 10.0])
    _, t = ea.jvp(ea.sort, (x,), (w,))
    np.testing.assert_array_equal(t, [10.0, 1000.0, 1.0, 100.0])
    g = ea.grad(lambda x: ea.sum(ea.sort(x, descending=True) * w))(x)
    np.testing.assert_array_equal(g, [1.0, 100.0, 10.0, 1000.0])
    # the permutation's VJP differentiates again (a Hessian through sort)
    h = ea.hessian(lambda x: ea.sum(ea.sort(x) ** 3 * w))(x)
    np.testing.assert_allclose(h, np.diag(6 * x * [100.0, 1.0, 1000.0, 10.0]))


def test_var_std_degrees_of_freedom():
    x = np.array([1.0, 2.0, 4.0])
    assert ea.var(x, correction=1) == np.var(x, ddof=1)
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        assert np.isnan(ea.var(x, correction=3))  # the standard: NaN (numpy: inf)
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        assert np.isnan(ea.std(x, ddof=4))
    g = ea.grad(lambda x: ea.var(x, correction=1))(x)
    np.testing.assert_allclose(g, 2 * (x - x.mean()) / 2)
    m = np.mean(x, keepdims=True)
    assert ea.var(x, mean=m) == np.var(x, mean=m)
    g = ea.grad(lambda x: ea.std(x))(x)
    np.testing.assert_allclose(g, (x - x.mean()) / (3 * np.std(x)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_stays_float32(backend):
    x = _on(backend, _r(3, 4).astype(np.float32))
    fns = [lambda x: ea.prod(x, axis=0), lambda x: ea.cumulative_sum(x, axis=1),
           lambda x: ea.cumulative_prod(x, axis=0), lambda x: ea.var(x, axis=0),
           lambda x: ea.std(x), lambda x: ea.sort(x), lambda x: ea.diff(x)]
    for f in fns:
        assert _np(f(x)).dtype == np.float32
        g = ea.grad(lambda x, f=f: ea.sum(f(x)))(x)
        assert _np(g).dtype == np.float32
        assert _np(ea.jvp(f, (x,), (x,))[1]).dtype == np.float32


def test_dtypes_follow_the_standard():
    i8 = np.array([1, 2, 3], dtype=np.int8)
    assert ea.prod(i8).dtype == np.prod(i8).dtype == np.int64
    assert ea.cumulative_sum(i8).dtype == np.int64
    assert ea.cumsum(np.array([True, True])).dtype == np.int64
    assert ea.prod(i8, dtype=np.float32).dtype == np.float32
    # a requested small integer dtype is kept (numpy's accumulations would widen it)
    i32 = np.array([1, 2, 3], dtype=np.int32)
    assert ea.cumsum(i32, dtype=np.int32).dtype == np.int32
    assert ea.cumulative_prod(i32, dtype=np.int32).dtype == np.int32
    assert ea.prod(i32, dtype=np.int32).dtype == np.int32
    assert ea.var(i8).dtype == np.float64
    assert ea.var(np.ones(2, np.complex64)).dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ea.cumulative_sum(np.ones(0), include_initial=True).tolist() == [0.0]
        assert ea.prod(np.ones((0, 2)), axis=0).tolist() == [1.0, 1.0]


def test_plain_results_are_numpy_scalars_and_arrays():
    assert isinstance(ea.prod(np.ones(3)), np.float64)
    assert isinstance(ea.var(np.ones(3)), np.float64)
    assert isinstance(ea.argmax(np.ones(3)), np.integer)
    assert isinstance(ea.all(np.ones(3)), np.bool_)
    assert isinstance(ea.sort(np.ones(3)), np.ndarray)
    out = np.empty(2)
    assert ea.prod(np.ones((2, 3)), axis=1, out=out) is out


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ea.cumulative_sum(np.ones((2, 3))), ValueError, "axis must be given"),
    (lambda: ea.cumulative_prod(np.ones(3), axis=1), np.exceptions.AxisError, "axis"),
    (lambda: ea.var(np.ones(3), ddof=1, correction=1), ValueError, "not both"),
    (lambda: ea.var(np.ones(3), correction="1"), TypeError, "real number"),
    (lambda: ea.prod(np.ones(3), axis=(0, 0)), ValueError, "repeated"),
    (lambda: ea.argmax(np.ones((0, 3)), axis=0), ValueError, "empty"),
    (lambda: ea.argmin(np.ones(0)), ValueError, "empty"),
    (lambda: ea.nonzero(np.array(1.0)), ValueError, "0-d"),
    (lambda: ea.searchsorted(np.ones((2, 2)), 1.0), ValueError, "1-D"),
    (lambda: ea.searchsorted(np.ones(2), 1.0, side="middle"), ValueError, "side"),
    (lambda: ea.sort(np.ones(3), order="a"), ValueError, "structured"),
    (lambda: ea.argsort(np.ones(3), kind="bubble"), ValueError, "kind"),
    (lambda: ea.sort(np.array(1.0)), np.exceptions.AxisError, "dimension 0"),
    (lambda: ea.all(np.ones(3), axis=2), np.exceptions.AxisError, "out of bounds"),
    (lambda: ea.prod("x"), TypeError, "operand 0"),
])
def test_bad_input_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# the standard's keyword parameters (2024.12), per function of the categories built here
STANDARD_KEYWORDS = {
    "cumulative_prod": ("axis", "dtype", "include_initial"),
    "cumulative_sum": ("axis", "dtype", "include_initial"),
    "max": ("axis", "keepdims"), "mean": ("axis", "keepdims"), "min": ("axis", "keepdims"),
    "prod": ("axis", "dtype", "keepdims"), "std": ("axis", "correction", "keepdims"),
    "sum": ("axis", "dtype", "keepdims"), "var": ("axis", "correction", "keepdims"),
    "broadcast_arrays": (), "broadcast_to": ("shape",), "concat": ("axis",),
    "expand_dims": ("axis",), "flip": ("axis",), "moveaxis": (), "permute_dims": ("axes",),
    "repeat": ("axis",), "reshape": ("shape", "copy"), "roll": ("shift", "axis"),
    "squeeze": ("axis",), "stack": ("axis",), "tile": (), "unstack": ("axis",),
    "argmax": ("axis", "keepdims"), "argmin": ("axis", "keepdims"),
    "count_nonzero": ("axis", "keepdims"), "nonzero": (), "searchsorted": ("side", "sorter"),
    "where": (), "unique_all": (), "unique_counts": (), "unique_inverse": (),
    "unique_values": (), "argsort": ("axis", "descending", "stable"),
    "sort": ("axis", "descending", "stable"), "all": ("axis", "keepdims"),
    "any": ("axis", "keepdims"), "diff": ("axis", "n", "prepend", "append"),
    "take": ("axis",), "take_along_axis": ("axis",),
}
FFT_KEYWORDS = {
    **{f: ("n", "axis", "norm") for f in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")},
    **{f: ("s", "axes", "norm") for f in ("fftn", "ifftn", "rfftn", "irfftn")},
    "fftfreq": ("d", "dtype", "device"), "rfftfreq": ("d", "dtype", "device"),
    "fftshift": ("axes",), "ifftshift": ("axes",),
}


@pytest.mark.parametrize("space,table", [(ea, STANDARD_KEYWORDS), (ea.fft, FFT_KEYWORDS)],
                         ids=["main", "fft"])
def test_namespace_has_the_standard_functions_and_keywords(space, table):
    import inspect
    names = set(space.__all__)
    for fname, keywords in table.items():
        assert fname in names, fname
        params = inspect.signature(getattr(space, fname)).parameters
        for kw in keywords:
            assert kw in params, (fname, kw)
            assert params[kw].kind in (params[kw].POSITIONAL_OR_KEYWORD,
                                       params[kw].KEYWORD_ONLY), (fname, kw)
    assert set(FFT_KEYWORDS) == set(ea.fft.__all__)


# --------------------------------------------------------------------------- property


@st.composite
def _arrays_with_zeros(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    values = draw(st.lists(st.sampled_from([0.0, 0.0, -1.5, 0.5, 2.0, 3.0]),
                           min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return np.array(values).reshape(shape), axis


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(_arrays_with_zeros())
def test_product_derivatives_are_the_products_of_the_others(case):
    """Exact, not to a tolerance: each derivative is a product of the other elements."""
    x, axis = case
    ax = axis % x.ndim
    n = x.shape[ax]
    w = np.arange(1.0, n + 1.0)
    shaped = w.reshape([n if i == ax else 1 for i in range(x.ndim)])
    g = ea.grad(lambda x: ea.sum(ea.prod(x, axis=axis) * 2.0))(x)
    xm = np.moveaxis(x, ax, -1)
    want = np.stack([np.prod(np.delete(xm, i, axis=-1), axis=-1) for i in range(n)], -1) * 2.0
    np.testing.assert_array_equal(g, np.moveaxis(want, -1, ax))
    g = ea.grad(lambda x: ea.sum(ea.cumulative_prod(x, axis=axis) * shaped))(x)
    want = np.zeros_like(xm)
    for i in range(n):
        for k in range(i, n):
            want[..., i] += w[k] * np.prod(np.delete(xm[..., :k + 1], i, axis=-1), axis=-1)
    np.testing.assert_allclose(g, np.moveaxis(want, -1, ax), rtol=1e-14, atol=0)
