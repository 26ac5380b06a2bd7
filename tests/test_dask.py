"""einsum_ad on Dask arrays: values against NumPy, gradients against finite differences, and
proof that the forward and the backward only build graphs (nothing runs before compute).

Every einsum_ad call here is made under ``refuse_compute()``, a dask scheduler that raises:
a rule or a namespace function that read a value (``bool()``, ``float()``, ``.item()``,
``np.asarray``) while building would fail the test that exercises it.
"""

import contextlib
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
import dask  # noqa: E402
from dask.callbacks import Callback  # noqa: E402

import einsum_ad as ea  # noqa: E402
from einsum_ad import backend, nn  # noqa: E402
from einsum_ad.numpy.structure import getitem  # noqa: E402

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _synchronous():
    """Small graphs compute fastest in this thread (the thread pool costs more than the
    tasks); the distributed test sets its own scheduler."""
    with dask.config.set(scheduler="synchronous"):
        yield


def _r(*shape, lo=None, seed=None):
    g = rng if seed is None else np.random.default_rng(seed)
    return lo + g.random(shape) if lo is not None else g.standard_normal(shape)


def _da(x, chunks=2):
    """NumPy data as a dask array cut into small chunks (several blocks per axis)."""
    x = np.asarray(x)
    return da.from_array(x, chunks=chunks if x.ndim else ())


def _tree_da(tree, chunks=2):
    return ea.tree_map(lambda v: _da(v, chunks) if isinstance(v, np.ndarray) else v, tree)


def _refuse(dsk, keys, **kwargs):
    raise AssertionError(f"a dask graph ({len(dsk)} tasks) was computed while einsum_ad was "
                         "only asked to build it")


@contextlib.contextmanager
def refuse_compute():
    """Any compute inside the block raises: the code in it may only build graphs."""
    with dask.config.set(scheduler=_refuse):
        yield


class TaskCounter(Callback):
    """Counts the tasks the local schedulers run."""

    def __init__(self):
        super().__init__()
        self.tasks = 0

    def _pretask(self, key, dsk, state):
        self.tasks += 1


def _computed(x):
    """The NumPy value of a dask result (asserting that it is one)."""
    assert isinstance(x, da.Array), type(x)
    return np.asarray(x.compute())


def _close(got, want, rtol=1e-11, atol=1e-12):
    _close_all([got], [want], rtol, atol)


