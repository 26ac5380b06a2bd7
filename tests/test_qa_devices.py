"""QA regressions: constants and conversions that landed on the library's default device.

Every test runs on array-api-strict's second device ("device1"), which refuses to meet
arrays of the default device: a constant the engine makes without the operands' device
fails there (a CUDA tensor would fail alike), or, where nothing combines it, is handed out
on the wrong device.
"""

import numpy as np
import pytest

import einsum_ad as ea

xp = pytest.importorskip("array_api_strict")
DEV = xp.Device("device1")
RNG = np.random.default_rng(20)


def _on(a):
    return xp.asarray(np.asarray(a), device=DEV)


def _host(a):
    return np.from_dlpack(xp.asarray(a, device=xp.Device("CPU_DEVICE")))


def _assert_on_device(*arrays):
    for a in arrays:
        assert a.device == DEV, a.device


SQ = RNG.normal(size=(3, 3))
SPD = SQ @ SQ.T + 3 * np.eye(3)
GAP_FUNCTIONS = {  # derivatives that read the factorisation's resolution (_resolution)
    "eigh": lambda a: ea.linalg.eigh(a)[1],
    "eigvalsh": ea.linalg.eigvalsh,
    "svd": lambda a: ea.linalg.svd(a, full_matrices=False)[0],
    "svdvals": ea.linalg.svdvals,
    "matrix_norm_nuc": lambda a: ea.linalg.matrix_norm(a, ord="nuc"),
    "matrix_norm_2": lambda a: ea.linalg.matrix_norm(a, ord=2),
    "cond": ea.linalg.cond,
    "lstsq": lambda a: ea.linalg.lstsq(a, a[:, 0])[0],
}


@pytest.mark.parametrize("name", sorted(GAP_FUNCTIONS))
def test_qa_linalg_derivative_tolerance_on_operand_device(name):
    """The gap tolerance of the eigh/svd derivatives (``rules.linalg._resolution``) was a
    0-d constant made by ``Backend.scalar`` without a device, so on the default device:
    every derivative through eigh, eigvalsh, svd, svdvals, the nuclear and spectral norms,
    cond and lstsq raised ValueError inside array-api-strict off its default device (a
    CUDA tensor would meet a CPU constant). ``Backend.scalar`` now has no default device."""
    f = GAP_FUNCTIONS[name]
    a = _on(SPD)
    out, vjp_fn = ea.vjp(f, a)
    (g,) = vjp_fn(xp.ones(out.shape, dtype=out.dtype, device=DEV))
    _, t = ea.jvp(f, (a,), (_on(np.eye(3)),))
    _assert_on_device(out, g, t)
    ref_out, ref_vjp = ea.vjp(f, SPD)
    np.testing.assert_allclose(_host(g), ref_vjp(np.ones(np.shape(ref_out)))[0],
                               rtol=1e-10, atol=1e-12)



INDEXED = {  # NumPy (or list) integer arrays as indices or counts, converted by the call
    "take": (lambda a: ea.take(a, np.array([2, 0, 2]), axis=1),
             lambda a: a[:, [2, 0, 2]]),
    "take_list": (lambda a: ea.take(a, [1, 1], axis=0), lambda a: a[[1, 1]]),
    "repeat": (lambda a: ea.repeat(a, np.array([1, 0, 2]), axis=1),
               lambda a: a[:, [0, 2, 2]]),
    "repeat_list": (lambda a: ea.repeat(a, [2, 1], axis=0), lambda a: a[[0, 0, 1]]),
}


@pytest.mark.parametrize("name", sorted(INDEXED))
def test_qa_index_arrays_converted_onto_operand_device(name):
    """``take``'s indices and ``repeat``'s counts, given as NumPy arrays or lists, were
    converted by ``numpy.structure._index_array`` without the operand (its ``like`` was
    optional), so onto the default device: off it, ``take`` raised array-api-strict's
    ValueError and ``repeat`` its device mismatch, where indexing with the same NumPy
    array works. The operand is now a required argument."""
    f, ref = INDEXED[name]
    a = _on(np.arange(6.0).reshape(2, 3))
    out, vjp_fn = ea.vjp(f, a)
    (g,) = vjp_fn(xp.ones(out.shape, dtype=out.dtype, device=DEV))
    _assert_on_device(out, g)
    plain = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(_host(out), ref(plain))
    np.testing.assert_array_equal(_host(g), ea.grad(lambda a: ea.sum(f(a)))(plain))


