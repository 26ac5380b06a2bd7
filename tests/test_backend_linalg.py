"""``ea.linalg`` on every array backend of ``_array_backends.BACKENDS``: the forward table of
``test_linalg`` (values against ``numpy.linalg`` in float64, complex128 and float32, the
eigenvectors and singular vectors up to their phases), and the derivative tables of
``test_linalg_grads`` (every function, real and complex, and the edge inputs:
ill-conditioned, repeated eigenvalues and singular values, singular matrices), checked
against finite differences to second order in both modes. A slow backend runs a subset of
each table's rows."""

import zlib

import numpy as np
import pytest
import test_linalg_grads
from _array_backends import check_array, convert, table_params
from test_linalg import DTYPES, FORWARD
from test_linalg_grads import EDGES, GRAD_CASES

import einsum_ad as ea

FORWARD_ROWS = [(f"{row[0]}-{np.dtype(dt).name}", *row[1:], dt)
                for dt in DTYPES for row in FORWARD]


# the factors defined up to a phase per vector, by row: (output, axis of the vectors'
# entries): eigh's eigenvectors are columns, svd's U columns and Vh rows
_VECTORS = {"eigh": ((1, -2),), "eigh-upper": ((1, -2),), "svd-full-tall": ((0, -2), (2, -1)),
            "svd-thin-wide": ((0, -2), (2, -1))}


def _same_phases(name, got, want):
    """``got`` with each eigenvector or singular vector turned by the phase (sign) that
    makes it agree with ``want``'s at ``want``'s largest entry: the phases are the LAPACK
    routine's choice (numpy's and torch's differ), not the function's result."""
    got = list(got)
    for out, axis in _VECTORS.get(name.rsplit("-", 1)[0], ()):
        g, w = np.moveaxis(got[out], axis, -1), np.moveaxis(np.asarray(want[out]), axis, -1)
        at = np.argmax(np.abs(w), axis=-1)[..., None]
        pg, pw = np.take_along_axis(g, at, -1), np.take_along_axis(w, at, -1)
        phase = (pw / np.abs(pw)) / (pg / np.abs(pg))
        got[out] = np.moveaxis(g * phase, -1, axis).astype(got[out].dtype)
    return got


@pytest.mark.parametrize("b, name, f, ref, makers, dtype", table_params(FORWARD_ROWS))
def test_linalg_values(b, name, f, ref, makers, dtype):
    args = [m(dtype) for m in makers]
    want = ref(*args)
    got = f(*convert(b, args))
    want = tuple(want) if isinstance(want, tuple) else (want,)
    got = tuple(got) if isinstance(got, tuple) else (got,)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert len(got) == len(want), name
    hosts = _same_phases(name, [check_array(b, g, what=name) for g in got], want)
    for host, w in zip(hosts, want):
        w = np.asarray(w)
        assert host.shape == w.shape, (name, host.shape, w.shape)
        if w.dtype.kind in "fc":
            assert host.dtype == w.dtype, (name, host.dtype, w.dtype)
        np.testing.assert_allclose(host, w, rtol=tol, atol=tol, err_msg=name)


@pytest.fixture
def seeded(monkeypatch):
    """The derivative tables' inputs drawn from a generator seeded by the row's id: the
    same matrices on every backend, whichever tests ran before (the module's generator
    is shared by all its rows)."""
    def seed(name):
        monkeypatch.setattr(test_linalg_grads, "rng",
                            np.random.default_rng(zlib.crc32(name.encode())))
    return seed


# the factorisations' second derivatives are the longest rows on a slow backend (Dask: a
# graph of a few hundred tasks per row): a sixth of them there
@pytest.mark.parametrize("b, name, f, makers, kind, opts", table_params(GRAD_CASES, every=6))
def test_linalg_gradients(b, name, f, makers, kind, opts, seeded):
    seeded(f"{name}-{kind}")
    args = tuple(b.asarray(m(kind)) for m in makers)
    ea.check_grads(f, args, order=2, modes=("fwd", "rev"), **opts)


@pytest.mark.parametrize("b, name, f, make, order, opts", table_params(EDGES, every=6))
def test_linalg_gradients_at_edge_inputs(b, name, f, make, order, opts, seeded):
    seeded(name)
    ea.check_grads(f, convert(b, make()), order=order, modes=("fwd", "rev"), **opts)
