"""einsum_ad: reverse-mode automatic differentiation built around one primitive, einsum.

The package is layered; each layer imports only the ones before it:

``spec`` (subscript strings) -> ``backend`` (the only code that knows an array library)
-> ``execute`` (plans and kernels, forward only) -> ``core`` (the array-free tracer) ->
``rules`` (the one rule table) -> ``numpy`` (the user namespace: lowerings onto einsum
nodes and primitives) and ``transforms`` (vjp, jvp, grad, Jacobians) -> ``explain``,
``testing``, ``nn``, ``optim``, ``data``, ``cli``.
"""

from . import nn, optim
from . import numpy as _numpy_namespace
from .execute import clear_plan_cache, plan_cache_info, set_plan_cache_size
from .explain import explain
from .numpy import *  # noqa: F403  (the numpy-like namespace: see numpy.__all__)
from .numpy import fft, linalg
from .spec import Spec
from .testing import check_grads
from .transforms import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    make_graph,
    value_and_grad,
    vjp,
)
from .tree import tree_flatten, tree_leaves, tree_map, tree_unflatten

__version__ = "0.1.0"

__all__ = sorted(set(_numpy_namespace.__all__) | {
    "Spec", "check_grads", "clear_plan_cache", "grad", "jvp", "plan_cache_info",
    "set_plan_cache_size", "tree_flatten", "tree_leaves", "tree_map", "tree_unflatten",
    "value_and_grad", "vjp", "explain",
    "linalg", "fft", "make_graph", "nn", "optim", "jacobian", "jacrev", "jacfwd", "hessian", "hvp",
})
