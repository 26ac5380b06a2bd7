"""The array API standard's creation functions, data types, data type functions, constants and
inspection API: values and dtypes against numpy, the library chosen by ``device=`` and
``like``-arguments, ``asarray``'s ``copy=``, and the derivatives of the creation functions
that take a traced value (``full``, ``linspace``, ``meshgrid``, ``tril``/``triu``, ...)."""

import math

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad import backend as _backend

try:
    import array_api_strict as xp
except ImportError:
    xp = None

needs_strict = pytest.mark.skipif(xp is None, reason="array-api-strict is not installed")
# array-api-strict's dtypes hash like NumPy's: the engine's dtype-keyed dicts (backend.kind,
# _args._pair) compare the two on a hash collision, and array-api-strict warns each time
pytestmark = pytest.mark.filterwarnings(
    "ignore:You are comparing a array_api_strict dtype:UserWarning")
BACKENDS = ["numpy"] + (["array_api_strict"] if xp is not None else [])


def _np(x):
    b = _backend.of(x)
    return np.asarray(x if b is None else b.to_numpy(x))


def _to(backend, a):
    return a if backend == "numpy" else xp.asarray(a)


def _device(backend):
    return None if backend == "numpy" else xp.asarray(0.0).device


def _same(got, want):
    """Equal values, shape and dtype (by name: another library's dtype object compares
    unequal to NumPy's)."""
    g, w = _np(got), np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert _backend.dtype_name(got.dtype) == w.dtype.name, (got.dtype, w.dtype)
    np.testing.assert_array_equal(g, w)


X = np.arange(6.0).reshape(2, 3)