def _close_all(got, want, rtol=1e-11, atol=1e-12):
    """Dask results (computed together: shared parts of their graph run once) against
    NumPy's, in shape, dtype and value."""
    assert len(got) == len(want)
    for g in got:
        assert isinstance(g, da.Array), type(g)
    for g, w in zip(dask.compute(*got), want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# ----------------------------------------------------------------- the einsum forms

FORMS = [
    ("ij,jk->ik", [(5, 3), (3, 4)]),
    ("ij,jk", [(5, 3), (3, 4)]),
    ("ba", [(3, 5)]),
    ("ii", [(5, 5)]),
    ("ii->i", [(5, 5)]),
    ("iij->j", [(3, 3, 4)]),
    ("iji->ij", [(3, 4, 3)]),
    ("ij->i", [(3, 5)]),
    ("i,j->ij", [(3,), (5,)]),
    ("i,ij,j->", [(3,), (3, 5), (5,)]),
    ("ij,ij->i", [(3, 5), (3, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("abc,bcd->ad", [(3, 4, 5), (4, 5, 3)]),
    ("abc,cdb->ad", [(3, 4, 5), (5, 3, 4)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("ij,jk->ik", [(3, 1), (5, 4)]),
    ("...,...", [(), (3,)]),
    ("", [()]),
    ("ij,jk->ik", [(3, 0), (0, 4)]),
    ("ab,bc,cd,de->ae", [(3, 4), (4, 5), (5, 3), (3, 4)]),
    ("ab,bc,cd,da->", [(3, 4), (4, 5), (5, 3), (3, 3)]),
    ("ijk,jkl,lmi->m", [(3, 4, 5), (4, 5, 3), (3, 2, 3)]),
]


def _form_ops(shapes):
    return [_r(*s) for s in shapes]


@pytest.mark.parametrize("optimize", ["auto", False, "greedy"])
@pytest.mark.parametrize("subscripts, shapes", FORMS, ids=[f[0] or "scalar" for f in FORMS])
def test_einsum_forms_match_numpy(subscripts, shapes, optimize):
    ops = _form_ops(shapes)
    with refuse_compute():
        got = ea.einsum(subscripts, *[_da(o) for o in ops], optimize=optimize)
    _close(got, np.einsum(subscripts, *ops))


@pytest.mark.parametrize("subscripts, shapes", FORMS, ids=[f[0] or "scalar" for f in FORMS])
def test_einsum_forms_gradients_second_order(subscripts, shapes):
    ops = [_da(o, 3) for o in _form_ops(shapes)]
    ea.check_grads(lambda *a: ea.einsum(subscripts, *a), ops, order=2, modes=("fwd", "rev"))


def test_einsum_interleaved_form_dtypes_and_optimize_false_grads():
    a, b, c = _r(4, 3), _r(3, 5), _r(5, 2)
    with refuse_compute():
        got = ea.einsum(_da(a), [0, 1], _da(b), [1, 2], _da(c), [2, 3], [0, 3])
        ints = ea.einsum("ij,jk->ik", _da(np.arange(6).reshape(2, 3)),
                         _da(np.arange(12).reshape(3, 4)))
        mixed = ea.einsum("ij,jk->ik", _da(a.astype(np.float32)), _da(b))
        cplx = ea.einsum("ij,jk->ik", _da(a + 1j * a[::-1]), _da(b))
    _close(got, a @ b @ c)
    _close(ints, np.arange(6).reshape(2, 3) @ np.arange(12).reshape(3, 4))
    _close(mixed, a.astype(np.float32) @ b, rtol=1e-6)
    _close(cplx, (a + 1j * a[::-1]) @ b)
    ea.check_grads(lambda *o: ea.einsum("ij,jk,kl->il", *o, optimize=False),
                   [_da(a), _da(b), _da(c)], order=2, modes=("fwd", "rev"))


def test_pairwise_steps_are_blockwise_without_rechunking():
    """Each planned pairwise step is one blockwise operation (and the sum of its
    contracted blocks): merging chunked axes by a reshape would rechunk them."""
    a, b = _da(_r(8, 8, 8), 4), _da(_r(8, 8, 8), 4)
    y = ea.einsum("abc,bcd->ad", a, b)
    layers = [name.rsplit("-", 1)[0] for name in y.dask.layers]
    assert "einsum_step" in layers and not any("rechunk" in n or "reshape" in n
                                                for n in layers), layers
    gs = ea.grad(lambda a, b: ea.sum(ea.einsum("abc,bcd->ad", a, b) ** 2), argnums=(0, 1))(a, b)
    for g in gs:  # one rechunk at most: the scalar cotangent's broadcast (one block) split
        assert sum("rechunk" in n for n in g.dask.layers) <= 1, list(g.dask.layers)
    # opt_einsum's order shapes the graph: a chain is three pairwise steps
    ops = [_da(_r(8, 8), 4) for _ in range(4)]
    chain = ea.einsum("ab,bc,cd,de->ae", *ops)
    assert sum(n.rsplit("-", 1)[0] == "einsum_step" for n in chain.dask.layers) == 3
    assert len(chain.__dask_graph__()) < len(da.einsum("ab,bc,cd,de->ae", *ops).__dask_graph__())
    e = ea.explain("abc,bcd->ad", a, b)
    assert e.forward[0].kind == "BLAS GEMM"  # the kernel each block runs


# ----------------------------------------------------------------- the namespace

IDX = np.array([2, 0, 0])
MASK = np.array([[True, False, True, True]] * 3)



def _hpd(*shape):
    """Hermitian positive-definite matrices of shape (..., n, n)."""
    a = _r(*shape, shape[-1])
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _mask_like(x):
    """MASK in ``x``'s library (a where= mask must be of the operand's)."""
    v = ea.core.unwrap(x)
    return MASK if isinstance(v, np.ndarray) else backend.of(v).from_numpy(MASK)


# name, function, numpy reference, argument builder (NumPy data, converted to dask)
NAMESPACE = [
    ("add", ea.add, np.add, lambda: (_r(3, 4), _r(4))),
    ("subtract_scalar", lambda x: 1.0 - x, lambda x: 1.0 - x, lambda: (_r(3, 4),)),
    ("divide", ea.divide, np.divide, lambda: (_r(3, 4), _r(1, 4, lo=0.5))),
    ("power", lambda x: x ** 3, lambda x: x ** 3, lambda: (_r(3, 4),)),
    ("power_traced", ea.power, np.power, lambda: (_r(3, 4, lo=0.5), _r(4))),
    ("exp_log", lambda x: ea.log(ea.exp(x) + 1.0), lambda x: np.log(np.exp(x) + 1.0),
     lambda: (_r(3, 4),)),
    ("sqrt", ea.sqrt, np.sqrt, lambda: (_r(3, 4, lo=0.5),)),
    ("tanh_sin_cos", lambda x: ea.tanh(x) * ea.sin(x) + ea.cos(x),
     lambda x: np.tanh(x) * np.sin(x) + np.cos(x), lambda: (_r(3, 4),)),
    ("sigmoid", ea.sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda: (_r(3, 4),)),
    ("softplus", ea.softplus, lambda x: np.logaddexp(x, 0), lambda: (_r(3, 4),)),
    ("maximum", ea.maximum, np.maximum, lambda: (_r(3, 1), _r(4, seed=1))),
    ("where", lambda x, y: ea.where(x > y, x, y), lambda x, y: np.where(x > y, x, y),
     lambda: (_r(3, 4), _r(4, seed=1))),
    ("clip", lambda x: ea.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
     lambda: (_r(3, 4) * 0.3 + np.sign(_r(3, 4)) * 1.0,)),
    ("max_axis", lambda x: ea.max(x, axis=1), lambda x: np.max(x, axis=1), lambda: (_r(3, 5),)),
    ("min_keepdims", lambda x: ea.min(x, axis=(-1, 0), keepdims=True),
     lambda x: np.min(x, axis=(-1, 0), keepdims=True), lambda: (_r(2, 3, 4),)),
    ("sum_mean", lambda x: ea.sum(x, axis=0) + ea.mean(x, axis=1, keepdims=True),
     lambda x: np.sum(x, axis=0) + np.mean(x, axis=1, keepdims=True), lambda: (_r(3, 3),)),
    ("mean_where", lambda x: ea.mean(x, axis=1, where=_mask_like(x)),
     lambda x: np.mean(x, axis=1, where=MASK), lambda: (_r(3, 4),)),
    ("logsumexp", lambda x: ea.logsumexp(x, axis=-1), lambda x: np.log(np.exp(x).sum(-1)),
     lambda: (_r(3, 5),)),
    ("softmax", ea.softmax, lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
     lambda: (_r(3, 5),)),
    ("log_softmax", lambda x: ea.log_softmax(x, axis=0),
     lambda x: x - np.log(np.exp(x).sum(0, keepdims=True)), lambda: (_r(3, 5),)),
    ("reshape", lambda x: ea.reshape(x, (2, -1)), lambda x: np.reshape(x, (2, -1)),
     lambda: (_r(3, 4),)),
    ("reshape_uneven", lambda x: ea.reshape(x, (4, 5, 3)), lambda x: np.reshape(x, (4, 5, 3)),
     lambda: (_r(6, 5, 2),)),
    ("transpose_swap", lambda x: ea.swapaxes(ea.transpose(x, (1, 2, 0)), 0, -1),
     lambda x: np.swapaxes(np.transpose(x, (1, 2, 0)), 0, -1), lambda: (_r(2, 3, 4),)),
    ("broadcast_expand_squeeze", lambda x: ea.squeeze(ea.expand_dims(
        ea.broadcast_to(x, (2, 3, 4)), 0), 0), lambda x: np.broadcast_to(x, (2, 3, 4)),
     lambda: (_r(3, 1),)),
    ("concatenate_stack", lambda x, y: ea.stack([ea.concatenate([x, y], axis=-1)] * 2),
     lambda x, y: np.stack([np.concatenate([x, y], axis=-1)] * 2), lambda: (_r(3, 2), _r(3, 4))),
    ("split", lambda x: ea.split(x, [1, 5]), lambda x: np.split(x, [1, 5]),
     lambda: (_r(3, 4),)),
    ("index_basic", lambda x: getitem(x, (slice(1, None), None, Ellipsis, slice(None, None, -2))),
     lambda x: x[1:, None, ..., ::-2], lambda: (_r(3, 4),)),
    ("index_int_array", lambda x: getitem(x, (IDX, slice(1, None))), lambda x: x[IDX, 1:],
     lambda: (_r(3, 4),)),
    ("index_two_arrays", lambda x: getitem(x, (slice(None), IDX, [0, 1, 1])),
     lambda x: x[:, IDX, [0, 1, 1]], lambda: (_r(2, 3, 4),)),
    ("index_apart", lambda x: getitem(x, (IDX[:, None], slice(None), np.array([[3, 0]]))),
     lambda x: x[IDX[:, None], :, np.array([[3, 0]])], lambda: (_r(3, 2, 4),)),
    ("index_int_and_array", lambda x: getitem(x, (-1, slice(None), IDX)),
     lambda x: x[-1, :, IDX], lambda: (_r(2, 3, 4),)),
    ("index_negative", lambda x: getitem(x, (np.array([-1, 0, -3]),)),
     lambda x: x[np.array([-1, 0, -3])], lambda: (_r(3, 2),)),
    ("index_none_beside_array", lambda x: getitem(x, (None, IDX, slice(None, None, -1))),
     lambda x: x[None, IDX, ::-1], lambda: (_r(3, 4),)),
    ("index_host_mask", lambda x: getitem(x, MASK), lambda x: x[MASK], lambda: (_r(3, 4),)),
    ("take_along_axis", lambda x: ea.take_along_axis(x, np.array([[0, 0, 3]]), axis=-1),
     lambda x: np.take_along_axis(x, np.array([[0, 0, 3]]), axis=-1), lambda: (_r(3, 4),)),
    ("matmul", ea.matmul, np.matmul, lambda: (_r(2, 3, 4), _r(4, 5))),
    ("tensordot_kron", lambda a, b: ea.kron(ea.tensordot(a, b, 1), a),
     lambda a, b: np.kron(np.tensordot(a, b, 1), a), lambda: (_r(2, 3), _r(3, 2))),
    ("trace_diagonal", lambda x: ea.trace(x) + ea.sum(ea.diagonal(x, 1)),
     lambda x: np.trace(x) + np.sum(np.diagonal(x, 1)), lambda: (_r(5, 5),)),
    ("outer_inner_vdot", lambda a, b: ea.outer(a, b) * ea.inner(a, a) + ea.vdot(a, a),
     lambda a, b: np.outer(a, b) * np.inner(a, a) + np.vdot(a, a), lambda: (_r(3), _r(4))),
    ("norm", lambda x: ea.linalg.norm(x, axis=-1), lambda x: np.linalg.norm(x, axis=-1),
     lambda: (_r(3, 4),)),
    ("norm_fro_keepdims", lambda x: ea.linalg.norm(x, "fro", (2, 0), True),
     lambda x: np.linalg.norm(x, "fro", (2, 0), True), lambda: (_r(2, 3, 4),)),
    ("astype", lambda x: ea.astype(ea.astype(x, np.complex128), np.float64) * x,
     lambda x: x * x, lambda: (_r(3, 4),)),
    ("sort_descending", lambda x: ea.sort(x, axis=0, descending=True),
     lambda x: np.flip(np.sort(x, axis=0), axis=0), lambda: (_r(5, 3),)),
    ("take_argsort", lambda x: ea.take_along_axis(x, ea.argsort(x, axis=-1), axis=-1),
     lambda x: np.sort(x, axis=-1), lambda: (_r(3, 5),)),
    ("cumulative", lambda x: ea.cumulative_sum(x, axis=1) * ea.cumulative_prod(x, axis=0),
     lambda x: np.cumulative_sum(x, axis=1) * np.cumulative_prod(x, axis=0),
     lambda: (_r(4, 5),)),
    ("std_var_prod", lambda x: ea.std(x, axis=0) + ea.var(x, axis=1, correction=1)[0]
     + ea.prod(x, axis=0), lambda x: np.std(x, axis=0) + np.var(x, axis=1, ddof=1)[0]
     + np.prod(x, axis=0), lambda: (_r(3, 4),)),
    ("flip_roll_tile_repeat", lambda x: ea.repeat(ea.tile(ea.roll(ea.flip(x, axis=0), 2,
                                                                  axis=1), (2, 1)), 2, axis=0),
     lambda x: np.repeat(np.tile(np.roll(np.flip(x, axis=0), 2, axis=1), (2, 1)), 2, axis=0),
     lambda: (_r(3, 5),)),
    ("fft", lambda x: ea.abs(ea.fft.fft(x, axis=0)) + ea.abs(ea.fft.fftn(x)),
     lambda x: np.abs(np.fft.fft(x, axis=0)) + np.abs(np.fft.fftn(x)), lambda: (_r(5, 3),)),
    ("rfft_irfft", lambda x: ea.fft.irfft(ea.fft.rfft(x, axis=1) * 2.0, n=6, axis=1),
     lambda x: np.fft.irfft(np.fft.rfft(x, axis=1) * 2.0, n=6, axis=1), lambda: (_r(3, 5),)),
    ("linalg_cholesky_solve", lambda a, b: ea.linalg.solve(ea.linalg.cholesky(a), b),
     lambda a, b: np.linalg.solve(np.linalg.cholesky(a), b), lambda: (_hpd(2, 4), _r(2, 4, 3))),
    ("linalg_inv_det_slogdet", lambda a: ea.linalg.inv(a) * ea.linalg.det(a)[..., None, None]
     + ea.linalg.slogdet(a)[1][..., None, None], lambda a: np.linalg.inv(a)
     * np.linalg.det(a)[..., None, None] + np.linalg.slogdet(a)[1][..., None, None],
     lambda: (_hpd(3, 3),)),
    ("linalg_eigvalsh_svdvals_pinv", lambda a, r: ea.sum(ea.linalg.eigvalsh(a))
     + ea.sum(ea.linalg.svdvals(r)) + ea.linalg.pinv(r), lambda a, r: np.sum(
         np.linalg.eigvalsh(a)) + np.sum(np.linalg.svd(r, compute_uv=False))
     + np.linalg.pinv(r), lambda: (_hpd(2, 4), _r(5, 3))),
    ("linalg_qr_r", lambda r: ea.abs(ea.linalg.qr(r)[1]), lambda r: np.abs(np.linalg.qr(r)[1]),
     lambda: (_r(2, 5, 3),)),
    ("empty", lambda x: ea.exp(x), np.exp, lambda: (_r(0, 3),)),
    ("max_empty_rows", lambda x: ea.max(x, axis=1), lambda x: np.max(x, axis=1),
     lambda: (_r(0, 3),)),
    ("zero_d", lambda x, y: ea.maximum(x, y) * x, lambda x, y: np.maximum(x, y) * x,
     lambda: (np.array(0.3), _r(3))),
]


def _listify(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


@pytest.mark.parametrize("name, f, ref, build", NAMESPACE, ids=[c[0] for c in NAMESPACE])
def test_namespace_values_and_gradients_are_lazy(name, f, ref, build):
    args = build()
    dargs = [_da(a) for a in args]
    loss = lambda *a: ea.sum(ea.sin(sum(ea.sum(o) for o in _listify(f(*a)))))  # noqa: E731
    with refuse_compute():
        got = _listify(f(*dargs))
        grads = ea.grad(loss, argnums=tuple(range(len(args))))(*dargs)
    _close_all(got, _listify(ref(*args)))
    _close_all(list(grads), list(ea.grad(loss, argnums=tuple(range(len(args))))(*args)),
               rtol=1e-10)


# second order against finite differences on a selection (one per kind of rule);
# check_grads evaluates f on plain dask arrays too, so no row indexes by several arrays
_CHECKED = ["divide", "power_traced", "exp_log", "sigmoid", "softplus", "maximum", "where",
            "clip", "max_axis", "mean_where", "logsumexp", "log_softmax", "reshape_uneven",
            "broadcast_expand_squeeze", "concatenate_stack", "split", "index_basic",
            "index_int_array", "take_along_axis", "tensordot_kron", "trace_diagonal", "norm",
            "sort_descending", "cumulative", "rfft_irfft", "linalg_cholesky_solve",
            "linalg_eigvalsh_svdvals_pinv", "zero_d"]
_CHECKED = [c for c in NAMESPACE if c[0] in _CHECKED]


@pytest.mark.parametrize("name, f, ref, build", _CHECKED, ids=[c[0] for c in _CHECKED])
def test_namespace_check_grads_second_order(name, f, ref, build):
    ea.check_grads(f, [_da(a, 3) for a in build()], order=2, modes=("fwd", "rev"))


def test_indexing_through_traced_values_second_order():
    """Gathers by several integer arrays (which dask itself refuses) and their scatter-add,
    differentiated twice through traced indexing."""
    x = _da(_r(3, 3, 4))

    def f(x):
        return getitem(x, (slice(None), IDX, [0, 1, 1])) ** 2 \
            + getitem(x, (IDX[:, None], slice(1, None), np.array([[3, 0, 0]])))[..., 0]

    ea.check_grads(f, [x], order=2, modes=("fwd", "rev"))
    xn = np.asarray(x)
    with refuse_compute():
        got = ea.vjp(f, x)[0]
    _close(got, xn[:, IDX, [0, 1, 1]] ** 2 + xn[IDX[:, None], 1:, np.array([[3, 0, 0]])][..., 0])


@pytest.mark.parametrize("key", [(np.array([0, 5]),), (np.array([0, 1]), np.array([7, 0])),
                                 (slice(None), np.array([-5])), (np.array([[0], [-4]]), 1)])
def test_regression_index_out_of_bounds_raises_at_compute(key):
    """dask's own take wraps an index out of bounds into a wrong row silently (x[[0, 5]] of
    3 rows gave row 0 twice); the gather checks each block when it runs and raises
    numpy's IndexError, in the forward and in the scatter-add of the backward."""
    x = _da(_r(3, 4))
    with pytest.raises(IndexError, match="out of bounds"):
        np.asarray(x)[key]
    with refuse_compute():
        y = getitem(x, key)
        g = ea.grad(lambda a: ea.sum(getitem(a, key)))(x)
    for z in (y, g):
        with pytest.raises(IndexError, match="out of bounds"):
            z.compute()


@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32])
def test_scatter_add_accumulates_repeated_positions(dtype):
    bk = backend.of(_da(np.zeros(1)))
    g = (_r(4, 4) + (1j * _r(4, 4) if dtype is np.complex128 else 0)).astype(dtype)
    index = (slice(None), da.from_array(np.array([1, 1, 0, 4])), da.from_array(np.array([2])))
    with refuse_compute():
        got = bk.scatter_add(_da(g), index, (4, 5, 3))
    want = np.zeros((4, 5, 3), dtype)
    np.add.at(want, (slice(None), np.array([1, 1, 0, 4]), np.array([2])), g)
    _close(got, want, rtol=1e-6 if dtype is np.float32 else 1e-12)


def test_diagonal_views_and_writes_across_chunks():
    bk = backend.of(_da(np.zeros(1)))
    x = _r(5, 4, 5, 5)
    with refuse_compute():
        d = bk.diagonal(_da(x, (2, 3, 2, 3)), ((0, 2, 3), (1,)))
        w = bk.write_diagonal(_da(_r(5, 4, seed=3), (3, 2)), (5, 4, 5, 5), ((0, 2, 3), (1,)))
    _close(d, np.einsum("ijii->ij", x))
    want = np.zeros((5, 4, 5, 5))
    np.einsum("ijii->ij", want)[...] = _r(5, 4, seed=3)
    _close(w, want)
    # an inf on the diagonal stays an inf (a select, never a mask multiply)
    with refuse_compute():
        g = ea.grad(lambda a: ea.einsum("ii->", a) * np.inf)(_da(np.eye(3)))
    assert np.array_equal(_computed(g), np.where(np.eye(3) > 0, np.inf, 0.0))


def test_quiet_blocks_carry_errstate_into_the_chunks():
    x = _da(np.array([[-np.inf, -np.inf], [0.0, 1.0]]), 1)
    with refuse_compute():
        y = ea.logsumexp(x, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _computed(y)
    assert got[0] == -np.inf and np.isclose(got[1], np.log(1 + np.e))


def test_from_numpy_chunks_like_the_operand_or_one_chunk():
    bk = backend.get("dask")
    like = _da(np.zeros((6, 4)), (3, 2))
    assert bk.from_numpy(np.ones((6, 4)), like=like).chunks == like.chunks
    assert bk.from_numpy(np.ones((5, 4)), like=like).chunks == ((5,), (4,))
    # a NumPy cotangent is taken in the output's chunks
    with refuse_compute():
        out, vjp_fn = ea.vjp(lambda a: a * 2.0, like)
        (g,) = vjp_fn(np.ones((6, 4)))
    assert g.chunks == like.chunks
    _close(g, np.full((6, 4), 2.0))


def test_boolean_mask_of_dask_is_computed_for_its_shape_only():
    """A dask boolean mask decides the result's length by its values: nonzero_known
    computes the mask (and only the mask) when the index is built."""
    x = _da(_r(3, 4))
    mask = _da(MASK) > 0
    with TaskCounter() as counter:
        y = ea.vjp(lambda a: a[mask], x)[0]
    assert 0 < counter.tasks <= len(mask.__dask_graph__()) + 1  # the mask's graph, not x's
    _close(y, np.asarray(x)[MASK])
    assert y.shape == (int(MASK.sum()),)


def test_results_whose_shape_depends_on_values_compute_their_input_only():
    """nonzero, unique_* and repeat by an array of counts: the result's length is a value,
    so the array it is read from is computed while the result is built (and only it)."""
    x = _da(np.array([[3, 1, 0], [3, 2, 2]]))
    ys = _da(_r(3, 2))
    cases = [
        (lambda: ea.nonzero(x), lambda: np.nonzero(np.asarray(x))),
        (lambda: ea.unique_values(x), lambda: np.unique_values(np.asarray(x))),
        (lambda: ea.unique_all(x), lambda: np.unique_all(np.asarray(x))),
        (lambda: ea.repeat(ys, _da(np.array([2, 0, 1])), axis=0),
         lambda: np.repeat(np.asarray(ys), [2, 0, 1], axis=0)),
        (lambda: ea.searchsorted(_da(np.array([3.0, 1.0, 2.0])), 2.5,
                                 sorter=_da(np.array([1, 2, 0]))),
         lambda: np.searchsorted([3.0, 1.0, 2.0], 2.5, sorter=[1, 2, 0])),
    ]
    for build, ref in cases:
        with TaskCounter() as counter:
            got = build()
        assert counter.tasks <= 2 * len(x.__dask_graph__()) + 4
        got, want = _listify(got), _listify(ref())
        _close_all(got, [np.asarray(w) for w in want])


def test_regression_cholesky_is_the_lower_factor_and_linalg_keeps_batches():
    """dask.array.linalg.cholesky returns the upper factor (and takes single matrices): the
    factorisations run the NumPy kernels on blocks of whole matrices instead."""
    a = _hpd(3, 4)
    x = _da(a, (2, 2, 2))
    with refuse_compute():
        c = ea.linalg.cholesky(x)
        w, v = ea.linalg.eigh(x)
        u, sv, vh = ea.linalg.svd(x)
    _close_all([c, w, ea.abs(ea.einsum("...ij,...ij->...j", u, u))],
               [np.linalg.cholesky(a), np.linalg.eigh(a)[0], np.ones((3, 4))])
    assert all(len(ch) == 1 for ch in c.chunks[-2:])  # each block holds whole matrices


def test_regression_devices_are_read_through_the_backend():
    """A dask array has no .device: norm(keepdims=True) and an integer array divided by a
    Python int read it through the backend."""
    with refuse_compute():
        q = ea.divide(_da(np.arange(5)), 3)
    _close(q, np.arange(5) / 3)


def test_mixing_dask_and_numpy_arrays_raises_naming_both():
    with pytest.raises(TypeError, match="dask.*numpy"):
        ea.einsum("ij,jk->ik", _da(_r(2, 3)), _r(3, 2))
    with refuse_compute():  # a NumPy scalar (a constant) joins the dask operand
        y = ea.multiply(_da(_r(2, 3)), np.float64(2.0))
    assert isinstance(y, da.Array)


# ----------------------------------------------------------------- transforms

A0, X0 = _r(3, 4, seed=5), _r(4, seed=6)


def _f(A, x):
    return ea.sum(ea.tanh(ea.einsum("ij,j->i", A, x)) ** 2)


def _g(A, x):
    return ea.tanh(ea.einsum("ij,j->i", A, x))


TRANSFORMS = [
    ("grad", lambda A, x: ea.grad(_f, argnums=(0, 1))(A, x)),
    ("value_and_grad", lambda A, x: ea.value_and_grad(_f)(A, x)),
    ("vjp_numpy_cotangent", lambda A, x: ea.vjp(_g, A, x)[1](np.ones(3))),
    ("vjp_dask_cotangent", lambda A, x: ea.vjp(_g, A, x)[1](_g(A, x) * 0.0 + 1.0)),
    ("jvp", lambda A, x: ea.jvp(_g, (A, x), (A * 0.5, x * 2.0))),
    ("jvp_numpy_tangents", lambda A, x: ea.jvp(_g, (A, x), (np.ones((3, 4)), np.ones(4)))),
    ("jacrev", lambda A, x: ea.jacrev(_g, argnums=(0, 1))(A, x)),
    ("jacfwd", lambda A, x: ea.jacfwd(_g, argnums=(0, 1))(A, x)),
    ("jacobian", lambda A, x: ea.jacobian(_g)(A, x)),
    ("hessian", lambda A, x: ea.hessian(_f, argnums=1)(A, x)),
    ("hvp", lambda A, x: ea.hvp(lambda v: _f(A, v), (x,), (x * 0.0 + 1.0,))),
    ("grad_of_grad", lambda A, x: ea.grad(lambda v: ea.sum(ea.grad(_f, argnums=1)(A, v)))(x)),
    ("checkpoint", lambda A, x: ea.grad(lambda a: ea.sum(
        ea.einsum("ij,j->i", a, x, checkpoint=True) ** 2))(A)),
    ("stop_gradient", lambda A, x: ea.grad(lambda a: ea.sum(a * ea.stop_gradient(a)))(A)),
]


@pytest.mark.parametrize("name, t", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_transforms_build_lazily_and_match_numpy(name, t):
    want = ea.tree_leaves(t(A0, X0))
    with refuse_compute():
        got = ea.tree_leaves(t(_da(A0), _da(X0)))
    _close_all(got, want, rtol=1e-10)


def test_make_graph_and_check_grads_on_dask():
    with refuse_compute():
        g = ea.make_graph(_f, _da(A0), _da(X0))
    assert [n.primitive for n in g.nodes][0] == "einsum"
    ea.check_grads(_f, [_da(A0), _da(X0)], order=2, modes=("fwd", "rev"))


# ----------------------------------------------------------------- nn layers

NN = {
    "Dense": (lambda: nn.Dense(4, 3), lambda: (_r(5, 4),)),
    "MLP": (lambda: nn.MLP([4, 6, 3], activation="gelu"), lambda: (_r(5, 4),)),
    "LayerNorm": (lambda: nn.LayerNorm(4), lambda: (_r(5, 4),)),
    "Bilinear": (lambda: nn.Bilinear(3, 4, 2), lambda: (_r(5, 3), _r(5, 4))),
    "MPS": (lambda: nn.MPS(5, 2, 3, 2), lambda: (_r(4, 5, 2),)),
    "MultiHeadAttention": (lambda: nn.MultiHeadAttention(8, 2, causal=True),
                           lambda: (_r(2, 5, 8),)),
    "TransformerBlock": (lambda: nn.TransformerBlock(8, 2, 16), lambda: (_r(2, 5, 8),)),
}


@pytest.mark.parametrize("name", sorted(NN))
def test_nn_layers_apply_and_gradients(name):
    make, build = NN[name]
    layer, args = make(), build()
    params = layer.init(0)
    loss = lambda p, *a: ea.sum(layer(p, *a) ** 2)  # noqa: E731
    with refuse_compute():
        out = layer(_tree_da(params, 4), *[_da(a, 4) for a in args])
        grads = ea.grad(loss)(_tree_da(params, 4), *[_da(a, 4) for a in args])
    _close_all([out] + ea.tree_leaves(grads),
               [layer(params, *args)] + ea.tree_leaves(ea.grad(loss)(params, *args)),
               rtol=1e-9, atol=1e-11)


def test_nn_host_constants_join_dask_parameters():
    """Token ids, labels and masks are host data (NumPy); the one-hot constants built from
    them are moved onto the parameters' library."""
    emb = nn.Embedding(10, 4)
    p = emb.init(0)
    ids = np.array([[1, 2, 3], [3, 3, 0]])
    logits, labels = _r(4, 3), np.array([0, 2, 1, 1])
    mha = nn.MultiHeadAttention(8, 2)
    pm, x = mha.init(1), _r(2, 5, 8)
    with refuse_compute():
        e = emb(_tree_da(p), ids)
        ge = ea.grad(lambda q: ea.sum(emb(q, ids) ** 2))(_tree_da(p))["E"]
        sce = nn.softmax_cross_entropy(_da(logits), labels)
        bce = nn.binary_cross_entropy_with_logits(_da(logits), (logits > 0).astype(float))
        mse = nn.mse(_da(logits), logits * 0.5)
        att = mha(_tree_da(pm), _da(x), nn.causal_mask(5))
    _close(e, emb(p, ids))
    _close(ge, ea.grad(lambda q: ea.sum(emb(q, ids) ** 2))(p)["E"])
    _close(sce, nn.softmax_cross_entropy(logits, labels))
    _close(bce, nn.binary_cross_entropy_with_logits(logits, (logits > 0).astype(float)))
    _close(mse, nn.mse(logits, logits * 0.5))
    _close(att, mha(pm, x, nn.causal_mask(5)), rtol=1e-10)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_optimizer_steps_build_lazily(name):
    params = {"w": _r(3, 4), "b": _r(4)}
    loss = lambda p, x: ea.sum(ea.tanh(x @ p["w"] + p["b"]) ** 2)  # noqa: E731
    x = _r(5, 3)

    def step(p, x):
        opt = getattr(ea.optim, name)(0.1)
        updates, _ = opt.update(ea.grad(loss)(p, x), opt.init(p), p)
        return ea.optim.apply_updates(p, updates)

    with refuse_compute():
        got = step(_tree_da(params), _da(x))
    want = step(params, x)
    _close_all([got["w"], got["b"]], [want["w"], want["b"]])


# ----------------------------------------------------------------- nothing computed early


def _chain(*ops):
    return ea.sum(ea.tanh(ea.einsum("ab,bc,cd,de->ae", *ops)))


def test_nothing_is_computed_before_compute():
    """Forward, ea.grad, ea.vjp of a four-operand einsum, and a second derivative: building
    runs no task (a counting callback and a refusing scheduler agree); compute runs them."""
    ops_np = [_r(6, 5), _r(5, 4), _r(4, 6), _r(6, 3)]
    ops = [_da(o, 3) for o in ops_np]
    with TaskCounter() as counter, refuse_compute():
        y = ea.einsum("ab,bc,cd,de->ae", *ops)
        grads = ea.grad(_chain, argnums=(0, 1, 2, 3))(*ops)
        out, vjp_fn = ea.vjp(lambda *o: ea.einsum("ab,bc,cd,de->ae", *o), *ops)
        cts = vjp_fn(np.ones((6, 3)))
        hvp = ea.grad(lambda a: ea.sum(ea.grad(_chain)(a, *ops[1:]) ** 2))(ops[0])
    assert counter.tasks == 0
    with TaskCounter() as counter:
        values = dask.compute(y, *grads, *cts, hvp)
    assert counter.tasks > 0
    want = [np.einsum("ab,bc,cd,de->ae", *ops_np),
            *ea.grad(_chain, argnums=(0, 1, 2, 3))(*ops_np),
            *ea.vjp(lambda *o: ea.einsum("ab,bc,cd,de->ae", *o), *ops_np)[1](np.ones((6, 3))),
            ea.grad(lambda a: ea.sum(ea.grad(_chain)(a, *ops_np[1:]) ** 2))(ops_np[0])]
    for g, w in zip(values, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_backward_under_a_distributed_client():
    distributed = pytest.importorskip("distributed", reason="distributed is not installed")
    ops_np = [_r(8, 6), _r(6, 5), _r(5, 8)]
    want = ea.grad(lambda *o: ea.sum(ea.tanh(ea.einsum("ab,bc,cd->ad", *o))),
                   argnums=(0, 1, 2))(*ops_np)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cluster's port and resource notices
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, memory_limit="512MiB") as cluster, \
                distributed.Client(cluster) as client:
            ops = [_da(o, 3) for o in ops_np]
            before = client.run_on_scheduler(_tasks_seen)
            grads = ea.grad(lambda *o: ea.sum(ea.tanh(ea.einsum("ab,bc,cd->ad", *o))),
                            argnums=(0, 1, 2))(*ops)
            assert client.run_on_scheduler(_tasks_seen) == before  # nothing submitted yet
            got = dask.compute(*grads)  # the client is the default scheduler
            assert client.run_on_scheduler(_tasks_seen) > before
    for g, w in zip(got, want):
        assert isinstance(g, np.ndarray)
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def _tasks_seen(dask_scheduler):
    """How many task transitions the distributed scheduler has made so far."""
    return dask_scheduler.transition_counter
