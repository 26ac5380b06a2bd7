"""The array API namespace's tables on every array backend of ``_array_backends.BACKENDS``:
elementwise functions (real, complex, float32, predicates, integers), creation functions,
statistics/searching/sorting/sets and manipulation, each imported from its own test module
(``test_namespace_*.py``), values against NumPy and gradients against finite differences
to second order in both modes (float64). A slow backend runs a subset of each table's rows
(``table_params``); the tables' own modules run every row on NumPy and array-api-strict."""

import numpy as np
import pytest
from _array_backends import check_array, convert, namespace, table_params
from test_namespace_creation import CREATION, LIKE, TRACED
from test_namespace_creation import X as CREATION_X
from test_namespace_elementwise import COMPLEX, FLOAT32, INTEGER, PREDICATES, SPECIAL, _c, _r
from test_namespace_elementwise import DIFFERENTIABLE as ELEMENTWISE
from test_namespace_manip import TABLE as MANIP
from test_namespace_stats import CONSTANT
from test_namespace_stats import DIFFERENTIABLE as STATS

import einsum_ad as ea
from einsum_ad import backend as B


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _check_all(b, got, want, what, **tol):
    got, want = _as_list(got), _as_list(want)
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        check_array(b, g, np.asarray(w), what=what, **tol)


# --------------------------------------------------------------------------- elementwise


@pytest.mark.parametrize("b, name, f, ref, build", table_params(ELEMENTWISE))
def test_elementwise_values(b, name, f, ref, build):
    args = build()
    check_array(b, f(*convert(b, args)), ref(*args), what=name)


