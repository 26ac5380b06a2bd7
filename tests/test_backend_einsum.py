"""The einsum-form table on every array backend: values against NumPy's einsum, the result
in the operands' library, dtype and device, gradients against finite differences."""

import numpy as np
import pytest
from _array_backends import check_array
from test_einsum import FORWARD_CASES

import einsum_ad as ea

IDS = [f"{s or 'empty'}-{len(shapes)}" for s, shapes in FORWARD_CASES]


def _ops(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("subscripts, shapes", FORWARD_CASES, ids=IDS)
@pytest.mark.parametrize("optimize", ["auto", False, "optimal"])
def test_forward_matches_numpy(backend, subscripts, shapes, optimize):
    ops = _ops(shapes)
    got = ea.einsum(subscripts, *[backend.asarray(o) for o in ops], optimize=optimize)
    check_array(backend, got, np.einsum(subscripts, *ops))


@pytest.mark.parametrize("subscripts, shapes", FORWARD_CASES, ids=IDS)
def test_gradients_second_order_both_modes(backend, subscripts, shapes):
    ops = [backend.asarray(o) for o in _ops(shapes, seed=1)]
    f = lambda *xs: ea.einsum(subscripts, *xs)
    ea.check_grads(f, ops, order=2, modes=("fwd", "rev"))
    out, vjp_fn = ea.vjp(f, *ops)
    check_array(backend, out, dtype=np.float64, what="output")
    cts = vjp_fn(out)
    for x, c in zip(ops, cts):
        check_array(backend, c, dtype=np.float64, what="cotangent")
        assert tuple(c.shape) == tuple(x.shape)


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex128", "int64"])
def test_dtypes_and_mixed_dtypes(backend, dtype):
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((3, 4)) * 4).astype(dtype)
    b = (rng.standard_normal((4, 2)) * 4).astype(dtype)
    got = ea.einsum("ij,jk->ik", backend.asarray(a), backend.asarray(b))
    check_array(backend, got, np.einsum("ij,jk->ik", a, b), rtol=1e-5, atol=1e-5)
    # two dtypes (of kinds the standard promotes together) in one contraction: cast once
    # to the common one (torch's matmul needs equal dtypes)
    c = b.real.astype({"float32": "float64", "float64": "float32", "complex128": "float64",
                  "int64": "int32"}[dtype])
    got = ea.einsum("ij,jk,k->i", backend.asarray(a), backend.asarray(c),
                    backend.asarray(c[0].copy()))
    check_array(backend, got, np.einsum("ij,jk,k->i", a, c, c[0]), rtol=1e-5, atol=1e-5)


BOOL = [("ij,j->i", [(2, 3), (3,)]), ("ij,ij->", [(2, 3), (2, 3)]), ("ij->j", [(2, 3)]),
        ("ii->i", [(3, 3)])]


@pytest.mark.parametrize("spec, shapes", BOOL, ids=[c[0] for c in BOOL])
def test_bool_operands(backend, spec, shapes):
    # numpy's einsum of bools is a logical or of ands (torch has no bool GEMM)
    rng = np.random.default_rng(5)
    ops = [rng.random(s) > 0.5 for s in shapes]
    got = ea.einsum(spec, *[backend.asarray(o) for o in ops])
    check_array(backend, got, np.einsum(spec, *ops))


def test_interleaved_form_and_explicit_path(backend):
    a, b, c = _ops([(2, 3), (3, 4), (4, 5)], seed=3)
    A, B, C = (backend.asarray(x) for x in (a, b, c))
    want = a @ b @ c
    check_array(backend, ea.einsum(A, [0, 1], B, [1, 2], C, [2, 3], [0, 3]), want)
    check_array(backend, ea.einsum("ij,jk,kl->il", A, B, C, optimize=[(1, 2), (0, 1)]), want)


def test_strided_operands(backend):
    # sliced and transposed views of the library's own (torch: strided tensors, whose
    # diagonals are as_strided views of the storage)
    a = np.random.default_rng(4).standard_normal((5, 6, 5))
    b = a[0, :3, :]
    x, y = a[:, ::2, :].swapaxes(-1, -2), b.T
    mT = lambda z: ea.matrix_transpose(z) if backend.library == "dask" else z.mT
    X, Y = mT(backend.asarray(a)[:, ::2, :]), mT(backend.asarray(b))
    for spec, ops, OPS in (("iij->j", (x,), (X,)), ("ijk->kji", (x,), (X,)),
                           ("iij,kj->k", (x, y), (X, Y))):
        check_array(backend, ea.einsum(spec, *OPS), np.einsum(spec, *ops))
        ea.check_grads(lambda *v, spec=spec: ea.einsum(spec, *v), OPS, order=1,
                       modes=("rev",))