# name, einsum_ad call with the device (None: NumPy's), numpy's result
CREATION = [
    ("zeros", lambda d: ea.zeros((2, 3), device=d), np.zeros((2, 3))),
    ("zeros_int", lambda d: ea.zeros(4, dtype=ea.int32, device=d), np.zeros(4, np.int32)),
    ("zeros_0d", lambda d: ea.zeros((), device=d), np.zeros(())),
    ("zeros_empty", lambda d: ea.zeros((0, 2), device=d), np.zeros((0, 2))),
    ("ones", lambda d: ea.ones((2, 1), dtype="float32", device=d), np.ones((2, 1), np.float32)),
    ("ones_bool", lambda d: ea.ones(2, dtype=bool, device=d), np.ones(2, bool)),
    ("empty_shape", lambda d: ea.zeros_like(ea.empty((3, 2), device=d)), np.zeros((3, 2))),
    ("full_int", lambda d: ea.full((2, 2), 7, device=d), np.full((2, 2), 7)),
    ("full_float", lambda d: ea.full(3, -1.5, device=d), np.full(3, -1.5)),
    ("full_bool", lambda d: ea.full(2, True, device=d), np.full(2, True)),
    ("full_complex", lambda d: ea.full(2, 1 + 2j, device=d), np.full(2, 1 + 2j)),
    ("full_dtype", lambda d: ea.full(2, 3, dtype=ea.float32, device=d),
     np.full(2, 3, np.float32)),
    ("arange_stop", lambda d: ea.arange(5, device=d), np.arange(5)),
    ("arange_float", lambda d: ea.arange(0.5, 3, 0.5, device=d), np.arange(0.5, 3, 0.5)),
    ("arange_negative_step", lambda d: ea.arange(5, 0, -2, device=d), np.arange(5, 0, -2)),
    ("arange_empty", lambda d: ea.arange(3, 1, device=d), np.arange(3, 1)),
    ("arange_step_keyword", lambda d: ea.arange(6, step=2, device=d), np.arange(6, step=2)),
    ("arange_dtype", lambda d: ea.arange(4, dtype=ea.float32, device=d),
     np.arange(4, dtype=np.float32)),
    ("linspace", lambda d: ea.linspace(0, 1, 5, device=d), np.linspace(0, 1, 5)),
    ("linspace_no_endpoint", lambda d: ea.linspace(-1.0, 1.0, 4, endpoint=False, device=d),
     np.linspace(-1.0, 1.0, 4, endpoint=False)),
    ("linspace_one", lambda d: ea.linspace(2.0, 3.0, 1, device=d), np.linspace(2.0, 3.0, 1)),
    ("linspace_zero", lambda d: ea.linspace(2.0, 3.0, 0, device=d), np.linspace(2.0, 3.0, 0)),
    ("linspace_float32", lambda d: ea.linspace(0, 1, 3, dtype=ea.float32, device=d),
     np.linspace(0, 1, 3, dtype=np.float32)),
    ("eye", lambda d: ea.eye(3, device=d), np.eye(3)),
    ("eye_rect_k", lambda d: ea.eye(2, 4, k=2, device=d), np.eye(2, 4, k=2)),
    ("eye_negative_k", lambda d: ea.eye(3, k=-1, dtype=ea.int8, device=d),
     np.eye(3, k=-1, dtype=np.int8)),
    ("asarray_list", lambda d: ea.asarray([[1, 2], [3, 4]], device=d), np.asarray([[1, 2],
                                                                                [3, 4]])),
    ("asarray_scalar", lambda d: ea.asarray(2.5, device=d), np.asarray(2.5)),
    ("asarray_dtype", lambda d: ea.asarray([1, 0], dtype=ea.bool, device=d),
     np.asarray([1, 0], dtype=bool)),
    ("from_dlpack", lambda d: ea.from_dlpack(X, device=d), X),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,call,want", CREATION, ids=[c[0] for c in CREATION])
def test_creation_values_and_library(backend, name, call, want):
    out = call(_device(backend))
    assert _backend.of(out).name == backend
    _same(out, want)


LIKE = [
    ("zeros_like", lambda x: ea.zeros_like(x), np.zeros_like(X)),
    ("ones_like", lambda x: ea.ones_like(x), np.ones_like(X)),
    ("empty_like", lambda x: ea.zeros_like(ea.empty_like(x)), np.zeros_like(X)),
    ("full_like", lambda x: ea.full_like(x, 2.5), np.full_like(X, 2.5)),
    ("zeros_like_dtype", lambda x: ea.zeros_like(x, dtype=ea.int16), np.zeros((2, 3),
                                                                              np.int16)),
    ("full_like_int_cast", lambda x: ea.full_like(ea.astype(x, ea.int64), 2.7),
     np.full_like(X.astype(np.int64), 2.7)),
    ("ones_like_shape", lambda x: ea.ones_like(x, shape=(4,)), np.ones(4)),
    ("tril", lambda x: ea.tril(x), np.tril(X)),
    ("tril_k", lambda x: ea.tril(x, k=1), np.tril(X, k=1)),
    ("triu", lambda x: ea.triu(x), np.triu(X)),
    ("triu_negative_k", lambda x: ea.triu(x, k=-1), np.triu(X, k=-1)),
    ("triu_far_k", lambda x: ea.triu(x, k=5), np.triu(X, k=5)),
    ("meshgrid_xy", lambda x: ea.meshgrid(x[0, :], x[1, :2])[0],
     np.meshgrid(X[0], X[1, :2])[0]),
    ("meshgrid_ij", lambda x: ea.meshgrid(x[0, :], x[1, :2], indexing="ij")[1],
     np.meshgrid(X[0], X[1, :2], indexing="ij")[1]),
    ("meshgrid_three", lambda x: ea.meshgrid(x[0, :], x[1, :2], x[0, :1])[2],
     np.meshgrid(X[0], X[1, :2], X[0, :1])[2]),
    ("asarray_keeps", lambda x: ea.asarray(x), X),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,call,want", LIKE, ids=[c[0] for c in LIKE])
def test_like_functions_keep_the_library(backend, name, call, want):
    out = call(_to(backend, X))
    assert _backend.of(out).name == backend
    _same(out, want)


def test_fill_values_keep_their_sign_and_nan():
    """A regression test: full_like filled through zeros() when the value == 0, which lost
    the sign of -0.0."""
    for got in (ea.full_like(np.ones(2), -0.0), ea.full(2, -0.0)):
        assert np.all(np.signbit(got)) and np.all(got == 0)
    assert np.all(np.isnan(ea.full_like(np.ones(2), np.nan)))
    _same(ea.full_like(np.ones(2), True), np.full_like(np.ones(2), True))


def test_tril_triu_batched_and_vector_as_numpy():
    a = np.arange(24.0).reshape(2, 3, 4)
    _same(ea.tril(a, k=1), np.tril(a, k=1))
    _same(ea.triu(a, -2), np.triu(a, -2))
    v = np.arange(1, 4)
    _same(ea.tril(v), np.tril(v))  # numpy reads a vector as the rows of a square matrix
    _same(ea.triu(np.array([[True, True], [True, True]])), np.triu(np.ones((2, 2), bool)))


def test_meshgrid_options_and_edge_cases():
    a, b = np.arange(3), np.arange(2.0)
    for got, want in zip(ea.meshgrid(a, b, sparse=True), np.meshgrid(a, b, sparse=True)):
        _same(got, want)
    assert isinstance(ea.meshgrid(a, b), list)  # the standard's list (numpy 2: a tuple)
    assert ea.meshgrid() == []
    (only,) = ea.meshgrid(a)
    _same(only, a)
    views = ea.meshgrid(a, b, copy=False)
    assert not views[0].flags.writeable
    assert ea.meshgrid(a, b)[0].flags.writeable


def test_orders_and_numpy_extras():
    assert ea.zeros((2, 3), order="F").flags.f_contiguous
    assert ea.eye(3, order="F").flags.f_contiguous
    f = np.asfortranarray(X)
    assert ea.zeros_like(f).flags.f_contiguous  # order="K" keeps the layout
    assert ea.zeros_like(f, order="C").flags.c_contiguous
    samples, step = ea.linspace(0.0, 1.0, 5, retstep=True)
    np.testing.assert_array_equal(samples, np.linspace(0.0, 1.0, 5))
    assert step == 0.25
    _same(ea.linspace([0.0, 1.0], 2.0, 3, axis=-1), np.linspace([0.0, 1.0], 2.0, 3, axis=-1))
    _same(ea.full((2, 3), np.array([1.0, 2.0, 3.0])), np.full((2, 3), [1.0, 2.0, 3.0]))
    _same(ea.full(2, np.float32(1.5)), np.full(2, np.float32(1.5)))
    assert ea.full(2, 1.0).flags.writeable


# --------------------------------------------------------------------- which library


@needs_strict
def test_device_chooses_the_library():
    d = xp.asarray(0.0).device
    assert _backend.of(ea.zeros(2, device=d)).name == "array_api_strict"
    assert _backend.of(ea.zeros(2, device="cpu")).name == "numpy"
    assert _backend.of(ea.zeros(2)).name == "numpy"
    # like= and the *_like functions: the argument's library
    assert _backend.of(ea.ones(3, like=xp.asarray([1.0]))).name == "array_api_strict"
    assert _backend.of(ea.eye(2, like=xp.asarray([1.0]))).name == "array_api_strict"
    # a *_like function asked for another library's device: there, with x's dtype by name
    out = ea.zeros_like(np.ones(2, np.float32), device=d)
    assert _backend.of(out).name == "array_api_strict" and out.dtype == xp.float32
    out = ea.full_like(xp.asarray([1, 2]), 3, device="cpu")
    assert isinstance(out, np.ndarray) and out.dtype == np.int64
    # a NumPy dtype object (the namespace's) is read by name in every library
    assert ea.arange(3, dtype=ea.int16, device=d).dtype == xp.int16
    with pytest.raises(ValueError, match="not a device of like's library"):
        ea.zeros(2, device="cpu", like=xp.asarray([1.0]))


def test_device_errors():
    with pytest.raises(ValueError, match="NumPy's only device is 'cpu'"):
        ea.zeros(2, device="cuda")
    with pytest.raises(TypeError, match="belongs to no array library"):
        ea.ones(2, device=object())


@needs_strict
def test_asarray_moves_between_libraries():
    d = xp.asarray(0.0).device
    a = ea.asarray(np.arange(3.0), device=d)
    assert _backend.of(a).name == "array_api_strict"
    back = ea.asarray(a, device="cpu")
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, [0, 1, 2])
    with pytest.raises(ValueError, match="needs a copy"):
        ea.asarray(np.arange(3.0), device=d, copy=False)
    s = xp.asarray([1, 2])
    assert ea.asarray(s) is s
    assert ea.asarray([1.0, 2.0], like=s).dtype == xp.float64


def test_asarray_copy_semantics():
    x = np.arange(3.0)
    assert ea.asarray(x) is x
    assert ea.asarray(x, copy=False) is x
    c = ea.asarray(x, copy=True)
    c[0] = 9.0
    assert x[0] == 0.0
    assert ea.asarray(x, dtype=ea.float64) is x
    y = ea.asarray(x, dtype=ea.float32)
    assert y.dtype == np.float32
    with pytest.raises(ValueError):
        ea.asarray(x, dtype=ea.float32, copy=False)
    with pytest.raises(ValueError):
        ea.asarray([1, 2], copy=False)
    assert ea.asarray(np.float64(1.5)).shape == ()  # a 0-d array, not a scalar
    assert isinstance(ea.asarray(np.float64(1.5)), np.ndarray)
    assert ea.asarray(x, order="F") is x


def test_asarray_of_traced_values():
    def f(v):
        w = ea.asarray(v)
        assert w is v
        return ea.sum(ea.asarray(v, dtype=ea.float32) * 2.0)

    g = ea.grad(f)(np.ones(3))
    np.testing.assert_array_equal(g, [2, 2, 2])
    assert g.dtype == np.float64
    with pytest.raises(ValueError, match="copy=False"):
        ea.grad(lambda v: ea.sum(ea.asarray(v, dtype=ea.float32, copy=False)))(np.ones(2))


# ------------------------------------------------------- derivatives through creation

TRACED = [
    ("full", lambda v: ea.full((2, 3), v[0]), lambda: (np.array([0.7, 1.3]),)),
    ("full_dtype", lambda v: ea.full((3,), v[1], dtype=ea.float32), lambda: (np.array([0.7,
                                                                                      1.3]),)),
    ("full_like", lambda v: ea.full_like(np.zeros((2, 2)), v[0] * v[1]),
     lambda: (np.array([0.7, 1.3]),)),
    ("full_row", lambda v: ea.full((2, 3), v), lambda: (np.array([0.7, 1.3, -0.2]),)),
    ("linspace", lambda a, b: ea.linspace(a, b, 5), lambda: (np.array(-0.5), np.array(2.0))),
    ("linspace_no_endpoint", lambda a, b: ea.linspace(a, b, 4, endpoint=False),
     lambda: (np.array(-0.5), np.array(2.0))),
    ("linspace_vector_axis", lambda a, b: ea.linspace(a, b, 3, axis=1),
     lambda: (np.array([0.0, 1.0]), np.array([2.0, -1.0]))),
    ("linspace_retstep", lambda a, b: ea.linspace(a, b, 3, retstep=True)[1] * a,
     lambda: (np.array(0.5), np.array(2.0))),
    ("meshgrid", lambda a, b: ea.meshgrid(a, b)[0] * ea.meshgrid(a, b)[1] ** 2,
     lambda: (np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.3]))),
    ("meshgrid_ij_sparse", lambda a, b: ea.meshgrid(a, b, indexing="ij", sparse=True)[1] * a[0],
     lambda: (np.array([0.5, -1.0]), np.array([1.5, 0.3, 0.2]))),
    ("tril", lambda x: ea.tril(x) * x, lambda: (np.arange(12.0).reshape(3, 4) / 7,)),
    ("triu_batched", lambda x: ea.triu(x, k=1), lambda: (np.arange(24.0).reshape(2, 3, 4),)),
    ("tril_vector", lambda x: ea.tril(x, k=-1), lambda: (np.array([0.5, 1.0, 2.0]),)),
    ("asarray", lambda x: ea.asarray(x) ** 2, lambda: (np.array([0.5, 1.0]),)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,f,build", TRACED, ids=[t[0] for t in TRACED])
def test_creation_derivatives_both_modes_second_order(backend, name, f, build):
    args = tuple(_to(backend, a) for a in build())
    if backend != "numpy" and name in ("full_like",):
        pytest.skip("full_like's NumPy template fixes the library")
    if name == "full_dtype":  # float32 results: a float32 finite difference is too coarse
        ea.check_grads(f, args, order=2, modes=("fwd", "rev"), eps=1e-2, rtol=1e-3)
        return
    ea.check_grads(f, args, order=2, modes=("fwd", "rev"))


def test_creation_derivative_values():
    a, b = 0.5, 2.0
    ga, gb = ea.grad(lambda a, b: ea.sum(ea.linspace(a, b, 5) * np.arange(5.0)),
                     argnums=(0, 1))(a, b)
    t = np.linspace(0, 1, 5)
    np.testing.assert_allclose([ga, gb], [np.sum((1 - t) * np.arange(5)),
                                          np.sum(t * np.arange(5))])
    x = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.tril(x)))(x), np.tril(np.ones(
        (3, 3))))
    _, t = ea.jvp(lambda x: ea.triu(x, 1), (x,), (np.ones((3, 3)),))
    np.testing.assert_array_equal(t, np.triu(np.ones((3, 3)), 1))
    # an inf in the masked-out triangle never becomes NaN in the cotangent
    (ct,) = ea.vjp(ea.tril, x)[1](np.full((3, 3), np.inf))
    assert not np.any(np.isnan(ct))


