"""The rule table, permutation section: flip, roll, and gathering by a permutation.

Part of the one rule table (``rules/__init__.py`` lists every primitive). Each of these
moves elements without combining them, so each is linear and its transpose is the inverse
permutation: flip is its own inverse, a roll is undone by the opposite roll, and a gather
along an axis by a permutation ``perm`` (sort's values) is undone by the gather by the
inverse permutation. No scatter, no zeros array, no mask: an ``inf`` stays an ``inf``.
"""

from __future__ import annotations

from .. import backend as _backend
from ..core import Primitive

__all__ = ["flip_p", "roll_p", "permute_along_p"]

_of = _backend.of

# ``axis``: a tuple of distinct non-negative axes.
flip_p = Primitive("flip", lambda x, *, axis: _of(x).flip(x, axis=axis))
# batch: shift axes
flip_p.def_vjp(lambda ans, x, *, axis: lambda g: (flip_p(g, axis=axis),))
flip_p.def_jvp(lambda p, t, params: (flip_p(p[0], **params), flip_p(t[0], **params)))

# ``shift`` and ``axis``: tuples of one length (ints; distinct non-negative axes).
roll_p = Primitive("roll", lambda x, *, shift, axis: _of(x).roll(x, shift=shift, axis=axis))
# batch: shift axes
roll_p.def_vjp(lambda ans, x, *, shift, axis: lambda g: (
    roll_p(g, shift=tuple(-s for s in shift), axis=axis),))
roll_p.def_jvp(lambda p, t, params: (roll_p(p[0], **params), roll_p(t[0], **params)))


# ``perm``: an integer array of x's shape (of x's backend) holding, in every lane along
# ``axis``, a permutation of range(n): out[..., k, ...] = x[..., perm[..., k, ...], ...].
permute_along_p = Primitive(
    "permute_along", lambda x, *, perm, axis: _of(x).take_along(x, perm, axis))
# batch: shift axis; perm broadcast along the batch axis (or batched with x)


def _inverse(perm, axis):
    """The inverse permutation in every lane (the backend's scatter or sort)."""
    return _of(perm).inverse_permutation(perm, axis)


permute_along_p.def_vjp(lambda ans, x, *, perm, axis: lambda g: (
    permute_along_p(g, perm=_inverse(perm, axis), axis=axis),))
permute_along_p.def_jvp(
    lambda p, t, params: (permute_along_p(p[0], **params), permute_along_p(t[0], **params)))
