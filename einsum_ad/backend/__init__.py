"""The one layer that knows array libraries: which library an operand is from, and one vocabulary.

Everything above this package speaks to arrays through a :class:`Backend` (``of(x)`` gives
the one of a plain array, inferred from its type and cached per type, as opt_einsum's
``infer_backend`` and array-api-compat's ``array_namespace`` do). A backend offers

* the Python array API standard's functions under their standard names (``matmul``,
  ``permute_dims``, ``reshape``, ``sum``, ``where``, ``astype``, ``zeros``, ...), each bound
  to the library's fastest callable;
* constants made with an operand's dtype and on its device (``const``, ``zeros``, ...);
* dtypes: the library's own dtype objects, their kinds (:func:`kind`), promotion and casting;
* the few kernels a library may supply faster than the generic path: strided diagonal
  views, writes onto a diagonal, scatter-add (the VJP of indexing), memory ownership.

One module per library: ``numpy.py`` (the default, and the fast paths NumPy allows),
``torch.py``, ``cupy.py``, ``dask.py``, and ``array_api.py``, the generic backend for any
library that implements the standard (``__array_namespace__``: array-api-strict, ...), which
is also what the others are built on. Supporting a new library is one module of overrides.
Only this package imports an array library.
"""

from __future__ import annotations

import importlib
import threading

from ._base import Backend

__all__ = ["Backend", "of", "default", "common", "kind", "dtype_name", "register", "get",
           "loaded", "is_array", "to_array", "library_name", "for_device"]

# type of an array -> its Backend; filled on first sight of each type
_BY_TYPE: dict = {}
# the modules of this package that know a library, by the top-level module name of its types
_MODULES = {"numpy": "numpy", "torch": "torch", "cupy": "cupy", "dask": "dask",
            "array_api_strict": "array_api"}
_BACKENDS: dict = {}  # name -> Backend, for every backend made so far
_LOCK = threading.Lock()
_KINDS: dict = {}  # dtype object -> kind letter (the hot paths read it directly)
# the numeric dtypes among them (bool, integer, floating, complex): one set membership for
# the einsum hot path; a dtype not yet met (or never cached) takes the general path
NUMERIC_DTYPES: set = set()
# libraries whose dtypes hash like NumPy's but warn when compared with them: never keys of
# _KINDS, so that a NumPy dtype's lookup never meets one (under warnings-as-errors it
# raised in an unrelated NumPy call after an array-api-strict array had been seen)
_UNCACHED_DTYPES = frozenset({"array_api_strict"})


def register(backend: Backend, *types) -> Backend:
    """Make ``backend`` the one for arrays of ``types`` (and known by its name)."""
    with _LOCK:
        _BACKENDS.setdefault(backend.name, backend)
        for t in types:
            _BY_TYPE[t] = backend
    return backend


def get(name: str) -> Backend:
    """The backend called ``name`` (``"numpy"``, ``"torch"``, ``"cupy"``, ``"dask"``, or the
    name of an array API namespace such as ``"array_api_strict"``), imported on first use."""
    found = _BACKENDS.get(name)
    if found is not None:
        return found
    module = _MODULES.get(name)
    if module is None:
        raise ValueError(f"unknown array backend {name!r}; known: {sorted(_MODULES)}")
    importlib.import_module(f"{__name__}.{module}").make()
    return _BACKENDS[name]


def default() -> Backend:
    """The NumPy backend: what lists, Python scalars and NumPy arrays become."""
    return _NUMPY


def loaded() -> tuple:
    """The backends made so far."""
    return tuple(_BACKENDS.values())


def of(x):
    """The Backend of plain array ``x``, or None when ``x`` is no array of a known library.

    Cached per type: after the first array of a type, this is one dict lookup.
    """
    b = _BY_TYPE.get(x.__class__, _MISSING)
    if b is not _MISSING:
        return b
    b = _infer(x)
    if b is None:
        with _LOCK:
            _BY_TYPE[x.__class__] = None  # no array: remembered as well
    return b


_MISSING = object()


def _infer(x):
    t = type(x)
    top = (t.__module__ or "").split(".")[0]
    if top == "builtins" or _NUMPY.converts(x):
        return None  # (an ndarray subclass of any module is read like a list)
    module = _MODULES.get(top)
    if module is not None:
        try:
            backend = importlib.import_module(f"{__name__}.{module}").make()
        except ImportError:  # e.g. a cupy module without a GPU driver
            backend = None
        if backend is not None and backend.owns(x):
            return register(backend, t)
        if top == "numpy":  # a numpy object that is not an array (a dtype, a ufunc)
            return None
    if hasattr(x, "__array_namespace__") and not isinstance(x, type):
        from .array_api import for_namespace
        return register(for_namespace(x.__array_namespace__()), t)
    try:  # libraries array-api-compat knows how to wrap, when it is installed
        import array_api_compat
    except ImportError:
        return None
    if array_api_compat.is_array_api_obj(x):
        from .array_api import for_namespace
        return register(for_namespace(array_api_compat.array_namespace(x)), t)
    return None