def test_constant_creation_of_traced_shapes():
    def f(v):
        z = ea.zeros_like(v)  # reads only the shape and dtype: a constant
        assert not isinstance(z, ea.core.Tracer)
        return ea.sum(v + z + ea.ones_like(v))

    np.testing.assert_array_equal(ea.grad(f)(np.ones(2)), [1, 1])
    with pytest.raises(TypeError, match="traced"):
        ea.grad(lambda v: ea.sum(ea.arange(v)))(3.0)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ea.zeros((2, -1)), ValueError, "negative dimensions"),
    (lambda: ea.ones("3"), TypeError, "shape must be an int"),
    (lambda: ea.zeros(2, order="X"), ValueError, "order"),
    (lambda: ea.zeros(2, dtype="float128x"), TypeError, "float128x"),
    (lambda: ea.arange(0, 5, 0), ValueError, "step"),
    (lambda: ea.linspace(0, 1, -1), ValueError, "non-negative"),
    (lambda: ea.linspace(0, 1, 2.5), TypeError, "integer"),
    (lambda: ea.eye(2.5), TypeError, "integers"),
    (lambda: ea.eye(-1), ValueError, "negative"),
    (lambda: ea.full(2, "a"), TypeError, "fill_value"),
    (lambda: ea.full((2, 3), np.ones(4)), ValueError, "broadcast"),
    (lambda: ea.tril(np.float64(1.0)), ValueError, "at least 1 dimension"),
    (lambda: ea.triu(np.ones((2, 2)), k=0.5), TypeError, "integer"),
    (lambda: ea.meshgrid(np.ones(2), indexing="xz"), ValueError, "indexing"),
    (lambda: ea.asarray(["a", "b"]), TypeError, "numeric"),
    (lambda: ea.from_dlpack(3), TypeError, "__dlpack__"),
])
def test_bad_input_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------------------- dtypes

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64", "complex64", "complex128"]


