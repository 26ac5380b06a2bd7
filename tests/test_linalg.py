"""``ea.linalg``: forward values against numpy.linalg on every backend, the standard's
signatures, errors, and how the functions are recorded (derivatives: test_linalg_grads.py).

One row per function of the table: the function, numpy's reference, and the inputs
(stacks of matrices, real and complex, float32 and float64).
"""

import importlib.util
import inspect
import math
from functools import partial

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad import backend as B
from einsum_ad import rules

# array-api-strict warns when the engine's dtype cache meets its dtypes (the backends
# layer's, not this module's): not what these tests are about
pytestmark = pytest.mark.filterwarnings("ignore:You are comparing a array_api_strict dtype")

HAS_STRICT = importlib.util.find_spec("array_api_strict") is not None
BACKENDS = ["numpy"] + (["array_api_strict"] if HAS_STRICT else [])

rng = np.random.default_rng(20261126)


def _rand(shape, dtype):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def gen(*shape):
    return lambda dtype: _rand(shape, dtype)


def square(*shape):
    """Well-conditioned square matrices (a random matrix plus a multiple of I)."""
    n = shape[-1]
    return lambda dtype: (_rand(shape, dtype) + 2 * n ** 0.5 * np.eye(n)).astype(dtype)


def hpd(*shape):
    """Hermitian positive-definite matrices."""
    def make(dtype):
        a = _rand(shape, dtype)
        return (a @ np.conj(np.swapaxes(a, -1, -2)) + shape[-1] * np.eye(shape[-1])).astype(
            dtype)
    return make


def to_backend(x, name):
    if name == "numpy" or not isinstance(x, np.ndarray):
        return x
    import array_api_strict as xp
    return xp.asarray(x)


def to_numpy(x):
    if isinstance(x, tuple):
        return tuple(to_numpy(v) for v in x)
    b = B.of(x)
    return np.asarray(x) if b is None else np.asarray(b.to_numpy(x))


L, NL = ea.linalg, np.linalg
GAUGE_OF_NUMPY = {"eigh-upper"}


def _projector(res):
    """``(w, V * conj(V))``: what does not depend on the eigenvectors' phases."""
    w, v = res
    return w, ea.multiply(v, rules.conj_p(v))
INF = math.inf