X = np.arange(6.0).reshape(2, 3) + 0.5
SCALAR_PARTNERS = {  # a Python or NumPy scalar joining the operand through _check_operand
    "diff_prepend": lambda a: ea.diff(a, prepend=0.0),
    "diff_append_numpy": lambda a: ea.diff(a, axis=0, append=np.float64(1.0)),
    "logsumexp_b": lambda a: ea.logsumexp(a, axis=1, b=2.0),
    "logsumexp_b_numpy": lambda a: ea.logsumexp(a, b=np.float64(0.5)),
    "var_mean": lambda a: ea.var(a, axis=1, mean=1.0),
}


@pytest.mark.parametrize("name", sorted(SCALAR_PARTNERS))
def test_qa_scalar_arguments_converted_onto_operand_device(name):
    """``diff``'s ``prepend``/``append``, ``logsumexp``'s ``b`` and ``var``'s ``mean`` are
    converted to the operand's library by ``_check_operand(..., like=)``, whose ``like``
    was a backend: the conversion landed on the library's default device and the call
    raised ValueError inside array-api-strict off it. ``like`` is now the operand."""
    f = SCALAR_PARTNERS[name]
    a = _on(X)
    out, vjp_fn = ea.vjp(f, a)
    (g,) = vjp_fn(xp.ones(out.shape, dtype=out.dtype, device=DEV))
    _assert_on_device(out, g)
    ref_out, ref_vjp = ea.vjp(f, X)
    np.testing.assert_allclose(_host(out), ref_out, rtol=1e-12)
    np.testing.assert_allclose(_host(g), ref_vjp(np.ones(np.shape(ref_out)))[0], rtol=1e-12)


@pytest.mark.parametrize("obj", [[1.0, 2.0], 3, np.arange(2.0)], ids=["list", "int", "numpy"])
def test_qa_asarray_like_puts_new_arrays_on_like_device(obj):
    """``asarray(obj, like=x)`` made ``obj`` an array of ``x``'s library but on the
    library's default device (it passed ``device=None`` on), unlike ``zeros(like=x)``,
    ``full(like=x)`` and the other creation functions, which use ``x``'s device: a silent
    wrong device, found only when the array met ``x``."""
    x = _on([1.0])
    out = ea.asarray(obj, like=x)
    _assert_on_device(out)
    np.testing.assert_array_equal(_host(out), np.asarray(obj))
    _assert_on_device(ea.add(ea.astype(out, x.dtype), x))


@pytest.mark.parametrize("shape", [(3, 0), (0, 0), (2, 0, 4)])
def test_qa_rank_of_empty_matrices_on_operand_device(shape):
    """``matrix_rank`` and ``lstsq``'s rank of matrices with no singular values (a zero
    dimension) were zeros made without a device: handed out on the library's default
    device while every other result of the call is on the operand's."""
    a = _on(np.ones(shape))
    rank = ea.linalg.matrix_rank(a)
    _assert_on_device(rank)
    np.testing.assert_array_equal(_host(rank), np.linalg.matrix_rank(np.ones(shape)))
    if len(shape) == 2:
        x, res, lrank, s = ea.linalg.lstsq(a, _on(np.ones(shape[0])))
        _assert_on_device(x, res, lrank, s)
        assert int(_host(lrank)) == 0


@pytest.mark.xfail(strict=True, reason="transforms/_args.py (another helper's): check_cotangent "
                   "and check_tangent convert a Python scalar with bk.asarray(c) (no device); "
                   "the fix is bk.asarray(c, device=bk.device(like)) / "
                   "bk.asarray(t, device=bk.device(unwrap(x)))")
@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_qa_python_scalar_cotangent_and_tangent_on_primal_device(mode):
    """A Python number given as the cotangent of a 0-d output (``vjp_fn(1.0)``) or as the
    tangent of a 0-d primal is converted by ``transforms._args`` with ``bk.asarray`` and no
    device: off the default device the backward pass raises array-api-strict's
    ValueError, while a NumPy scalar in the same place is converted onto the device."""
    x = _on(2.0)
    if mode == "vjp":
        _, vjp_fn = ea.vjp(lambda x: x * x, x)
        (d,) = vjp_fn(1.0)
    else:
        _, d = ea.jvp(lambda x: x * x, (x,), (1.0,))
    _assert_on_device(d)
    assert float(_host(d)) == 4.0
