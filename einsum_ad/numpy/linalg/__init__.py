"""``ea.linalg``: the array API standard's linear algebra extension (2024.12), differentiable.

Every function of the extension (``cholesky``, ``cross``, ``det``, ``diagonal``, ``eigh``,
``eigvalsh``, ``inv``, ``matmul``, ``matrix_norm``, ``matrix_power``, ``matrix_rank``,
``matrix_transpose``, ``outer``, ``pinv``, ``qr``, ``slogdet``, ``solve``, ``svd``,
``svdvals``, ``tensordot``, ``trace``, ``vecdot``, ``vector_norm``) with the standard's
signatures, plus numpy's ``norm``, ``lstsq``, ``multi_dot``, ``cond`` and numpy's extra
arguments (``UPLO``, ``full_matrices``/``compute_uv``/``hermitian``, ``mode``, ``rcond``,
``tol``). Functions of matrices work on stacks (..., M, N), real and complex, in float32
and float64, on every backend whose namespace has the linalg extension.

Layout: ``products.py`` (einsum lowerings), ``decompositions.py`` (the factorisations),
``solvers.py`` (inverses, solves, determinants, ranks), ``norms.py``; each factorisation
or solve is a primitive of ``rules/linalg.py``, which holds the derivative rules and
their conventions at degenerate points.
"""

from __future__ import annotations

from ._common import EighResult, LinAlgError, QRResult, SlogdetResult, SVDResult
from .decompositions import cholesky, eigh, eigvalsh, qr, svd, svdvals
from .norms import cond, matrix_norm, norm, vector_norm
from .products import (
    cross,
    diagonal,
    matmul,
    matrix_transpose,
    multi_dot,
    outer,
    tensordot,
    trace,
    vecdot,
)
from .solvers import det, inv, lstsq, matrix_power, matrix_rank, pinv, slogdet, solve

# the array API standard's linear algebra extension (2024.12), in its order
STANDARD = ("cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
            "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv",
            "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
            "vector_norm")
# numpy's functions beside them
NUMPY_EXTRAS = ("norm", "lstsq", "multi_dot", "cond")

__all__ = ["cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv",
           "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
           "vector_norm", "norm", "lstsq", "multi_dot", "cond", "LinAlgError", "EighResult",
           "QRResult", "SlogdetResult", "SVDResult"]
