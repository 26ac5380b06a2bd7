"""The namespace itself: the standard's version, its constants, and its inspection API.

``__array_api_version__`` says which version of the array API standard einsum_ad
implements; ``__array_namespace_info__()`` answers what it supports, per library: a
``device=`` argument selects the library asked about, as it does in creation functions
(None: NumPy, the default).
"""

from __future__ import annotations

import math

from .. import backend as _backend
from .dtypes import isdtype

__all__ = ["__array_api_version__", "__array_namespace_info__", "e", "inf", "nan", "newaxis",
           "pi"]

__array_api_version__ = "2024.12"

e = math.e
inf = math.inf
nan = math.nan
pi = math.pi
newaxis = None

_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float32", "float64", "complex64", "complex128")


def _info_of(bk):
    """The library's own inspection object (None when its namespace has none)."""
    f = getattr(bk.xp, "__array_namespace_info__", None)
    return None if f is None else f()


class Info:
    """What einsum_ad supports (the standard's inspection namespace).

    Examples:
        >>> import einsum_ad as ea
        >>> info = ea.__array_namespace_info__()
        >>> info.default_device(), info.default_dtypes()["real floating"]
        ('cpu', dtype('float64'))
        >>> sorted(info.dtypes(kind="unsigned integer"))
        ['uint16', 'uint32', 'uint64', 'uint8']
    """

    def capabilities(self):
        """Boolean indexing and data-dependent shapes are supported (on traced values too;
        their shapes are read from values); at most 64 dimensions (NumPy's limit)."""
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self):
        """NumPy's device, ``"cpu"``: where arrays go without ``device=``."""
        return "cpu"

    def devices(self):
        """NumPy's devices, then those of every other library einsum_ad has driven in this
        process (each library's own list, when its namespace has an inspection API)."""
        out = ["cpu"]
        for bk in _backend.loaded():
            if bk is _backend.default():
                continue
            info = _info_of(bk)
            for d in (info.devices() if info is not None else ()):
                if d not in out:
                    out.append(d)
        return out

    def default_dtypes(self, *, device=None):
        """The default dtypes of ``device``'s library (None: NumPy's)."""
        bk = _backend.for_device(device, "default_dtypes")
        return {"real floating": bk.default_float,
                "complex floating": bk.complex_dtype(bk.default_float),
                "integral": bk.default_int, "indexing": bk.index_dtype}

    def dtypes(self, *, device=None, kind=None):
        """The standard's dtypes that ``device``'s library has, by name, optionally of
        ``kind`` (as :func:`isdtype` takes it)."""
        bk = _backend.for_device(device, "dtypes")
        info = _info_of(bk)
        if info is not None and device is not None:
            return dict(info.dtypes(device=device, kind=kind))
        out = {}
        for name in _DTYPES:
            dt = getattr(bk, name, None)
            if dt is not None and (kind is None or isdtype(dt, kind)):
                out[name] = dt
        return out


_INFO = Info()


def __array_namespace_info__():
    """The inspection namespace of einsum_ad (the array API standard's): an :class:`Info`.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.__array_namespace_info__().capabilities()["max dimensions"]
        64
    """
    return _INFO
