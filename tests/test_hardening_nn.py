"""Issue 9, nn: sizes are validated in every layer constructor, inputs of the wrong kind are
named in a TypeError, lists work as the arrays they spell, and the loss of 0-d logits is a
clear error."""

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad import nn

LAYERS = {  # name -> (constructor, the keyword arguments of a valid layer)
    "Dense": (nn.Dense, {"in_features": 4, "out_features": 3}),
    "Embedding": (nn.Embedding, {"num_embeddings": 5, "features": 4}),
    "LayerNorm": (nn.LayerNorm, {"features": 4}),
    "Bilinear": (nn.Bilinear, {"in1_features": 3, "in2_features": 2, "out_features": 4}),
    "MultiHeadAttention": (nn.MultiHeadAttention, {"features": 4, "num_heads": 2}),
    "TransformerBlock": (nn.TransformerBlock, {"features": 4, "num_heads": 2, "hidden": 8}),
    "MPS": (nn.MPS, {"num_sites": 3, "phys_dim": 2, "bond_dim": 2, "out_features": 2}),
}
SIZE_CASES = [(name, arg) for name, (_, kw) in LAYERS.items() for arg in kw]
OPTIONAL_SIZES = {("TransformerBlock", "hidden")}  # None is their default


@pytest.mark.parametrize("bad, error", [(2.5, TypeError), (True, TypeError),
                                        ("8", TypeError), (None, TypeError), (8.0, TypeError),
                                        (0, ValueError), (-3, ValueError)])
@pytest.mark.parametrize("name, arg", SIZE_CASES)
def test_every_layer_constructor_validates_its_sizes(name, arg, bad, error):
    """``MLP`` and ``TransformerBlock`` passed sizes through ``int()`` (2.5 became 2, True
    1, "8" 8); every size of every layer is now refused unless it is a positive int, with
    the layer and the argument named."""
    make, kwargs = LAYERS[name]
    if bad is None and (name, arg) in OPTIONAL_SIZES:
        assert make(**dict(kwargs, **{arg: bad})).hidden == 4 * kwargs["features"]
        return
    with pytest.raises(error, match=rf"^{name}: {arg} must be a positive integer, got"):
        make(**dict(kwargs, **{arg: bad}))


@pytest.mark.parametrize("sizes, error, match", [
    ([4, 2.5, 3], TypeError, r"sizes\[1\] must be a positive integer, got float 2.5"),
    ([4, True, 3], TypeError, r"sizes\[1\] must be a positive integer, got bool True"),
    ([4, "8", 3], TypeError, r"sizes\[1\] must be a positive integer, got str '8'"),
    ([4, 0], ValueError, r"sizes\[1\] must be a positive integer, got 0"),
    ("48", TypeError, "sizes must be a sequence"),
    (8, TypeError, "sizes must be a sequence"),
])
def test_mlp_rejects_sizes_it_used_to_round(sizes, error, match):
    """``MLP([4, 2.5, 3])`` built a width-2 hidden layer; ``True`` a width-1 one."""
    with pytest.raises(error, match=match):
        nn.MLP(sizes)


def test_mlp_still_takes_numpy_integer_sizes():
    mlp = nn.MLP(np.array([3, 5, 2]))
    assert mlp.sizes == [3, 5, 2] and all(type(s) is int for s in mlp.sizes)


