"""Subscript strings only: parse every einsum form into one canonical Spec; derive adjoints.

No arrays are touched in this package. ``parse`` splits einsum's arguments, ``normalize``
gives the canonical :class:`Spec` for the operands' shapes (``canonical.py``), and
``adjoint(spec, k)`` is the one generic VJP rule (``adjoint.py``).
"""

from .adjoint import Adjoint, adjoint, transpose_of_spread
from .canonical import Spec, label_sizes, normalize, relabel, symbol
from .parse import parse

__all__ = ["Spec", "Adjoint", "normalize", "parse", "adjoint", "label_sizes", "symbol",
           "relabel", "transpose_of_spread"]
