"""Data types and data type functions: the array API standard's (2024.12), on every backend.

The dtype objects of the namespace (``ea.float32``, ``ea.int64``, ``ea.bool``, ...) are
NumPy's (``numpy.dtype`` instances: what ``x.dtype`` of a NumPy array is); every function
that takes a dtype reads it in the library it works in, by name, so ``ea.float32`` serves
every backend, and a library's own dtype objects work too.

The data type functions answer in the library of their arguments: ``result_type`` and
``can_cast`` of torch dtypes (or tensors) answer with torch dtypes, ``finfo`` and ``iinfo``
of one give its dtype. Without an array or a library's dtype, NumPy answers. Promotion and
casting are the library's own for arrays of one (NumPy's NEP 50 for NumPy arrays); Python
scalars are weakly typed (they take the other operand's dtype where they fit). ``astype``,
the standard's fifth data type function, is with the other casts in ``structure.py``.
"""

from __future__ import annotations

import builtins

from .. import backend as _backend
from ..core import unwrap

_NP = _backend.default()
_kind = _backend.kind

__all__ = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float32", "float64", "complex64", "complex128", "can_cast", "finfo", "iinfo",
           "isdtype", "result_type"]

bool = _NP.bool  # noqa: A001 - the standard's name
int8, int16, int32, int64 = _NP.int8, _NP.int16, _NP.int32, _NP.int64
uint8, uint16, uint32, uint64 = _NP.uint8, _NP.uint16, _NP.uint32, _NP.uint64
float32, float64 = _NP.float32, _NP.float64
complex64, complex128 = _NP.complex64, _NP.complex128


def _dtype_backend(dtype):
    """The backend whose dtype ``dtype`` is (None when it is no library's dtype object: a
    name or a Python type, which every backend reads)."""
    for b in (_NP,) + tuple(b for b in _backend.loaded() if b is not _NP):
        try:
            if b.dtype_kind(dtype) is not None:
                return b
        except TypeError:  # an unhashable spelling
            return None
    return None


def _split(value):
    """``(backend, dtype)`` of an array, a traced value or a dtype; ``(None, value)`` for a
    Python scalar or a spelling that is no library's dtype object."""
    v = unwrap(value)
    b = _backend.of(v)
    if b is not None and hasattr(v, "dtype") and not isinstance(v, type):
        return b, v.dtype
    return _dtype_backend(value), value


def _one_backend(fname, values):
    """The one library of ``values`` (arrays and dtypes), NumPy when none has one.

    Arrays of two libraries raise TypeError; NumPy's dtype objects (the namespace's own)
    are read in the library of the others."""
    found, found_array = None, False
    for value in values:
        b, _ = _split(value)
        if b is None:
            continue
        is_array = _backend.of(unwrap(value)) is not None
        if b is _NP and not is_array and found is not None:
            continue  # a namespace dtype: read by name in the others' library
        if found is None or (found is _NP and not found_array):
            found, found_array = b, is_array
        elif b is not found:
            raise TypeError(f"{fname}: arguments from two libraries, {found.name} and "
                            f"{b.name}")
        found_array = found_array or is_array
    return _NP if found is None else found


def _as_dtype(bk, value, fname, what="dtype"):
    _, d = _split(value)
    try:
        return bk.dtype(d)
    except TypeError:
        raise TypeError(f"{fname}: {what} {value!r} is not a data type or an array") from None


def result_type(*arrays_and_dtypes):
    """The dtype the standard's type promotion gives ``arrays_and_dtypes`` (arrays, traced
    values, dtypes, and Python scalars, which are weak: ``result_type(int8, 1)`` is int8).

    The library's own promotion (NumPy's for NumPy arrays and einsum_ad's dtypes),
    answering with its dtype object.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.result_type(ea.int8, ea.uint8), ea.result_type(ea.float32, 1.0)
        (dtype('int16'), dtype('float32'))
    """
    if not arrays_and_dtypes:
        raise ValueError("result_type: at least one array or dtype is required")
    bk = _one_backend("result_type", arrays_and_dtypes)
    args = []
    for a in arrays_and_dtypes:
        if isinstance(a, (builtins.bool, int, float, complex)):
            args.append(a)
        else:
            args.append(_as_dtype(bk, a, "result_type", "argument"))
    return bk.dtype(bk.result_type(*args))