@pytest.mark.parametrize("b, name, f, ref, build", table_params(ELEMENTWISE))
def test_elementwise_gradients(b, name, f, ref, build):
    ea.check_grads(f, convert(b, build()), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("b, name, f, ref", table_params(COMPLEX))
def test_elementwise_complex(b, name, f, ref):
    z = _c(3, 4) + (1.5 if name == "acosh" else 0.0)
    check_array(b, f(b.asarray(z)), ref(z), what=name)
    ea.check_grads(f, (b.asarray(z),), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("b, name", table_params([(n,) for n in FLOAT32]))
def test_elementwise_float32(b, name):
    f = getattr(ea, name)
    x = _r(3, 4, lo=0.2, hi=0.8) + (1.0 if name == "acosh" else 0.0)
    x32 = b.asarray(x.astype(np.float32))
    check_array(b, f(x32), f(x).astype(np.float32), rtol=2e-6, atol=2e-6, what=name)
    g = ea.grad(lambda v: ea.sum(f(v)))(x32)
    want = ea.grad(lambda v: ea.sum(f(v)))(x).astype(np.float32)
    check_array(b, g, want, rtol=1e-4, atol=1e-5, what=f"grad {name}")
    check_array(b, ea.jvp(f, (x32,), (x32,))[1], dtype=np.float32, what=f"jvp {name}")


@pytest.mark.parametrize("b, name, f, ref", table_params(PREDICATES))
def test_predicates_and_their_zero_derivatives(b, name, f, ref):
    check_array(b, f(b.asarray(SPECIAL)), ref(SPECIAL), what=name)
    finite = np.array([0.5, -1.0, 0.25])
    g = ea.grad(lambda v: ea.sum(ea.where(f(v), v, 2.0 * v)))(b.asarray(finite))
    check_array(b, g, np.where(ref(finite), 1.0, 2.0), what=name)
    _, t = ea.jvp(lambda v: ea.astype(f(v), ea.float64), (b.asarray(finite),),
                  (b.asarray(finite),))
    check_array(b, t, np.zeros(3), what=name)


_TORCH_NO_UINT16 = {"bitwise_invert", "bitwise_not", "invert", "bitwise_left_shift",
                    "left_shift", "bitwise_right_shift", "right_shift", "floor_divide",
                    "remainder"}


@pytest.mark.parametrize("b, name, f, ref, arity", table_params(INTEGER))
@pytest.mark.parametrize("dtype", ["int8", "int64", "uint16"])
def test_integer_functions_keep_the_integer_dtype(b, name, f, ref, arity, dtype):
    if dtype.startswith("u") and name in ("negative", "sign", "abs") and b.library != "numpy":
        pytest.skip("the standard leaves unsigned negation undefined")
    a = np.array([[5, 7, 1], [3, 0, 6]], dtype=dtype)
    c = np.array([2, 1, 3], dtype=dtype)
    args = (a, c)[:arity]
    if dtype == "uint16" and b.library == "torch" and name in _TORCH_NO_UINT16:
        # torch's 16-, 32- and 64-bit unsigned dtypes have few CPU kernels (not even add
        # or less): einsum_ad does not emulate them, torch's error is passed on
        with pytest.raises(RuntimeError, match="not implemented for 'UInt16'"):
            f(*convert(b, args))
        return
    with np.errstate(over="ignore"):
        check_array(b, f(*convert(b, args)), ref(*args), what=name)
        if arity == 2:  # a Python int is weak: it takes the array's dtype
            check_array(b, f(b.asarray(a), 1), ref(a, 1), what=f"{name} with 1")


# ------------------------------------------------------------------------------ creation


def _in_default_dtypes(b, want):
    """numpy's result in ``b``'s default dtypes: a creation function without ``dtype=``
    makes the library's default floating (complex) dtype, which is NumPy's float64 but
    torch's ``torch.get_default_dtype()``, float32 unless set (as the standard allows)."""
    found = ea.__array_namespace_info__().default_dtypes(device=b.device)
    names = {"float64": "real floating", "complex128": "complex floating"}
    kind = names.get(want.dtype.name)
    return want if kind is None else want.astype(B.dtype_name(found[kind]))


def _has_devices(b, row):
    # a creation function names its library by a device object (or like=): a library
    # without device objects (Dask) is reached through like= alone (the LIKE table)
    return b.library == "numpy" or b.device is not None


@pytest.mark.parametrize("b, name, call, want", table_params(CREATION, on=_has_devices))
def test_creation_values_and_library(b, name, call, want):
    out = call(b.device)
    assert B.of(out).name == b.library, name
    want = np.asarray(want) if name == "from_dlpack" else _in_default_dtypes(b, np.asarray(want))
    check_array(b, out, want, rtol=0, atol=0, what=name)  # (from_dlpack keeps X's dtype)


@pytest.mark.parametrize("b, name, call, want", table_params(LIKE))
def test_like_functions_keep_the_library(b, name, call, want):
    check_array(b, call(b.asarray(CREATION_X)), want, rtol=0, atol=0, what=name)


@pytest.mark.parametrize("b, name, f, build", table_params(
    TRACED, on=lambda b, row: b.library == "numpy" or row[0] != "full_like"))
def test_creation_derivatives(b, name, f, build):
    # full_like's template is a NumPy array: it fixes the library of its result (on
    # another backend that row would combine two libraries)
    opts = {"eps": 1e-2, "rtol": 1e-3} if name == "full_dtype" else {}  # float32 results
    ea.check_grads(f, convert(b, build()), order=2, modes=("fwd", "rev"), **opts)


# ---------------------------------------------------- statistics, searching, sorting, sets


@pytest.mark.parametrize("b, name, make, ref, build", table_params(STATS))
def test_statistics_values(b, name, make, ref, build):
    args = build()
    _check_all(b, make(namespace(b))(*convert(b, args)), ref(*args), name)


@pytest.mark.parametrize("b, name, make, ref, build", table_params(STATS))
def test_statistics_gradients(b, name, make, ref, build):
    ea.check_grads(make(namespace(b)), convert(b, build()), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("b, name, make, ref, build", table_params(CONSTANT))
def test_integer_valued_results(b, name, make, ref, build):
    """Values against numpy (the integer dtype's kind: numpy's intp is the library's
    index dtype), and under tracing in both modes a plain array of the backend."""
    args = build()
    f = make(namespace(b))
    got, want = _as_list(f(*convert(b, args))), _as_list(ref(*args))
    assert len(got) == len(want), name
    for g, w in zip(got, want):
        host = check_array(b, g, what=name)
        w = np.asarray(w)
        assert host.shape == w.shape and host.dtype.kind == w.dtype.kind, (name, host, w)
        np.testing.assert_array_equal(host, w, err_msg=name)
    if args[0].dtype.kind != "f":
        return
    xs = convert(b, args)
    seen = []

    def traced(x):
        seen.extend(_as_list(f(x, *xs[1:])))
        return x * 2.0

    ea.vjp(traced, xs[0])
    ea.jvp(traced, (xs[0],), (xs[0],))
    if name.startswith("unique"):  # the unique values are differentiable (test_qa_sets)
        seen = [v for v in seen if ea.backend.kind(v.dtype) in "biu"]
    for v in seen:
        assert not isinstance(v, ea.core.Tracer), name
        check_array(b, v, what=name)


# --------------------------------------------------------------------------- manipulation


@pytest.mark.parametrize("b, name, make, ref, build", table_params(MANIP))
def test_manipulation_values(b, name, make, ref, build):
    args = build()
    got, want = make(namespace(b))(*convert(b, args)), ref(*args)
    assert isinstance(got, (tuple, list)) == isinstance(want, (tuple, list)), name
    _check_all(b, got, want, name, rtol=0, atol=0)


@pytest.mark.parametrize("b, name, make, ref, build", table_params(MANIP))
def test_manipulation_gradients(b, name, make, ref, build):
    ea.check_grads(make(namespace(b)), convert(b, build()), order=2, modes=("fwd", "rev"))