# (id, einsum_ad function, numpy reference, input makers)
FORWARD = [
    ("cholesky", L.cholesky, NL.cholesky, [hpd(2, 3, 3)]),
    ("cholesky-upper", lambda a: L.cholesky(a, upper=True),
     lambda a: NL.cholesky(a, upper=True), [hpd(3, 3)]),
    ("cross", L.cross, NL.cross, [gen(4, 1, 3), gen(5, 3)]),
    ("cross-axis", lambda a, b: L.cross(a, b, axis=-2), lambda a, b: NL.cross(a, b, axis=-2),
     [gen(3, 4), gen(2, 3, 1)]),
    ("det", L.det, NL.det, [square(2, 3, 3)]),
    ("diagonal", lambda a: L.diagonal(a, offset=1), lambda a: NL.diagonal(a, offset=1),
     [gen(2, 3, 4)]),
    ("eigh", L.eigh, NL.eigh, [gen(2, 3, 3)]),
    ("eigh-upper", lambda a: L.eigh(a, "U"), lambda a: NL.eigh(a, "U"), [gen(3, 3)]),
    ("eigh-upper-projector", lambda a: _projector(L.eigh(a, "U")),
     lambda a: _projector(NL.eigh(a, "U")), [gen(3, 3)]),
    ("eigvalsh", L.eigvalsh, NL.eigvalsh, [gen(2, 4, 4)]),
    ("inv", L.inv, NL.inv, [square(2, 3, 3)]),
    ("matmul", L.matmul, NL.matmul, [gen(2, 3, 4), gen(4, 2)]),
    *[(f"matrix_norm-{o}", partial(L.matrix_norm, ord=o),
       partial(NL.matrix_norm, ord=o), [gen(2, 3, 4)])
      for o in ("fro", "nuc", 1, -1, 2, -2, INF, -INF)],
    ("matrix_norm-keepdims", lambda a: L.matrix_norm(a, keepdims=True, ord="nuc"),
     lambda a: NL.matrix_norm(a, keepdims=True, ord="nuc"), [gen(2, 4, 3)]),
    *[(f"matrix_power-{n}", partial(L.matrix_power, n=n),
       partial(NL.matrix_power, n=n), [square(2, 3, 3)])
      for n in (0, 1, 2, 5, -1, -3)],
    ("matrix_rank", L.matrix_rank, NL.matrix_rank,
     [lambda dt: (gen(2, 4, 2)(dt) @ gen(2, 2, 3)(dt))]),
    ("matrix_rank-rtol", lambda a: L.matrix_rank(a, rtol=0.5),
     lambda a: NL.matrix_rank(a, rtol=0.5), [gen(3, 4, 4)]),
    ("matrix_transpose", L.matrix_transpose, NL.matrix_transpose, [gen(2, 3, 4)]),
    ("outer", L.outer, NL.outer, [gen(3), gen(4)]),
    ("pinv-tall", L.pinv, NL.pinv, [gen(2, 4, 3)]),
    ("pinv-wide", L.pinv, NL.pinv, [gen(3, 5)]),
    ("pinv-hermitian", lambda a: L.pinv(a, hermitian=True),
     lambda a: NL.pinv(a, hermitian=True), [gen(3, 3)]),
    ("qr-reduced-tall", L.qr, NL.qr, [gen(2, 4, 3)]),
    ("qr-complete-tall", lambda a: L.qr(a, "complete"), lambda a: NL.qr(a, "complete"),
     [gen(4, 3)]),
    ("qr-wide", L.qr, NL.qr, [gen(2, 3, 5)]),
    ("qr-r", lambda a: L.qr(a, "r"), lambda a: NL.qr(a, "r"), [gen(4, 3)]),
    ("slogdet", L.slogdet, NL.slogdet, [square(2, 3, 3)]),
    ("solve", L.solve, NL.solve, [square(2, 3, 3), gen(2, 3, 2)]),
    ("solve-vector", L.solve, NL.solve, [square(2, 3, 3), gen(3)]),
    ("solve-broadcast", L.solve, NL.solve, [square(3, 3), gen(2, 3, 4)]),
    ("svd-full-tall", L.svd, NL.svd, [gen(2, 4, 3)]),
    ("svd-thin-wide", lambda a: L.svd(a, full_matrices=False),
     lambda a: NL.svd(a, full_matrices=False), [gen(2, 3, 5)]),
    ("svd-values", lambda a: L.svd(a, compute_uv=False), lambda a: NL.svd(a, compute_uv=False),
     [gen(3, 4)]),
    ("svdvals", L.svdvals, NL.svdvals, [gen(2, 4, 3)]),
    ("tensordot", lambda a, b: L.tensordot(a, b, axes=1), lambda a, b: NL.tensordot(a, b, axes=1),
     [gen(2, 3), gen(3, 4)]),
    ("trace", lambda a: L.trace(a, offset=-1), lambda a: NL.trace(a, offset=-1), [gen(2, 3, 4)]),
    ("vecdot", L.vecdot, NL.vecdot, [gen(2, 3), gen(4, 1, 3)]),
    *[(f"vector_norm-{o}", partial(L.vector_norm, axis=(0, 2), ord=o),
       partial(NL.vector_norm, axis=(0, 2), ord=o), [gen(2, 3, 4)])
      for o in (2, 1, INF, -INF, 0, -1, -2, 3, 0.5)],
    ("vector_norm-all-keepdims", lambda a: L.vector_norm(a, keepdims=True),
     lambda a: NL.vector_norm(a, keepdims=True), [gen(2, 3)]),
    # numpy's own functions
    ("norm", L.norm, NL.norm, [gen(2, 3, 4)]),
    *[(f"norm-matrix-{o}", partial(L.norm, ord=o, axis=(2, 0), keepdims=True),
       partial(NL.norm, ord=o, axis=(2, 0), keepdims=True), [gen(3, 2, 4)])
      for o in (None, "fro", "nuc", 1, -1, 2, -2, INF, -INF)],
    *[(f"norm-vector-{o}", partial(L.norm, ord=o, axis=1),
       partial(NL.norm, ord=o, axis=1), [gen(3, 4)])
      for o in (None, 0, 1, -1, 2, INF, -INF, 3)],
    ("lstsq-tall", lambda a, b: L.lstsq(a, b)[:2] + (L.lstsq(a, b)[3],),
     lambda a, b: NL.lstsq(a, b)[:2] + (NL.lstsq(a, b)[3],), [gen(5, 3), gen(5, 2)]),
    ("lstsq-vector", lambda a, b: L.lstsq(a, b)[:2], lambda a, b: NL.lstsq(a, b)[:2],
     [gen(5, 3), gen(5)]),
    ("lstsq-wide", lambda a, b: L.lstsq(a, b)[:2], lambda a, b: NL.lstsq(a, b)[:2],
     [gen(2, 4), gen(2, 3)]),
    ("multi_dot", lambda *a: L.multi_dot(a), lambda *a: NL.multi_dot(a),
     [gen(3), gen(3, 4), gen(4, 5), gen(5)]),
    ("cond", L.cond, NL.cond, [square(2, 3, 3)]),
    ("cond-1", lambda a: L.cond(a, 1), lambda a: NL.cond(a, 1), [square(3, 3)]),
]
DTYPES = [np.float64, np.float32, np.complex128]


