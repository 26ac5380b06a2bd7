"""``make_graph``: look at the primitive applications a function records when traced."""

from __future__ import annotations

from .. import backend as _backend
from ..core import RevTrace, Tracer
from ..tree import tree_flatten, tree_unflatten

__all__ = ["make_graph", "Graph", "GraphNode"]


class GraphNode:
    """One primitive application of a traced computation.

    Attributes:
        index: its position in evaluation order.
        primitive: the primitive's name (``"einsum"`` for einsum nodes).
        spec: the canonical subscripts (``"ab,bc->ac"``) for einsum nodes, else None.
        shape, dtype: of its result.
        inputs: one entry per operand position: ``("node", i)`` for the result of node i,
            ``("input", k)`` for the k-th flattened input of the function, ``("const",
            None)`` for a value that is not traced.
        params: the primitive's parameters (the canonical ``Spec`` under ``"spec"``).
    """

    __slots__ = ("index", "primitive", "spec", "shape", "dtype", "inputs", "params")

    def __init__(self, index, primitive, spec, shape, dtype, inputs, params):
        self.index = index
        self.primitive = primitive
        self.spec = spec
        self.shape = shape
        self.dtype = dtype
        self.inputs = inputs
        self.params = params

    def __repr__(self):
        extra = f", spec={self.spec!r}" if self.spec is not None else ""
        return f"GraphNode({self.index}: {self.primitive}{extra}, shape={self.shape})"


def _ref(kind, i):
    return {"node": f"%{i}", "input": f"x{i}", "const": "const"}[kind]


class Graph:
    """The primitive applications recorded while tracing a function, in evaluation order.

    ``nodes`` lists :class:`GraphNode` objects (inputs and constants are not nodes);
    ``inputs`` the (shape, dtype) of each flattened input; ``outputs`` one reference per
    flattened output leaf, in the format of :attr:`GraphNode.inputs`.
    """

    def __init__(self, nodes, inputs, outputs):
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs

    def __len__(self):
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes)

    def __repr__(self):
        return f"Graph({len(self.nodes)} nodes)"

    def __str__(self):
        lines = [f"x{k}: {tuple(s)} {_backend.dtype_name(d)}"
                 for k, (s, d) in enumerate(self.inputs)]
        for n in self.nodes:
            what = n.primitive + (f" {n.spec!r}" if n.spec is not None else "")
            args = ", ".join(_ref(*r) for r in n.inputs)
            lines.append(f"%{n.index} = {what}({args}) -> {tuple(n.shape)} "
                         f"{_backend.dtype_name(n.dtype)}")
        lines.append("return " + ", ".join(_ref(*r) for r in self.outputs))
        return "\n".join(lines)


class _GraphTrace(RevTrace):
    """A recording reverse trace that also remembers each node's number of operands."""

    def __init__(self):
        super().__init__(record=True)
        self.arity = {}

    def process(self, prim, args, params):
        before = len(self.nodes)
        out = super().process(prim, args, params)
        if len(self.nodes) > before:
            self.arity[id(self.nodes[-1])] = len(args)
        return out


def make_graph(f, *args):
    """Trace ``f(*args)`` and return the :class:`Graph` of its primitive applications.

    Each call of a differentiable primitive on a traced value is one node; operations on
    constants alone, and non-differentiable primitives (comparisons, ``sign``), compute
    plain values and record nothing. Arguments may be arrays or pytrees of arrays.

    For a jitted function (``ea.jit(f)``), the graph is its optimised program for these
    arguments: fused einsum nodes, no duplicates and no dead code (every primitive of the
    program is a node, non-differentiable ones included).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> f = lambda A, x: ea.sum(A @ x) / 2.0
        >>> g = ea.make_graph(f, np.ones((2, 3)), np.ones(3))
        >>> [(n.primitive, n.spec) for n in g.nodes]
        [('einsum', 'ab,b->a'), ('einsum', 'a->'), ('divide', None)]
        >>> print(g)
        x0: (2, 3) float64
        x1: (3,) float64
        %0 = einsum 'ab,b->a'(x0, x1) -> (2,) float64
        %1 = einsum 'a->'(%0) -> () float64
        %2 = divide(%1, const) -> () float64
        return %2
    """
    program = getattr(f, "program", None)
    if program is not None and getattr(f, "__einsum_ad_jit__", False):
        return program(*args).graph()
    trace = _GraphTrace()
    inputs, refs = [], {}
    traced_args = []
    for a in args:
        leaves, treedef = tree_flatten(a)
        wrapped = []
        for x in leaves:
            if not isinstance(x, Tracer) and _backend.of(x) is None:
                x = _backend.default().asarray(x)
            t = trace.new_input(x)
            refs[id(t._node)] = ("input", len(inputs))
            inputs.append((tuple(x.shape), x.dtype))
            wrapped.append(t)
        traced_args.append(tree_unflatten(treedef, wrapped))
    try:
        result = f(*traced_args)
    finally:
        trace.done = True  # its tracers must not be used once f has returned
    nodes = []
    for i, node in enumerate(trace.nodes):
        refs[id(node)] = ("node", i)
        spec = node.spec if node.primitive.name == "einsum" else None
        slots = [("const", None)] * trace.arity[id(node)]
        for pos, parent in zip(node.argnums, node.parents):
            slots[pos] = refs[id(parent)]
        nodes.append(GraphNode(i, node.primitive.name, None if spec is None else str(spec),
                               tuple(node.shape), node.dtype, tuple(slots), node.params))
    outputs = []
    for leaf in tree_flatten(result)[0]:
        if isinstance(leaf, Tracer) and leaf._trace is trace:
            outputs.append(refs[id(leaf._node)])
        else:
            outputs.append(("const", None))
    return Graph(nodes, inputs, outputs)
