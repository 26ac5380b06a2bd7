"""Manipulation and indexing functions of the array API namespace: one table (values against
numpy, derivatives against finite differences in both modes to second order, on every
backend), then signatures, dtypes and errors."""

import numpy as np
import pytest
from _strict_backends import BACKENDS, _np, _on, _xp, array_api_strict  # noqa: F401

import einsum_ad as ea


def _r(*shape, seed=0):
    return np.random.default_rng(seed + 5 * sum(shape)).standard_normal(shape)


# name, make(xp) -> function of backend arrays, numpy reference, argument builder
TABLE = [
    ("broadcast_arrays", lambda xp: ea.broadcast_arrays, np.broadcast_arrays,
     lambda: (_r(3, 1), _r(4), _r(1, 1))),
    ("broadcast_to", lambda xp: lambda x: ea.broadcast_to(x, (2, 3, 4)),
     lambda x: np.broadcast_to(x, (2, 3, 4)), lambda: (_r(3, 1),)),
    ("concat", lambda xp: lambda x, y: ea.concat([x, y, x], axis=1),
     lambda x, y: np.concat([x, y, x], axis=1), lambda: (_r(2, 1), _r(2, 3))),
    ("concat_none", lambda xp: lambda x, y: ea.concat((x, y), axis=None),
     lambda x, y: np.concat((x, y), axis=None), lambda: (_r(2, 2), _r(3))),
    ("expand_dims_default", lambda xp: ea.expand_dims, lambda x: np.expand_dims(x, 0),
     lambda: (_r(3),)),
    ("expand_dims_neg", lambda xp: lambda x: ea.expand_dims(x, axis=-1),
     lambda x: np.expand_dims(x, -1), lambda: (_r(2, 3),)),
    ("flip_all", lambda xp: ea.flip, np.flip, lambda: (_r(2, 3),)),
    ("flip_axes", lambda xp: lambda x: ea.flip(x, axis=(0, -1)),
     lambda x: np.flip(x, axis=(0, -1)), lambda: (_r(2, 3, 2),)),
    ("moveaxis", lambda xp: lambda x: ea.moveaxis(x, (0, 1), (-1, 0)),
     lambda x: np.moveaxis(x, (0, 1), (-1, 0)), lambda: (_r(2, 3, 4),)),
    ("permute_dims", lambda xp: lambda x: ea.permute_dims(x, (2, 0, 1)),
     lambda x: np.permute_dims(x, (2, 0, 1)), lambda: (_r(2, 3, 4),)),
    ("repeat_int", lambda xp: lambda x: ea.repeat(x, 3, axis=1),
     lambda x: np.repeat(x, 3, axis=1), lambda: (_r(2, 3),)),
    ("repeat_counts", lambda xp: lambda x: ea.repeat(x, xp.asarray([2, 0, 1]), axis=0),
     lambda x: np.repeat(x, [2, 0, 1], axis=0), lambda: (_r(3, 2),)),
    ("repeat_flat", lambda xp: lambda x: ea.repeat(x, 2), lambda x: np.repeat(x, 2),
     lambda: (_r(2, 2),)),
    ("reshape", lambda xp: lambda x: ea.reshape(x, (3, -1)), lambda x: np.reshape(x, (3, -1)),
     lambda: (_r(2, 3),)),
    ("roll_flat", lambda xp: lambda x: ea.roll(x, 4), lambda x: np.roll(x, 4),
     lambda: (_r(2, 3),)),
    ("roll_axes", lambda xp: lambda x: ea.roll(x, (1, -2), axis=(0, 1)),
     lambda x: np.roll(x, (1, -2), axis=(0, 1)), lambda: (_r(3, 4),)),
    ("roll_repeated_axis", lambda xp: lambda x: ea.roll(x, (1, 5), axis=(1, -1)),
     lambda x: np.roll(x, (1, 5), axis=(1, -1)), lambda: (_r(2, 4),)),
    ("squeeze", lambda xp: lambda x: ea.squeeze(x, axis=(0, 2)),
     lambda x: np.squeeze(x, axis=(0, 2)), lambda: (_r(1, 3, 1),)),
    ("stack", lambda xp: lambda x, y: ea.stack([x, y], axis=-1),
     lambda x, y: np.stack([x, y], axis=-1), lambda: (_r(2, 3), _r(2, 3, seed=1))),
    ("tile", lambda xp: lambda x: ea.tile(x, (2, 3)), lambda x: np.tile(x, (2, 3)),
     lambda: (_r(2, 2),)),
    ("tile_longer_reps", lambda xp: lambda x: ea.tile(x, (2, 1, 2)),
     lambda x: np.tile(x, (2, 1, 2)), lambda: (_r(3),)),
    ("tile_shorter_reps", lambda xp: lambda x: ea.tile(x, (2,)), lambda x: np.tile(x, (2,)),
     lambda: (_r(2, 3),)),
    ("unstack", lambda xp: ea.unstack, np.unstack, lambda: (_r(3, 2),)),
    ("unstack_axis", lambda xp: lambda x: ea.unstack(x, axis=-1),
     lambda x: np.unstack(x, axis=-1), lambda: (_r(2, 3),)),
    ("take", lambda xp: lambda x: ea.take(x, xp.asarray([2, 0, 2, -1]), axis=1),
     lambda x: np.take(x, [2, 0, 2, -1], axis=1), lambda: (_r(2, 4),)),
    ("take_flat_nd_indices", lambda xp: lambda x: ea.take(x, xp.asarray([[5, 0], [0, 1]])),
     lambda x: np.take(x, [[5, 0], [0, 1]]), lambda: (_r(2, 3),)),
    ("take_wrap", lambda xp: lambda x: ea.take(x, xp.asarray([7, -5]), axis=0, mode="wrap"),
     lambda x: np.take(x, [7, -5], axis=0, mode="wrap"), lambda: (_r(3, 2),)),
    ("take_clip", lambda xp: lambda x: ea.take(x, xp.asarray([7, -5]), axis=0, mode="clip"),
     lambda x: np.take(x, [7, -5], axis=0, mode="clip"), lambda: (_r(3, 2),)),
    ("take_along_axis", lambda xp: lambda x: ea.take_along_axis(
        x, xp.asarray([[0, 0], [2, 1]]), axis=-1),
     lambda x: np.take_along_axis(x, np.array([[0, 0], [2, 1]]), axis=-1),
     lambda: (_r(2, 3),)),
    # edge inputs: size 0, 0-d
    ("flip_empty", lambda xp: ea.flip, np.flip, lambda: (_r(0, 3),)),
    ("roll_empty", lambda xp: lambda x: ea.roll(x, 1, axis=0), lambda x: np.roll(x, 1, axis=0),
     lambda: (_r(0, 3),)),
    ("tile_zero", lambda xp: lambda x: ea.tile(x, (0, 2)), lambda x: np.tile(x, (0, 2)),
     lambda: (_r(2),)),
    ("repeat_0d", lambda xp: lambda x: ea.repeat(x, 2), lambda x: np.repeat(x, 2),
     lambda: (np.array(1.5),)),
    ("roll_0d", lambda xp: lambda x: ea.roll(x, 1), lambda x: np.roll(x, 1),
     lambda: (np.array(1.5),)),
]


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,make,ref,build", TABLE, ids=[row[0] for row in TABLE])
def test_values_match_numpy(name, make, ref, build, backend):
    args = build()
    got = make(_xp(backend))(*[_on(backend, a) for a in args])
    want = ref(*args)
    assert isinstance(got, (tuple, list)) == isinstance(want, (tuple, list))
    got, want = _as_list(got), _as_list(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = _np(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,make,ref,build", TABLE, ids=[row[0] for row in TABLE])
def test_gradients_both_modes_second_order(name, make, ref, build, backend):
    args = tuple(_on(backend, a) for a in build())
    ea.check_grads(make(_xp(backend)), args, order=2, modes=("fwd", "rev"))


# ----------------------------------------------------------------- derivative values


def test_copies_sum_their_derivatives():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.tile(x, (2, 2))))(x), [4, 4, 4])
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.repeat(x, [3, 0, 1])))(x),
                                  [3, 0, 1])
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.take(x, [0, 0, 2])))(x),
                                  [2, 0, 1])
    g = ea.grad(lambda x: ea.sum(ea.broadcast_arrays(x, np.ones((4, 1)))[0]))(x)
    np.testing.assert_array_equal(g, [4, 4, 4])
    w = np.array([1.0, 10.0, 100.0])
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.roll(x, 1) * w))(x),
                                  [10, 100, 1])
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.flip(x) * w))(x), [100, 10, 1])