def can_cast(from_, to, /, casting="safe"):
    """Whether ``from_`` (a dtype or an array) casts to dtype ``to`` under numpy's rule
    ``casting`` (``"safe"`` by default: every cast the standard's promotion can make, and
    numpy's safe casts between kinds such as int32 to float64).

    Examples:
        >>> import einsum_ad as ea
        >>> ea.can_cast(ea.int8, ea.int16), ea.can_cast(ea.float64, ea.float32)
        (True, False)
    """
    bk = _one_backend("can_cast", (from_, to))
    return builtins.bool(bk.can_cast(_as_dtype(bk, from_, "can_cast", "from_"),
                                     _as_dtype(bk, to, "can_cast", "to"), casting))


class finfo_object:
    """Machine limits of a floating dtype: the standard's attributes as Python numbers
    (``bits``, ``eps``, ``max``, ``min``, ``smallest_normal``) and ``dtype`` (the real
    dtype of the library); the library's own others (numpy's ``tiny``, ``resolution``,
    ...) are read from its ``finfo``."""

    def __init__(self, info, dtype):
        self._info = info
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.smallest_normal = float(getattr(info, "smallest_normal", None) or info.tiny)
        self.dtype = dtype

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._info, name)

    def __repr__(self):
        return (f"finfo(bits={self.bits}, eps={self.eps}, max={self.max}, min={self.min}, "
                f"smallest_normal={self.smallest_normal}, dtype={self.dtype})")


class iinfo_object:
    """Limits of an integer dtype: ``bits``, ``max``, ``min`` (Python ints) and ``dtype``."""

    def __init__(self, info, dtype):
        self._info = info
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = dtype

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._info, name)

    def __repr__(self):
        return f"iinfo(bits={self.bits}, max={self.max}, min={self.min}, dtype={self.dtype})"


def finfo(type, /):  # noqa: A002 - the standard's name
    """Machine limits of a floating (or complex: of its real part) dtype or array.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.finfo(ea.float32).bits, ea.finfo(ea.complex128).eps
        (32, 2.220446049250313e-16)
    """
    bk = _one_backend("finfo", (type,))
    dt = _as_dtype(bk, type, "finfo")
    if _kind(dt) not in "fc":
        raise ValueError(f"finfo: {dt} is not a floating-point dtype")
    return finfo_object(bk.finfo(dt), bk.real_dtype(dt))


def iinfo(type, /):  # noqa: A002 - the standard's name
    """Limits of an integer dtype or array.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.iinfo(ea.int8).min, ea.iinfo(ea.uint16).max
        (-128, 65535)
    """
    bk = _one_backend("iinfo", (type,))
    dt = _as_dtype(bk, type, "iinfo")
    if _kind(dt) not in "iu":
        raise ValueError(f"iinfo: {dt} is not an integer dtype")
    return iinfo_object(bk.iinfo(dt), dt)


_KINDS = {"bool": "b", "signed integer": "i", "unsigned integer": "u", "integral": "iu",
          "real floating": "f", "complex floating": "c", "numeric": "iufc"}


def isdtype(dtype, kind):
    """Whether ``dtype`` is of ``kind``: a dtype, one of the standard's kind names
    (``"bool"``, ``"signed integer"``, ``"unsigned integer"``, ``"integral"``, ``"real
    floating"``, ``"complex floating"``, ``"numeric"``), or a tuple of them.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.isdtype(ea.float32, "real floating"), ea.isdtype(ea.int8, ("bool", ea.uint8))
        (True, False)
    """
    k = _kind(dtype)
    if k == "O" or _backend.of(dtype) is not None:
        raise TypeError(f"isdtype: dtype must be a data type, got {dtype!r}")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for want in kinds:
        if isinstance(want, str):
            letters = _KINDS.get(want)
            if letters is None:
                raise ValueError(f"isdtype: unknown kind {want!r}; the kinds are "
                                 f"{sorted(_KINDS)}")
            if k in letters:
                return True
        elif _kind(want) != "O":
            if _dtype_backend(want) is _dtype_backend(dtype) \
                    and _backend.dtype_name(want) == _backend.dtype_name(dtype):
                return True
        else:
            raise TypeError(f"isdtype: kind must be a dtype, a kind name or a tuple of "
                            f"them, got {want!r}")
    return False
