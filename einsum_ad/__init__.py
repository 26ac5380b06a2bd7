"""einsum_ad: reverse-mode automatic differentiation built around one primitive, einsum."""

from . import numpy as _np_namespace  # noqa: F401  (installs the operators on traced values)
from .contract import clear_plan_cache, plan_cache_info, set_plan_cache_size
from .numpy import (
    add,
    asarray,
    divide,
    einsum,
    matmul,
    multiply,
    negative,
    power,
    subtract,
    transpose,
)
from .subscripts import Spec
from .testing import check_grads
from .transforms import grad, jvp, value_and_grad, vjp
from .tree import tree_flatten, tree_leaves, tree_map, tree_unflatten

__version__ = "0.1.0"

__all__ = [
    "Spec", "add", "asarray", "check_grads", "clear_plan_cache", "divide", "einsum", "grad",
    "jvp", "matmul", "multiply", "negative", "plan_cache_info", "power", "set_plan_cache_size",
    "subtract", "transpose", "tree_flatten", "tree_leaves", "tree_map", "tree_unflatten",
    "value_and_grad", "vjp",
]