def test_dtype_objects_are_numpys():
    for name in DTYPES:
        d = getattr(ea, name)
        assert isinstance(d, np.dtype) and d == np.dtype(name)
        assert np.zeros(1, dtype=name).dtype == d  # what x.dtype is
    assert ea.bool is not bool and ea.bool == np.bool_


@pytest.mark.parametrize("backend", BACKENDS)
def test_result_type(backend):
    ns = ea if backend == "numpy" else xp
    rt = ea.result_type
    assert rt(ns.int8, ns.uint8) == ns.int16
    assert rt(ns.float32, ns.float64) == ns.float64
    assert rt(ns.float32, 1.0) == ns.float32  # Python scalars are weak
    assert rt(ns.int8, 1) == ns.int8
    assert rt(ns.float32, ns.complex64) == ns.complex64
    assert rt(ns.bool, ns.bool) == ns.bool
    a = ea.zeros(2, dtype=ns.int16, device=_device(backend))
    assert rt(a, ns.int32) == ns.int32
    assert rt(ea.zeros(1, dtype=ns.float32, device=_device(backend)), 1j) == ns.complex64
    traced = []
    ea.grad(lambda v: traced.append(rt(v, ns.float32)) or ea.sum(v))(
        ea.ones(2, device=_device(backend)))
    assert traced == [ns.float64]


