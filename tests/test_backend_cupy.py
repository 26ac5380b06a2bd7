"""The CuPy backend's own kernels (the tables run on CuPy through ``_array_backends``):
diagonal views, scatter-add with repeated indices in every dtype the VJP meets, device
placement of constants and host copies. Skipped where CuPy does not import or has no GPU."""

import importlib

import numpy as np
import pytest

from einsum_ad import backend


def _cupy():
    try:
        cp = importlib.import_module("cupy")
        cp.zeros(1)
    except Exception as exc:  # noqa: BLE001 - not installed, or no usable GPU
        pytest.skip(f"cupy is not usable here ({type(exc).__name__}: {exc})")
    return cp


def test_get_names_the_missing_library():
    try:
        importlib.import_module("cupy")
    except ImportError:
        with pytest.raises(ImportError, match="cupy"):
            backend.get("cupy")
    else:
        assert backend.get("cupy").name == "cupy"


def test_diagonal_views_and_writes():
    cp = _cupy()
    B = backend.get("cupy")
    x = cp.arange(60.0).reshape(3, 4, 5).transpose(2, 0, 1)[1:4, :, :3]
    view = B.diagonal(x, ((0, 1, 2),))
    np.testing.assert_array_equal(cp.asnumpy(view), [cp.asnumpy(x)[i, i, i] for i in range(3)])
    g = cp.asarray([1.0, np.inf, -2.0])
    out = B.write_diagonal(g, (3, 3), ((0, 1),))
    np.testing.assert_array_equal(cp.asnumpy(out), np.diag([1.0, np.inf, -2.0]))
    assert not np.isnan(cp.asnumpy(out)).any()


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_scatter_add_accumulates(dtype):
    cp = _cupy()
    B = backend.get("cupy")
    g = (np.arange(1.0, 7.0) * (1 + 1j if dtype.startswith("complex") else 1)).astype(dtype)
    idx = np.array([2, 0, 2])
    want = np.zeros((4, 2), dtype)
    np.add.at(want, (idx, slice(None)), g.reshape(3, 2))
    got = B.scatter_add(cp.asarray(g.reshape(3, 2)), (cp.asarray(idx), slice(None)), (4, 2))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(cp.asnumpy(got), want)


def test_constants_and_host_copies_on_the_operands_device():
    cp = _cupy()
    B = backend.get("cupy")
    x = cp.ones(3, dtype=cp.float32)
    assert B.const(2, x).dtype == np.float32 and B.const(2, x).device == x.device
    y = B.from_numpy(np.arange(3.0), like=x)
    assert isinstance(y, cp.ndarray) and y.device == x.device
    assert B.readonly(cp.broadcast_to(x[:1], (4, 3))) and not B.readonly(x)
    assert B.owner(x[1:]) == B.owner(x) != B.owner(x.copy())
