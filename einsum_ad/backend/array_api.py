"""The generic backend for any library that implements the Python array API standard.

A library whose arrays have ``__array_namespace__`` (array-api-strict, and the libraries
that array-api-compat wraps when it is installed) is driven through its namespace alone:
every function the engine calls is one of the standard's (see ``_base.Backend``). This is
the backend that proves no NumPy call leaks into the engine: array-api-strict refuses
anything outside the standard.
"""

from __future__ import annotations

import threading
import warnings

from ._base import Backend

__all__ = ["ArrayAPIBackend", "for_namespace", "make"]


class ArrayAPIBackend(Backend):
    """An array API namespace as a backend; its name is the namespace's module name."""

    def owns(self, x) -> bool:
        try:
            return x.__array_namespace__() is self.xp
        except Exception:  # noqa: BLE001 - not an array of this namespace
            return False

    # The standard defines matmul, multiply and sum for numeric dtypes only; einsum of
    # bools (numpy's: a logical or of ands) is computed here in those terms.

    def matmul(self, a, b):
        xp = self.xp
        if a.dtype == xp.bool and b.dtype == xp.bool:
            return xp.matmul(xp.astype(a, xp.int64), xp.astype(b, xp.int64)) != 0
        return xp.matmul(a, b)

    def multiply(self, a, b):
        xp = self.xp
        if getattr(a, "dtype", None) == xp.bool and getattr(b, "dtype", None) == xp.bool:
            return xp.logical_and(a, b)
        return xp.multiply(a, b)

    def sum(self, x, axis=None, dtype=None, keepdims=False):
        if x.dtype == self.xp.bool and dtype == self.xp.bool:
            return self.xp.any(x, axis=axis, keepdims=keepdims)
        return self.xp.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)


_BY_NS: dict = {}
_LOCK = threading.Lock()


def for_namespace(xp) -> ArrayAPIBackend:
    """The backend of namespace ``xp`` (one per namespace)."""
    with _LOCK:
        found = _BY_NS.get(id(xp))
        if found is None:
            name = getattr(xp, "__name__", "array_api").split(".")[-1] \
                if "compat" in getattr(xp, "__name__", "") else getattr(xp, "__name__",
                                                                      "array_api")
            found = _BY_NS[id(xp)] = ArrayAPIBackend(xp, name)
            from . import register
            register(found)
    return found


def make() -> ArrayAPIBackend:
    """The backend of array-api-strict (imported here: the one library this module names).

    array-api-strict's dtypes hash like NumPy's and warn when compared with them; the
    engine's caches (dtype kinds, plans) hold both, so a lookup may compare the two, which
    is by design (they are unequal): that warning is silenced for einsum_ad's own modules.
    """
    import array_api_strict
    warnings.filterwarnings("ignore", message="You are comparing a array_api_strict dtype",
                            category=UserWarning, module=r"einsum_ad\.")
    return for_namespace(array_api_strict)
