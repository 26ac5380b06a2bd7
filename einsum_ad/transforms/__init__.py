"""Function transforms, all built from one core: vjp and jvp.

``reverse.py``: ``vjp``, ``value_and_grad`` (a vjp with a unit cotangent), ``grad``;
``forward.py``: ``jvp``; ``jacobians.py``: ``jacrev``, ``jacfwd``, ``hessian``, ``hvp``
(from vjp and jvp alone); ``graph.py``: ``make_graph`` (what a function records).
"""

from .forward import jvp
from .graph import Graph, GraphNode, make_graph
from .jacobians import hessian, hvp, jacfwd, jacobian, jacrev
from .reverse import grad, value_and_grad, vjp

__all__ = ["vjp", "grad", "value_and_grad", "jvp", "jacrev", "jacfwd", "jacobian",
           "hessian", "hvp", "make_graph", "Graph", "GraphNode"]