@pytest.mark.parametrize("make, match", [
    (lambda: nn.TransformerBlock(8, num_heads=2, hidden=2.5), "TransformerBlock: hidden"),
    (lambda: nn.TransformerBlock(8, num_heads=True), "TransformerBlock: num_heads"),
    (lambda: nn.TransformerBlock(8, num_heads=3), "TransformerBlock: features \\(8\\) must be "
                                                  "divisible by num_heads \\(3\\)"),
    (lambda: nn.TransformerBlock(8, 2, causal="no"), "TransformerBlock: causal must be True"),
    (lambda: nn.MultiHeadAttention(8, 2, causal=1), "causal must be True or False"),
    (lambda: nn.Dense(2, 3, bias="yes"), "Dense: bias must be True or False"),
    (lambda: nn.LayerNorm(4, eps=float("inf")), "LayerNorm: eps must be finite, got inf"),
    (lambda: nn.LayerNorm(4, eps="1e-5"), "LayerNorm: eps must be a real number"),
    (lambda: nn.MPS(3, 2, 2, 2, noise=float("nan")), "MPS: noise must be non-negative, got nan"),
])
def test_other_hyperparameters_are_named(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


def _layer_inputs():
    """(name, apply with the given input, a valid nested list input, expected shape)."""
    dense, ln = nn.Dense(3, 2), nn.LayerNorm(3)
    mha = nn.MultiHeadAttention(2, num_heads=1)
    block = nn.TransformerBlock(2, num_heads=1, hidden=4)
    mps = nn.MPS(num_sites=2, phys_dim=2, bond_dim=2, out_features=3)
    bil = nn.Bilinear(2, 2, 1)
    mlp = nn.MLP([3, 4, 2])
    emb = nn.Embedding(4, 2)
    return [
        ("Dense", lambda x: dense(dense.init(0), x), [[1.0, 2.0, 3.0]], (1, 2)),
        ("MLP", lambda x: mlp(mlp.init(0), x), [[1, 2, 3], [4, 5, 6]], (2, 2)),
        ("LayerNorm", lambda x: ln(ln.init(0), x), [1.0, 2.0, 4.0], (3,)),
        ("MultiHeadAttention", lambda x: mha(mha.init(0), x), [[[1.0, 0.0], [0.0, 1.0]]],
         (1, 2, 2)),
        ("TransformerBlock", lambda x: block(block.init(0), x), [[[1.0, 0.0], [0.5, 1.0]]],
         (1, 2, 2)),
        ("MPS", lambda x: mps(mps.init(0), x), [[[1.0, 0.2], [1.0, 0.7]]], (1, 3)),
        ("Bilinear", lambda x: bil(bil.init(0), x, x), [[1.0, 2.0]], (1, 1)),
        ("Embedding", lambda x: emb(emb.init(0), x), [[0, 3], [1, 1]], (2, 2, 2)),
    ]


LAYER_INPUTS = _layer_inputs()


@pytest.mark.parametrize("name, apply, good, shape", LAYER_INPUTS,
                         ids=[c[0] for c in LAYER_INPUTS])
def test_layers_take_nested_lists_as_the_arrays_they_spell(name, apply, good, shape):
    """A nested list raised AttributeError ('list' object has no attribute 'ndim')."""
    out = apply(good)
    assert out.shape == shape
    np.testing.assert_allclose(out, apply(np.array(good)))


@pytest.mark.parametrize("bad", [None, "abc", [["a", "b"]], [[1.0, 2.0], [3.0]]],
                         ids=["None", "str", "list of str", "ragged"])
@pytest.mark.parametrize("name, apply, good, shape", LAYER_INPUTS,
                         ids=[c[0] for c in LAYER_INPUTS])
def test_layers_name_an_input_that_is_not_an_array(name, apply, good, shape, bad):
    """None or a string gave an AttributeError deep inside the layer."""
    layer = "Dense" if name == "MLP" else name  # an MLP's input goes to its first Dense
    with pytest.raises(TypeError, match=rf"^{layer}: (input|token ids)"):
        apply(bad)


def test_layers_name_params_that_are_not_theirs():
    """``Dense(3, 2)(None, x)`` raised "'NoneType' object is not subscriptable"."""
    dense = nn.Dense(3, 2)
    with pytest.raises(TypeError, match=r"Dense: params must be a dict with keys \['W', 'b'\]"):
        dense(None, np.ones(3))
    with pytest.raises(TypeError, match=r"got a dict with keys \['g'\]"):
        dense({"g": np.ones(3)}, np.ones(3))
    with pytest.raises(TypeError, match="MLP: params must be a list of 1 Dense"):
        nn.MLP([3, 2])(dense.init(0), np.ones(3))


@pytest.mark.parametrize("loss, args", [
    ("mse", ([1.0, 2.0], [0.0, 0.0])),
    ("softmax_cross_entropy", ([[1.0, 2.0, 0.5]], [2])),
    ("binary_cross_entropy_with_logits", ([0.0, 3.0], [1, 0])),
    ("accuracy", ([[0.1, 0.9], [0.8, 0.2]], [1, 1])),
])
def test_losses_take_lists(loss, args):
    fn = getattr(nn, loss)
    np.testing.assert_allclose(fn(*args), fn(*(np.array(a) for a in args)))


@pytest.mark.parametrize("loss, args, arg", [
    ("mse", (None, [0.0]), "predictions"),
    ("mse", ([0.0], "0"), "targets"),
    ("softmax_cross_entropy", ("logits", [0]), "logits"),
    ("softmax_cross_entropy", ([[0.0, 1.0]], None), "labels"),
    ("binary_cross_entropy_with_logits", (None, [1.0]), "logits"),
    ("binary_cross_entropy_with_logits", ([1.0], [["x"]]), "targets"),
    ("accuracy", ([[0.0, 1.0]], None), "labels"),
])
def test_losses_name_an_argument_that_is_not_an_array(loss, args, arg):
    with pytest.raises(TypeError, match=rf"^{loss}: {arg} must"):
        getattr(nn, loss)(*args)


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "accuracy"])
def test_softmax_cross_entropy_of_0d_logits_is_a_clear_error(loss):
    """0-d logits raised IndexError (tuple index out of range) from ``logits.shape[-1]``."""
    with pytest.raises(ValueError, match=rf"^{loss}: logits must have a last axis of classes"):
        getattr(nn, loss)(np.float64(1.0), np.array(0))


def test_losses_and_layers_differentiate_with_list_data():
    """Lists as data next to traced parameters: the gradient is the array one's."""
    mlp = nn.MLP([2, 3, 2], activation="tanh")
    p = mlp.init(1)
    x, y = [[0.5, -1.0], [2.0, 0.1]], [1, 0]
    loss = lambda p, x: nn.softmax_cross_entropy(mlp(p, x), y)
    g_list, g_array = ea.grad(loss)(p, x), ea.grad(loss)(p, np.array(x))
    for a, b in zip(ea.tree_leaves(g_list), ea.tree_leaves(g_array)):
        np.testing.assert_allclose(a, b)
