"""The generic backend for any library that implements the Python array API standard.

A library whose arrays have ``__array_namespace__`` (array-api-strict, and the libraries
that array-api-compat wraps when it is installed) is driven through its namespace alone:
every function the engine calls is one of the standard's (see ``_base.Backend``). This is
the backend that proves no NumPy call leaks into the engine: array-api-strict refuses
anything outside the standard.
"""

from __future__ import annotations

import threading

from ._base import Backend

__all__ = ["ArrayAPIBackend", "for_namespace", "make"]


class ArrayAPIBackend(Backend):
    """An array API namespace as a backend; its name is the namespace's module name."""

    def owns(self, x) -> bool:
        try:
            return x.__array_namespace__() is self.xp
        except Exception:  # noqa: BLE001 - not an array of this namespace
            return False


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
    """The backend of array-api-strict (imported here: the one library this module names)."""
    import array_api_strict
    return for_namespace(array_api_strict)