# every row on NumPy in three dtypes; on the other backends in float64 and complex128,
# except rows that compare eigenvectors with numpy's own signs (they depend on the
# library's routine: the standard has no UPLO; eigh-upper-projector checks every backend)
CASES = [pytest.param(*row, dtype, backend, id=f"{row[0]}-{np.dtype(dtype).name}-{backend}")
         for backend in BACKENDS for dtype in DTYPES for row in FORWARD
         if backend == "numpy" or (dtype != np.float32 and row[0] not in GAUGE_OF_NUMPY)]


@pytest.mark.parametrize("name, f, ref, makers, dtype, backend", CASES)
def test_forward_matches_numpy(name, f, ref, makers, dtype, backend):
    args = [m(dtype) for m in makers]
    want = ref(*args)
    got = f(*[to_backend(a, backend) for a in args])
    want = tuple(want) if isinstance(want, tuple) else (want,)
    got = to_numpy(tuple(got) if isinstance(got, tuple) else (got,))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert len(got) == len(want)
    for g, w in zip(got, want):
        w = np.asarray(w)
        assert g.shape == w.shape, name
        if w.dtype.kind in "fc":
            assert g.dtype == w.dtype, (name, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=name)


def test_every_function_of_the_extension_exists_with_the_standards_signature():
    """The 2024.12 extension's 23 functions, their positional-only and keyword-only
    parameters as the specification's stubs declare them (numpy's extra parameters may
    follow, with defaults)."""
    spec = {
        "cholesky": ("x/", "upper="), "cross": ("x1/", "x2/", "axis="), "det": ("x/",),
        "diagonal": ("x/", "offset="), "eigh": ("x/",), "eigvalsh": ("x/",), "inv": ("x/",),
        "matmul": ("x1/", "x2/"), "matrix_norm": ("x/", "keepdims=", "ord="),
        "matrix_power": ("x/", "n/"), "matrix_rank": ("x/", "rtol="),
        "matrix_transpose": ("x/",), "outer": ("x1/", "x2/"), "pinv": ("x/", "rtol="),
        "qr": ("x/", "mode="), "slogdet": ("x/",), "solve": ("x1/", "x2/"),
        "svd": ("x/", "full_matrices="), "svdvals": ("x/",), "tensordot": ("x1/", "x2/", "axes="),
        "trace": ("x/", "offset=", "dtype="), "vecdot": ("x1/", "x2/", "axis="),
        "vector_norm": ("x/", "axis=", "keepdims=", "ord="),
    }
    assert set(spec) == set(ea.linalg.STANDARD) and len(spec) == 23
    for name, params in spec.items():
        sig = inspect.signature(getattr(ea.linalg, name))
        given = list(sig.parameters.values())
        positional = [p for p in params if p.endswith("/")]
        # positional parameters: callable by position (numpy's names may be kept)
        for k, _ in enumerate(positional):
            assert given[k].kind in (inspect.Parameter.POSITIONAL_ONLY,
                                     inspect.Parameter.POSITIONAL_OR_KEYWORD), (name, k)
        # keyword parameters: present, with a default, callable by keyword
        for p in params:
            if p.endswith("="):
                found = sig.parameters.get(p[:-1])
                assert found is not None and found.default is not inspect.Parameter.empty, \
                    (name, p)
                assert found.kind != inspect.Parameter.POSITIONAL_ONLY, (name, p)
        # numpy's extras have defaults
        for p in given[len(positional):]:
            assert p.default is not inspect.Parameter.empty or p.kind == p.VAR_POSITIONAL, \
                (name, p)


