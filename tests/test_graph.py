"""make_graph: the recorded primitive applications, their specs, references and listing."""

from __future__ import annotations

import numpy as np
import pytest

import einsum_ad as ea


def test_nodes_in_evaluation_order_with_specs_and_shapes():
    W1, W2, x = np.ones((4, 3)), np.ones((2, 4)), np.ones(3)
    g = ea.make_graph(lambda W1, W2, x: ea.sum(ea.tanh(W1 @ x) @ W2.T), W1, W2, x)
    assert [n.primitive for n in g.nodes] == ["einsum", "tanh", "einsum", "einsum", "einsum"]
    assert [n.spec for n in g.nodes] == ["ab,b->a", None, "ab->ba", "a,ab->b", "a->"]
    assert [n.shape for n in g.nodes] == [(4,), (4,), (4, 2), (2,), ()]
    assert [n.index for n in g.nodes] == list(range(5))
    assert g.nodes[0].inputs == (("input", 0), ("input", 2))
    assert g.nodes[3].inputs == (("node", 1), ("node", 2))
    assert g.outputs == [("node", 4)]
    assert g.inputs == [((4, 3), np.dtype(float)), ((2, 4), np.dtype(float)),
                        ((3,), np.dtype(float))]
    assert len(g) == 5 and list(g) == g.nodes


def test_listing_is_readable():
    g = ea.make_graph(lambda a, b: ea.exp(a * 2.0) + b, np.ones(2), np.ones((3, 2)))
    assert str(g) == "\n".join([
        "x0: (2,) float64",
        "x1: (3, 2) float64",
        "%0 = einsum 'a,->a'(x0, const) -> (2,) float64",
        "%1 = exp(%0) -> (2,) float64",
        "%2 = add(%1, x1) -> (3, 2) float64",
        "return %2",
    ])
    assert repr(g) == "Graph(3 nodes)"
    assert repr(g.nodes[0]) == "GraphNode(0: einsum, spec='a,->a', shape=(2,))"


def test_inputs_and_constants_are_not_nodes():
    c = np.arange(3.0)
    g = ea.make_graph(lambda x: x, np.ones(3))
    assert g.nodes == [] and g.outputs == [("input", 0)]
    g = ea.make_graph(lambda x: ea.einsum("i,i->", c, c), np.ones(3))  # constants only
    assert g.nodes == [] and g.outputs == [("const", None)]
    assert str(g).splitlines()[-1] == "return const"


def test_non_differentiable_primitives_record_nothing():
    g = ea.make_graph(lambda x: ea.sign(x) * x, np.ones(3))
    assert [n.primitive for n in g.nodes] == ["einsum"]
    assert g.nodes[0].inputs == (("const", None), ("input", 0))


def test_pytree_arguments_and_outputs():
    params = {"w": np.ones((2, 3)), "b": np.zeros(2)}
    g = ea.make_graph(lambda p, x: (p["w"] @ x + p["b"], x), params, np.ones(3))
    # dict leaves in sorted-key order: b, w; then x
    assert [s for s, _ in g.inputs] == [(2,), (2, 3), (3,)]
    assert g.nodes[0].inputs == (("input", 1), ("input", 2))
    assert g.outputs == [("node", 1), ("input", 2)]


def test_spec_only_for_einsum_nodes():
    # the broadcast of ``sum``'s cotangent is a spread node whose params hold a Spec too
    g = ea.make_graph(ea.grad(lambda x: ea.sum(x) * ea.sum(x)), np.ones((2, 2)))
    assert "spread" in [n.primitive for n in g.nodes]
    for n in g.nodes:
        assert (n.spec is None) == (n.primitive != "einsum"), n
    assert all(isinstance(n.params, dict) for n in g.nodes)


def test_graph_of_a_gradient_is_made_of_einsum_nodes():
    A = np.arange(9.0).reshape(3, 3)
    g = ea.make_graph(ea.grad(lambda x: ea.einsum("i,ij,j->", x, A, x)), np.ones(3))
    assert g.nodes and {n.primitive for n in g.nodes} <= {"einsum", "add"}


def test_second_order_trace_inside():
    # a transform inside the traced function records its outer-level operations only
    g = ea.make_graph(lambda x: ea.grad(lambda y: ea.vdot(y, y))(x), np.ones(2))
    # the forward y.y, then the two operands' cotangents (2y = y + y), accumulated
    assert [n.primitive for n in g.nodes] == ["einsum", "einsum", "einsum", "add"]
    assert g.nodes[3].inputs == (("node", 1), ("node", 2))
    assert g.outputs == [("node", 3)]


def test_integer_inputs_are_traced_as_they_are():
    g = ea.make_graph(lambda a: ea.sum(a, axis=0), np.arange(6).reshape(2, 3))
    assert g.inputs == [((2, 3), np.dtype(np.int64))] and g.nodes[0].dtype == np.int64


def test_errors_in_f_propagate():
    with pytest.raises(ValueError, match="not aligned"):
        ea.make_graph(lambda a: ea.dot(a, a), np.ones((2, 3)))
