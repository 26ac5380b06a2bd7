"""The namespace tables on every array backend: ``test_primitives.TABLE`` (elementwise,
reductions, structure, indexing) and ``test_multilinear.CASES`` (linear algebra lowered
onto einsum nodes), values against NumPy and gradients against finite differences to
second order in both modes (float64)."""

import numpy as np
import pytest
from _array_backends import check_array, convert
from test_multilinear import CASES
from test_multilinear import _args as multilinear_args
from test_primitives import TABLE

import einsum_ad as ea
from einsum_ad.numpy.structure import getitem


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


# rows whose function cannot run as written on another backend: a NumPy array as an operand
# (not an index) must be that backend's (two libraries in one call are a TypeError), and
# array-api-strict's operators refuse any operand but its arrays and Python scalars, so a
# plain array (sign's result: not differentiable) times a traced value is ea.multiply
_ON_BACKEND = {
    "power_array_exponent": lambda b: lambda x: ea.power(x, b.asarray(np.array([1., 2., 3.]))),
    "sign_times_x": lambda b: (lambda x: ea.multiply(ea.sign(x), x))
    if b.library == "array_api_strict" else None,
}


def _on(backend, name, f):
    """Row ``name``'s function for ``backend``. On a backend other than NumPy it runs on
    traced values even when given plain arrays (inside a ``vjp``), so that the operators,
    methods and indexing the row applies to its arguments (``x[IDX, 1:]``, ``x.max()``)
    are einsum_ad's and not the library's own."""
    if name in _ON_BACKEND and backend.name != "numpy":
        f = _ON_BACKEND[name](backend) or f
    if backend.name == "numpy":
        return f
    return lambda *xs: ea.vjp(f, *xs)[0]


@pytest.mark.parametrize("name,f,ref,build", TABLE, ids=[row[0] for row in TABLE])
def test_primitive_values(backend, name, f, ref, build):
    args = build()
    got, want = _as_list(_on(backend, name, f)(*convert(backend, args))), _as_list(ref(*args))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        check_array(backend, g, w, what=name)


@pytest.mark.parametrize("name,f,ref,build", TABLE, ids=[row[0] for row in TABLE])
def test_primitive_gradients(backend, name, f, ref, build):
    ea.check_grads(_on(backend, name, f), convert(backend, build()), order=2,
                   modes=("fwd", "rev"))


@pytest.mark.parametrize("name, f, ref, shapes, prims", CASES, ids=[c[0] for c in CASES])
def test_multilinear_values(backend, name, f, ref, shapes, prims):
    args = multilinear_args(shapes)
    check_array(backend, f(*convert(backend, args)), ref(*args), what=name)


@pytest.mark.parametrize("name, f, ref, shapes, prims", CASES, ids=[c[0] for c in CASES])
def test_multilinear_gradients(backend, name, f, ref, shapes, prims):
    ea.check_grads(f, convert(backend, multilinear_args(shapes, seed=2)), order=2,
                   modes=("fwd", "rev"))


@pytest.mark.parametrize("name, f, ref, shapes, prims", CASES, ids=[c[0] for c in CASES])
def test_multilinear_one_einsum_node(backend, name, f, ref, shapes, prims):
    graph = ea.make_graph(f, *convert(backend, multilinear_args(shapes)))
    assert tuple(n.primitive for n in graph.nodes) == prims, str(graph)


# ------------------------------------------------------------------------------ indexing

_I = np.array([2, 0, 2])
_J = np.array([[1, 0], [3, 3]])
_M = np.array([[True, False, True], [False, False, True], [True, True, False]])
INDICES = [
    ("array", lambda I, J, M: (I,)),
    ("slice-array", lambda I, J, M: (slice(None), I[:2])),
    ("array-slice-array", lambda I, J, M: (I[:2], slice(None), J)),
    ("slice-array-array", lambda I, J, M: (slice(None), I[:2], J[:, :1])),
    ("int-slice-array", lambda I, J, M: (0, slice(None), I[:2])),
    ("array-int", lambda I, J, M: (I, 0)),
    ("none-array-reversed", lambda I, J, M: (None, I, slice(None, None, -1))),
    ("ellipsis-2d-array", lambda I, J, M: (Ellipsis, J)),
    ("out-of-bounds-slice-array", lambda I, J, M: (slice(1, 10), I[:2] - 1)),
    ("negative-array", lambda I, J, M: (slice(None), -1 - I[:2], slice(None, 3))),
    ("mask", lambda I, J, M: (M,)),
    ("int-step-array", lambda I, J, M: (-1, slice(None, None, 2), J)),
    ("reversed-offset", lambda I, J, M: (slice(2, 0, -1), None, slice(None, None, -3))),
]


@pytest.mark.parametrize("name, key", INDICES, ids=[c[0] for c in INDICES])
def test_indexing_matches_numpy(backend, name, key):
    # the generic backend's getitem lays integer arrays mixed with slices out as numpy
    # does (array-api-strict takes integer arrays only with ints); the VJP scatter-adds
    x = np.random.default_rng(6).standard_normal((3, 3, 4))
    k = key(_I, _J, _M)
    check_array(backend, getitem(backend.asarray(x), k), x[k], what=name)
    ea.check_grads(lambda v: getitem(v, k), (backend.asarray(x),), order=1,
                   modes=("fwd", "rev"))
