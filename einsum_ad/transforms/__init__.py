"""Function transforms, all built from one core: vjp and jvp.

``reverse.py``: ``vjp``, ``value_and_grad`` (a vjp with a unit cotangent), ``grad``;
``forward.py``: ``jvp``; ``jacobians.py``: ``jacrev``, ``jacfwd``, ``hessian``, ``hvp``
(from vjp and jvp alone); ``graph.py``: ``make_graph`` (what a function records);
``vmap.py``: ``vmap`` (batching, by each primitive's batching rule); ``jit.py``: ``jit``
(a function traced per signature into a program, ``program.py``, optimised and compiled).
"""

from .forward import jvp
from .graph import Graph, GraphNode, make_graph
from .jacobians import hessian, hvp, jacfwd, jacobian, jacrev
from .jit import Jitted, jit
from .reverse import grad, value_and_grad, vjp
from .vmap import vmap

__all__ = ["vjp", "grad", "value_and_grad", "jvp", "jacrev", "jacfwd", "jacobian",
           "hessian", "hvp", "make_graph", "Graph", "GraphNode", "vmap", "jit", "Jitted"]