def for_device(device, fname="zeros"):
    """The backend whose arrays live on ``device`` (a creation function's ``device=``).

    None and NumPy's device ``"cpu"`` mean NumPy. A device object of another library means
    that library, read from the device's type as :func:`of` reads an array's: a
    ``torch.device`` means torch, an ``array_api_strict.Device`` array-api-strict, a JAX
    device ``jax.numpy`` (through its array API namespace). A library this package has no
    module for is driven through array-api-compat's namespace for it, when installed.
    Other strings raise ValueError (name the library with its device object instead).
    """
    if device is None:
        return _NUMPY
    if isinstance(device, str):
        if device == "cpu":
            return _NUMPY
        raise ValueError(
            f"{fname}: device {device!r} is a string; NumPy's only device is 'cpu'. For "
            "another library's device pass its device object (e.g. torch.device('cuda'))")
    top = (type(device).__module__ or "").split(".")[0]
    if top in _MODULES:
        try:
            return get(top)
        except ImportError:
            pass  # no module of this package for it (yet): array-api-compat's namespace
    found = _namespace_backend(_DEVICE_NAMESPACES.get(top, f"array_api_compat.{top}"))
    if found is None:
        raise TypeError(f"{fname}: device {device!r} (of type {type(device).__name__}) "
                        "belongs to no array library einsum_ad knows")
    return found


# array namespaces by the top-level module of a library's device type, where the two differ
_DEVICE_NAMESPACES = {"jaxlib": "jax.numpy", "jax": "jax.numpy"}


def _namespace_backend(module):
    """The generic backend of the array API namespace ``module`` (None if not importable)."""
    try:
        xp = importlib.import_module(module)
    except ImportError:
        return None
    if not hasattr(xp, "asarray"):
        return None
    from .array_api import for_namespace
    return for_namespace(xp)


def is_array(x) -> bool:
    """Whether ``x`` is an array of a library some backend knows."""
    return of(x) is not None


def library_name(x) -> str:
    """The library ``x`` belongs to, for messages (``"torch"``, ``"numpy"``, ``"list"``)."""
    b = of(x)
    return b.name if b is not None else type(x).__name__


def common(values, fname="einsum", what="operand"):
    """The one backend of ``values`` (plain arrays and non-arrays; None entries skipped).

    Arrays of two libraries raise TypeError naming both. Values that belong to no library
    (Python scalars, lists) and NumPy's 0-d values (numpy scalars, 0-d arrays: constants)
    adopt the others' library; with no other array, NumPy is the backend.
    """
    found, first = None, None
    for k, v in enumerate(values):
        if v is None:
            continue
        b = of(v)
        if b is None:
            continue
        if b is _NUMPY and len(getattr(v, "shape", ())) == 0:
            continue  # a numpy constant: converted to the others' library
        if found is None:
            found, first = b, k
        elif b is not found:
            raise TypeError(
                f"{fname}: {what} {first} is from {found.name} and {what} {k} from {b.name}; "
                "arrays of two libraries cannot be combined in one call (convert one, e.g. "
                "with the other library's asarray)")
    return _NUMPY if found is None else found


def to_array(x, k=0, fname="einsum", what="operand", like=None, device=None):
    """``x`` as an array of a known library, checked to be numeric.

    Arrays are returned as they are (NumPy 0-d values and non-arrays are converted to
    ``like``'s library when given, else to NumPy, as ``numpy.asarray`` would read them;
    onto ``device`` when given). Raises TypeError naming ``what`` ``k`` of ``fname`` for
    None, strings and non-numeric data.
    """
    b = of(x)
    if b is None or (like is not None and b is not like and b is _NUMPY
                     and len(getattr(x, "shape", ())) == 0):
        if x is None or isinstance(x, (str, bytes)):
            raise TypeError(f"{fname}: {what} {k} is {type(x).__name__}, not a numeric array")
        target = like if like is not None else _NUMPY
        try:
            x = target.asarray(x) if device is None else target.asarray(x, device=device)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{fname}: {what} {k} ({type(x).__name__}) cannot be read as a "
                            f"numeric array: {exc}") from None
        b = target
    if like is not None and b is not like:
        raise TypeError(
            f"{fname}: {what} {k} is from {b.name} but the other operands are from "
            f"{like.name}; arrays of two libraries cannot be combined in one call")
    if kind(x.dtype) not in "biufc":
        raise TypeError(
            f"{fname}: {what} {k} has dtype {x.dtype} (shape {tuple(x.shape)}); a numeric "
            "array (bool, integer, floating or complex) is required")
    return x


def dtype_name(dtype) -> str:
    """A dtype's standard name (``"float64"``), whatever its library."""
    for b in (_NUMPY,) + tuple(v for v in _BACKENDS.values() if v is not _NUMPY):
        if b.dtype_kind(dtype) is not None:
            return b.dtype_name(dtype)
    return str(dtype)


def kind(dtype) -> str:
    """The kind of a dtype of any backend: ``"b"`` bool, ``"i"`` signed, ``"u"`` unsigned
    integer, ``"f"`` real floating, ``"c"`` complex floating, ``"O"`` anything else."""
    try:
        return _KINDS[dtype]
    except (KeyError, TypeError):
        pass
    for b in (_NUMPY,) + tuple(v for v in _BACKENDS.values() if v is not _NUMPY):
        k = b.dtype_kind(dtype)
        if k is not None:
            break
    else:
        k = "O"
    if (dtype.__class__.__module__ or "").split(".")[0] in _UNCACHED_DTYPES:
        return k
    try:
        _KINDS[dtype] = k
        if k in "biufc":
            NUMERIC_DTYPES.add(dtype)
    except TypeError:
        pass
    return k


from .numpy import make as _make_numpy  # noqa: E402  (the default backend exists at import)

_NUMPY = _make_numpy()