def test_result_type_errors():
    with pytest.raises(ValueError, match="at least one"):
        ea.result_type()
    if xp is not None:
        with pytest.raises(TypeError, match="two libraries"):
            ea.result_type(xp.asarray([1.0]), np.ones(1) + 0j, xp.int8)


@pytest.mark.parametrize("backend", BACKENDS)
def test_can_cast(backend):
    ns = ea if backend == "numpy" else xp
    assert ea.can_cast(ns.int8, ns.int16) and ea.can_cast(ns.uint8, ns.int16)
    assert not ea.can_cast(ns.int16, ns.int8)
    assert not ea.can_cast(ns.float64, ns.float32)
    assert ea.can_cast(ns.float32, ns.complex64)
    assert not ea.can_cast(ns.complex64, ns.float64)
    assert ea.can_cast(ea.zeros(1, dtype=ns.int8, device=_device(backend)), ns.int32)
    assert ea.can_cast(ns.float64, ns.float32, casting="same_kind")
    assert isinstance(ea.can_cast(ns.int8, ns.int8), bool)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["float32", "float64", "complex64", "complex128"])
def test_finfo(backend, name):
    ns = ea if backend == "numpy" else xp
    ref = np.finfo(name)
    for arg in (getattr(ns, name), ea.zeros(1, dtype=getattr(ns, name),
                                            device=_device(backend))):
        info = ea.finfo(arg)
        assert isinstance(info.bits, int) and info.bits == ref.bits
        for attr in ("eps", "max", "min", "smallest_normal"):
            assert type(getattr(info, attr)) is float
            assert getattr(info, attr) == float(getattr(ref, attr))
        assert _backend.dtype_name(info.dtype) == ref.dtype.name
    if backend == "numpy":
        assert ea.finfo(name).tiny == ref.tiny  # numpy's own attributes too


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8", "uint64"])
def test_iinfo(backend, name):
    ns = ea if backend == "numpy" else xp
    ref = np.iinfo(name)
    for arg in (getattr(ns, name), ea.zeros(1, dtype=getattr(ns, name),
                                            device=_device(backend))):
        info = ea.iinfo(arg)
        assert (info.bits, info.min, info.max) == (ref.bits, ref.min, ref.max)
        assert type(info.max) is int and type(info.min) is int
        assert info.dtype == getattr(ns, name)