def test_flip_and_roll_keep_inf_cotangents():
    (g,) = ea.vjp(lambda x: ea.roll(ea.flip(x), 1), np.zeros(3))[1](np.array([np.inf, 1, 2]))
    np.testing.assert_array_equal(g, [np.inf, 2, 1])


def test_reshape_copy_argument():
    x = np.arange(6.0)
    y = ea.reshape(x, (2, 3), copy=False)
    assert np.shares_memory(x, y)
    assert not np.shares_memory(x, ea.reshape(x, (2, 3), copy=True))
    with pytest.raises(ValueError, match="without copying"):
        ea.reshape(np.ones((3, 2)).T, (6,), copy=False)
    # traced values are immutable: copy changes nothing
    ea.check_grads(lambda x: ea.reshape(x, (3, 2), copy=False), (x,), order=1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_stays_float32(backend):
    x = _on(backend, _r(2, 3).astype(np.float32))
    xp = _xp(backend)
    fns = [ea.flip, lambda x: ea.roll(x, 1), lambda x: ea.tile(x, (2, 1)),
           lambda x: ea.repeat(x, 2, axis=0), lambda x: ea.take(x, xp.asarray([1, 1]), axis=1),
           lambda x: ea.unstack(x)[1], lambda x: ea.broadcast_arrays(x, x[:1, ...])[1]]
    for f in fns:
        assert _np(f(x)).dtype == np.float32
        assert _np(ea.grad(lambda x, f=f: ea.sum(f(x)))(x)).dtype == np.float32
        assert _np(ea.jvp(f, (x,), (x,))[1]).dtype == np.float32


def test_concat_promotes_and_keeps_operand_dtypes_in_gradients():
    a, b = np.ones(2, np.float32), np.ones(3)
    assert ea.concat([a, b]).dtype == np.float64
    ga, gb = ea.grad(lambda a, b: ea.sum(ea.concat([a, b])), argnums=(0, 1))(a, b)
    assert ga.dtype == np.float32 and gb.dtype == np.float64


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ea.flip(np.ones(3), axis=(0, 0)), ValueError, "repeated"),
    (lambda: ea.roll(np.ones((2, 2)), (1, 2, 3), axis=(0, 1)), ValueError, "lengths"),
    (lambda: ea.roll(np.ones(2), 1.5), TypeError, "shift"),
    (lambda: ea.repeat(np.ones(3), [1, 2]), ValueError, "2 repeats"),
    (lambda: ea.repeat(np.ones(3), -1), ValueError, "non-negative"),
    (lambda: ea.repeat(np.ones(3), [1, -1, 0]), ValueError, "non-negative"),
    (lambda: ea.repeat(np.ones(3), [0.5, 1, 1]), TypeError, "ints"),
    (lambda: ea.tile(np.ones(3), (-1,)), ValueError, "non-negative"),
    (lambda: ea.unstack(np.array(1.0)), ValueError, "0-d"),
    (lambda: ea.diff(np.array(1.0)), ValueError, "one-dimensional"),
    (lambda: ea.diff(np.ones(3), n=-1), ValueError, "non-negative"),
    (lambda: ea.take(np.ones(3), [3]), IndexError, "out of bounds"),
    (lambda: ea.take(np.ones(3), [1.0]), IndexError, "integers"),
    (lambda: ea.take(np.ones(3), [0], mode="loop"), ValueError, "mode"),
    (lambda: ea.take(np.ones((0, 2)), [0]), IndexError, "empty"),
    (lambda: ea.broadcast_arrays(np.ones(2), np.ones(3)), ValueError, "broadcast"),
    (lambda: ea.expand_dims(np.ones(2), axis=3), np.exceptions.AxisError, "axis 3"),
    (lambda: ea.reshape(np.ones(2), (2,), copy="yes"), TypeError, "copy"),
])
def test_bad_input_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
