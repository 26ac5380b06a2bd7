"""The array backends the cross-backend tests run on, as one list of descriptors.

``BACKENDS`` holds one :class:`ArrayBackend` per library (and device): how to make its
arrays from NumPy arrays, how to read them back, and why it is skipped when it cannot run
here. The ``backend`` fixture (``conftest.py``) runs a test once per entry
(``tests/test_backend_*.py``). Adding a library is one entry: a function returning an
``ArrayBackend`` appended to ``BACKENDS`` (dask: ``asarray`` wraps
``dask.array.from_array``, ``to_numpy`` computes). Helpers to compare results with NumPy's
sit at the end.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np
import pytest


@dataclass(frozen=True)
class ArrayBackend:
    """One library (and device) the engine must run on, for the tests.

    Attributes:
        name: the test id (``"torch"``, ``"torch-cuda"``).
        library: the einsum_ad backend's name (``einsum_ad.backend.of(x).name``).
        asarray: NumPy array (or scalar) -> an array of the library, same dtype.
        to_numpy: an array of the library -> a NumPy array (independently of einsum_ad).
        array_type: the type its arrays have (``isinstance`` checks).
        device: the device results must stay on (None: no device to check).
        skip: why it cannot run here, or None.
        slow: a backend whose calls are slow (array-api-strict's wrappers): the long tables
            run a subset on it.
    """

    name: str
    library: str
    asarray: object = field(repr=False)
    to_numpy: object = field(repr=False)
    array_type: type | tuple = object
    device: object = None
    skip: str | None = None
    slow: bool = False

    def device_of(self, x):
        return getattr(x, "device", None)


def _missing(name, library, why):
    return ArrayBackend(name, library, None, None, skip=why)


def _import(module):
    try:
        return importlib.import_module(module), None
    except Exception as exc:  # noqa: BLE001 - ImportError, or a GPU library without a GPU
        return None, f"{module} does not import here ({type(exc).__name__}: {exc})"


def numpy_backend():
    return ArrayBackend("numpy", "numpy", np.asarray, np.asarray,
                        (np.ndarray, np.generic))


def array_api_strict_backends():
    """array-api-strict on its default device, and on its second device "device1", which
    refuses to meet arrays of the first: every constant the engine makes must be made on
    the operands' device (what CUDA tensors need, checked without a GPU)."""
    xp, why = _import("array_api_strict")
    if xp is None:
        return [_missing("array_api_strict", "array_api_strict", why),
                _missing("array_api_strict-device1", "array_api_strict", why)]
    out = []
    for name, dev in (("array_api_strict", xp.asarray(0.0).device),
                      ("array_api_strict-device1", xp.Device("device1"))):
        out.append(ArrayBackend(name, "array_api_strict",
                                lambda a, dev=dev: xp.asarray(np.asarray(a), device=dev),
                                lambda x: np.from_dlpack(xp.asarray(x, device=xp.Device(
                                    "CPU_DEVICE"))),
                                type(xp.asarray(0.0)), device=dev, slow=True))
    return out


def torch_backends():
    torch, why = _import("torch")
    if torch is None:
        return [_missing("torch", "torch", why), _missing("torch-cuda", "torch", why)]

    # one thread: the tests' tensors are tiny, and on a loaded 2-core machine two OpenMP
    # threads that wait for each other turn a 4 us matmul into milliseconds
    torch.set_num_threads(1)

    def on(device):
        return lambda a: torch.as_tensor(np.array(a), device=device)

    out = [ArrayBackend("torch", "torch", on("cpu"), lambda x: x.numpy(force=True),
                        torch.Tensor, device=torch.device("cpu"))]
    if torch.cuda.is_available():
        out.append(ArrayBackend("torch-cuda", "torch", on("cuda"),
                                lambda x: x.numpy(force=True), torch.Tensor,
                                device=torch.device("cuda", torch.cuda.current_device())))
    else:
        out.append(_missing("torch-cuda", "torch", "torch.cuda.is_available() is False: no "
                            "CUDA device here"))
    return out


def cupy_backend():
    cp, why = _import("cupy")
    if cp is None:
        return _missing("cupy", "cupy", why)
    try:
        dev = cp.cuda.Device()
        cp.zeros(1)
    except Exception as exc:  # noqa: BLE001 - cupy without a usable GPU
        return _missing("cupy", "cupy", f"cupy has no usable GPU ({exc})")
    return ArrayBackend("cupy", "cupy", lambda a: cp.asarray(np.array(a)), cp.asnumpy,
                        cp.ndarray, device=dev)


def dask_backend():
    """Dask arrays with each axis cut into two chunks (steps, diagonals, gathers and
    scatter-adds cross a chunk boundary on every axis; at most 2**ndim blocks), read back by
    computing on the synchronous scheduler."""
    da, why = _import("dask.array")
    if da is None:
        return _missing("dask", "dask", why)
    return ArrayBackend("dask", "dask",
                        lambda a: da.from_array(np.asarray(a), chunks=tuple(
                            max(1, (n + 1) // 2) for n in np.shape(a))),
                        lambda x: np.asarray(x.compute(scheduler="synchronous")),
                        da.Array, slow=True)


BACKENDS = [numpy_backend(), *array_api_strict_backends(), *torch_backends(), cupy_backend(),
            dask_backend()]
# (device None: nothing to check; a skip reason where dask does not import).




def backend_params(*, fast_only=False):
    """``BACKENDS`` as pytest params (a skipped one marked with its reason)."""
    return [pytest.param(b, id=b.name, marks=pytest.mark.skip(reason=b.skip))
            if b.skip else pytest.param(b, id=b.name)
            for b in BACKENDS if not (fast_only and b.slow)]


# ----------------------------------------------------------------------------- helpers


def convert(b, tree):
    """A pytree of NumPy arrays (and Python values) with every NumPy array made ``b``'s."""
    if isinstance(tree, (np.ndarray, np.generic)):
        return b.asarray(tree)
    if isinstance(tree, dict):
        return {k: convert(b, v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(convert(b, v) for v in tree)
    return tree


def check_array(b, got, want=None, *, dtype=None, rtol=1e-12, atol=1e-12, what="result"):
    """``got`` is an array of ``b``'s library, on its device, with ``want``'s (a NumPy
    value) shape, dtype and values (or ``dtype``, a NumPy dtype, alone)."""
    assert isinstance(got, b.array_type), \
        f"{what} is a {type(got).__name__}, not an array of {b.name}"
    if b.device is not None:
        assert b.device_of(got) == b.device, f"{what} is on {b.device_of(got)}, not {b.device}"
    host = np.asarray(b.to_numpy(got))
    if dtype is not None:
        assert host.dtype == np.dtype(dtype), f"{what} has dtype {host.dtype}, not {dtype}"
    if want is not None:
        want = np.asarray(want)
        assert host.shape == want.shape, f"{what} has shape {host.shape}, not {want.shape}"
        assert host.dtype == want.dtype, f"{what} has dtype {host.dtype}, not {want.dtype}"
        np.testing.assert_allclose(host, want, rtol=rtol, atol=atol, err_msg=what)
    return host


def check_tree(b, got, want, **kw):
    """``check_array`` on every leaf of two pytrees of the same structure."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want)
        for k in want:
            check_tree(b, got[k], want[k], **kw)
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want)
        for g, w in zip(got, want):
            check_tree(b, g, w, **kw)
    else:
        check_array(b, got, want, **kw)