def test_info_errors():
    with pytest.raises(ValueError, match="not a floating"):
        ea.finfo(ea.int32)
    with pytest.raises(ValueError, match="not an integer"):
        ea.iinfo(ea.float32)
    with pytest.raises(TypeError, match="not a data type"):
        ea.finfo("nothing")


KINDS = {"bool": ["bool"], "signed integer": ["int8", "int16", "int32", "int64"],
         "unsigned integer": ["uint8", "uint16", "uint32", "uint64"],
         "real floating": ["float32", "float64"], "complex floating": ["complex64",
                                                                       "complex128"]}
KINDS["integral"] = KINDS["signed integer"] + KINDS["unsigned integer"]
KINDS["numeric"] = KINDS["integral"] + KINDS["real floating"] + KINDS["complex floating"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_isdtype(backend):
    ns = ea if backend == "numpy" else xp
    for kind, names in KINDS.items():
        for name in DTYPES:
            assert ea.isdtype(getattr(ns, name), kind) is (name in names), (kind, name)
    assert ea.isdtype(ns.float32, ns.float32)
    assert not ea.isdtype(ns.float32, ns.float64)
    assert ea.isdtype(ns.int8, ("real floating", ns.int8))
    assert not ea.isdtype(ns.uint8, ("bool", "signed integer"))
    with pytest.raises(ValueError, match="unknown kind"):
        ea.isdtype(ns.int8, "integer")
    with pytest.raises(TypeError, match="data type"):
        ea.isdtype(ea.zeros(1, device=_device(backend)), "numeric")


# --------------------------------------------------------------- constants, inspection


def test_constants_and_version():
    assert ea.__array_api_version__ == "2024.12"
    assert ea.e == math.e and ea.pi == math.pi and ea.inf == math.inf
    assert math.isnan(ea.nan) and ea.newaxis is None
    assert np.ones(2)[ea.newaxis].shape == (1, 2)
    for name in ("e", "pi", "inf", "nan"):
        assert type(getattr(ea, name)) is float


def test_inspection_namespace():
    info = ea.__array_namespace_info__()
    caps = info.capabilities()
    assert caps == {"boolean indexing": True, "data-dependent shapes": True,
                    "max dimensions": 64}
    assert info.default_device() == "cpu"
    devices = info.devices()
    assert isinstance(devices, list) and devices[0] == "cpu"
    assert info.default_dtypes() == {"real floating": ea.float64,
                                     "complex floating": ea.complex128,
                                     "integral": ea.int64, "indexing": np.dtype(np.intp)}
    assert list(info.dtypes()) == DTYPES
    for kind, names in KINDS.items():
        assert list(info.dtypes(kind=kind)) == names
    assert list(info.dtypes(kind=("bool", "complex floating"))) == ["bool", "complex64",
                                                                   "complex128"]
    for device in devices:
        for dt in info.dtypes(device=device).values():
            _backend.of(ea.empty(1, dtype=dt, device=device))  # each is a valid dtype there


@needs_strict
def test_inspection_of_another_library():
    d = xp.asarray(0.0).device
    info = ea.__array_namespace_info__()
    assert d in info.devices()  # array-api-strict has been used in this process
    assert info.default_dtypes(device=d)["real floating"] == xp.float64
    assert info.dtypes(device=d, kind="real floating") == {"float32": xp.float32,
                                                           "float64": xp.float64}
