"""Constants made like a value: the backend of a (possibly traced) value, its dtype, its device.

Rules build their constants here, never with an array library directly, so that a rule
written once runs on every backend and its constants live where its operands live.
"""

from __future__ import annotations

from .. import backend as _backend
from ..core import unwrap

__all__ = ["backend_of", "const", "zero", "zeros", "kind"]

kind = _backend.kind


def backend_of(x):
    """The backend of ``x``'s value, underneath every level of tracing."""
    return _backend.of(unwrap(x))


def const(value, like):
    """A 0-d constant holding ``value`` in ``like``'s dtype, on ``like``'s device."""
    v = unwrap(like)
    return _backend.of(v).const(value, v)


def zero(like):
    """The 0-d zero of ``like``'s dtype and device."""
    return const(0, like)


def zeros(shape, like, dtype=None):
    """Zeros of ``shape`` (``like``'s dtype unless given) on ``like``'s device."""
    v = unwrap(like)
    bk = _backend.of(v)
    return bk.zeros(tuple(shape), dtype=like.dtype if dtype is None else dtype,
                    device=bk.device(v))