def test_spec_defaults():
    """Where the standard's defaults differ from numpy's habits, the standard's hold."""
    x = np.diag([1.0, 1e-15, 0.5])
    # pinv: rtol None means max(M, N) * eps (numpy 2 keeps 1e-15 when neither is given)
    np.testing.assert_allclose(L.pinv(x), NL.pinv(x, rtol=None))
    # linalg.trace / diagonal take the last two axes (numpy's main namespace: the first)
    a = _rand((2, 3, 3), np.float64)
    np.testing.assert_allclose(L.trace(a), np.trace(a, axis1=-2, axis2=-1))
    # svd's full_matrices defaults to True; qr's mode to "reduced"
    assert L.svd(_rand((4, 2), np.float64)).U.shape == (4, 4)
    assert L.qr(_rand((4, 2), np.float64)).Q.shape == (4, 2)


def test_result_tuples_have_the_standards_field_names():
    a = square(3, 3)(np.float64)
    assert L.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert L.svd(a)._fields == ("U", "S", "Vh")
    assert L.qr(a)._fields == ("Q", "R")
    assert L.slogdet(a)._fields == ("sign", "logabsdet")
    assert isinstance(L.eigh(a), L.EighResult)


def test_integer_inputs_become_float64_as_in_numpy():
    a = np.array([[2, 1], [1, 3]])
    for f in (L.inv, L.det, L.eigvalsh, L.svdvals, L.pinv, L.matrix_norm, L.cholesky):
        got, want = f(a), getattr(NL, f.__name__)(a)
        assert np.asarray(got).dtype == np.asarray(want).dtype == np.float64, f.__name__
        np.testing.assert_allclose(got, want)
    assert L.matrix_power(a, 2).dtype == NL.matrix_power(a, 2).dtype  # stays integer
    assert L.cross(np.arange(3), np.arange(3, 6)).dtype == NL.cross(np.arange(3),
                                                                     np.arange(3, 6)).dtype


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3)])
def test_size_zero_stacks(shape):
    a = np.zeros(shape)
    for f in (L.inv, L.det, L.slogdet, L.eigvalsh, L.svdvals, L.cholesky):
        want = getattr(NL, f.__name__)(a)
        got = f(a)
        for g, w in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(g, w)


def test_lstsq_returns_numpys_tuple():
    a, b = _rand((5, 3), np.float64), _rand((5, 2), np.float64)
    x, res, rank, s = L.lstsq(a, b)
    wx, wres, wrank, ws = NL.lstsq(a, b)
    np.testing.assert_allclose(x, wx, atol=1e-12)
    np.testing.assert_allclose(res, wres, rtol=1e-10)
    assert int(rank) == int(wrank) == 3
    np.testing.assert_allclose(s, ws)
    # rank-deficient: no residuals, as numpy
    a2 = np.c_[a[:, :2], a[:, :1]]
    assert L.lstsq(a2, b)[1].shape == NL.lstsq(a2, b)[1].shape == (0,)
    assert int(L.lstsq(a2, b)[2]) == 2


def test_qr_raw_is_numpys_and_refuses_tracing():
    a = _rand((4, 3), np.float64)
    for g, w in zip(L.qr(a, "raw"), NL.qr(a, "raw")):
        np.testing.assert_allclose(g, w)
    with pytest.raises(TypeError, match="mode='raw'.*not differentiate"):
        ea.grad(lambda a: ea.sum(L.qr(a, "raw")[0]))(a)


# (id, function, arguments, error type, message pattern)
ERRORS = [
    ("inv-1d", L.inv, (np.ones(3),), L.LinAlgError, "1-dimensional array given"),
    ("inv-nonsquare", L.inv, (np.ones((2, 3)),), L.LinAlgError, r"must be square.*\(2, 3\)"),
    ("det-nonsquare", L.det, (np.ones((3, 2)),), L.LinAlgError, "must be square"),
    ("cholesky-nonsquare", L.cholesky, (np.ones((3, 2)),), L.LinAlgError, "must be square"),
    ("eigh-uplo", lambda a: L.eigh(a, "X"), (np.eye(2),), ValueError, "UPLO"),
    ("solve-mismatch", L.solve, (np.eye(3), np.ones(2)), ValueError, r"\(2,\).*\(3, 3\)"),
    ("solve-batch", L.solve, (np.ones((2, 3, 3)), np.ones((4, 3, 1))), ValueError,
     "broadcast"),
    ("qr-mode", lambda a: L.qr(a, "full"), (np.eye(2),), ValueError, "mode"),
    ("matrix_power-float", L.matrix_power, (np.eye(2), 1.5), TypeError, "integer"),
    ("matrix_power-nonsquare", L.matrix_power, (np.ones((2, 3)), 2), L.LinAlgError,
     "square"),
    ("matrix_norm-ord", lambda a: L.matrix_norm(a, ord=3), (np.eye(2),), ValueError,
     "invalid norm order 3"),
    ("matrix_norm-1d", L.matrix_norm, (np.ones(3),), L.LinAlgError, "two-dimensional"),
    ("vector_norm-ord", lambda a: L.vector_norm(a, ord="fro"), (np.ones(3),), ValueError,
     "for vectors"),
    ("norm-3-axes", lambda a: L.norm(a, axis=(0, 1, 2)), (np.ones((2, 2, 2)),), ValueError,
     "improper number of dimensions"),
    ("cross-size", L.cross, (np.ones(2), np.ones(2)), ValueError, "3-element vectors"),
    ("cross-axis", lambda a, b: L.cross(a, b, axis=-3), (np.ones(3), np.ones(3)),
     np.exceptions.AxisError, "out of bounds"),
    ("outer-2d", L.outer, (np.ones((2, 2)), np.ones(2)), ValueError, "one-dimensional"),
    ("pinv-both", lambda a: L.pinv(a, 1e-3, rtol=1e-3), (np.eye(2),), ValueError,
     "can't be both set"),
    ("matrix_rank-both", lambda a: L.matrix_rank(a, 1e-3, rtol=1e-3), (np.eye(2),), ValueError,
     "can't be both set"),
    ("lstsq-3d", L.lstsq, (np.ones((2, 3, 2)), np.ones((2, 3))), L.LinAlgError,
     "2-dimensional"),
    ("lstsq-rows", L.lstsq, (np.ones((3, 2)), np.ones(4)), L.LinAlgError, "incompatible"),
    ("multi_dot-one", lambda *a: L.multi_dot(a), (np.eye(2),), ValueError, "at least two"),
    ("multi_dot-align", lambda *a: L.multi_dot(a), (np.ones((2, 3)), np.ones((2, 2))),
     ValueError, "not aligned"),
    ("string", L.inv, ("abc",), TypeError, "not a numeric array"),
]


@pytest.mark.parametrize("name, f, args, exc, match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_problem(name, f, args, exc, match):
    with pytest.raises(exc, match=match):
        f(*args)


def test_linalg_errors_are_numpys_and_value_errors():
    assert L.LinAlgError is NL.LinAlgError and issubclass(L.LinAlgError, ValueError)
    with pytest.raises(NL.LinAlgError):
        NL.inv(np.ones(3))  # the same kind of input numpy refuses the same way


# ------------------------------------------------------------------ how they are recorded


def test_every_linalg_primitive_is_registered_with_both_rules():
    prims = rules.PRIMITIVES["linalg"]
    names = {p.name for p in prims}
    assert {"inv", "solve", "triangular_solve", "cholesky", "eigh", "eigvalsh", "svd",
            "svdvals", "qr", "det", "adjugate", "slogdet", "pinv"} == names
    for p in prims:
        assert p.differentiable and p.fwd_vjp is not None and p.jvp is not None, p.name


@pytest.mark.parametrize("f, prim", [
    (lambda a: L.eigh(a), "eigh"), (lambda a: L.svd(a), "svd"), (lambda a: L.qr(a), "qr"),
    (lambda a: L.slogdet(a), "slogdet"),
])
def test_one_factorisation_node_however_many_results(f, prim):
    """A factorisation with several results runs once: one primitive node, whose packed
    result the parts are read from."""
    graph = ea.make_graph(lambda a: f(a), square(3, 3)(np.float64))
    assert [n.primitive for n in graph.nodes].count(prim) == 1, str(graph)


def test_cross_and_multi_dot_are_one_einsum_node():
    g = ea.make_graph(L.cross, np.ones((4, 3)), np.ones(3))
    assert [n.primitive for n in g.nodes] == ["einsum"], str(g)
    g = ea.make_graph(lambda a, b, c: L.multi_dot([a, b, c]), np.ones((2, 9)),
                      np.ones((9, 9)), np.ones(9))
    assert [n.primitive for n in g.nodes] == ["einsum"], str(g)


def test_matrix_rank_and_power_zero_are_constants():
    a = square(3, 3)(np.float64)
    g = ea.grad(lambda a: ea.sum(a) * L.matrix_rank(a))(a)
    np.testing.assert_allclose(g, 3 * np.ones((3, 3)))
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(L.matrix_power(a, 0)))(a),
                                  np.zeros((3, 3)))
