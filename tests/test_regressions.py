"""Regression tests: one per bug found by adversarial QA of the public API.

Each test's name and docstring say what was wrong; the fix is in the mechanism named there.
"""

import numpy as np
import pytest

import einsum_ad as ea


def test_transforms_pass_keyword_arguments_through():
    """grad, value_and_grad, jacrev, jacfwd and hessian rejected keyword arguments
    (``grad(f)(x, scale=2.0)`` raised TypeError): the argnums wrapper now passes them to
    ``f`` undifferentiated, as JAX does."""
    def f(x, scale=1.0):
        return ea.sum(x * x) * scale

    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(ea.grad(f)(x, scale=3.0), 6.0 * x)
    v, g = ea.value_and_grad(f)(x, scale=3.0)
    assert v == 15.0
    np.testing.assert_allclose(g, 6.0 * x)
    np.testing.assert_allclose(ea.jacrev(f)(x, scale=3.0), 6.0 * x)
    np.testing.assert_allclose(ea.jacfwd(f)(x, scale=3.0), 6.0 * x)
    np.testing.assert_allclose(ea.hessian(f)(x, scale=3.0), 6.0 * np.eye(2))


def test_argnums_accepts_numpy_integers():
    """``argnums=np.int64(1)`` raised "'numpy.int64' object is not iterable" (only a Python
    int counted as a single argnum); any integer (``operator.index``) is one now, and a
    non-integer raises a TypeError naming argnums."""
    f = lambda a, b: ea.sum(a * b)
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_allclose(ea.grad(f, argnums=np.int64(1))(a, b), a)
    ga, gb = ea.grad(f, argnums=(np.int32(0), np.int8(-1)))(a, b)
    np.testing.assert_allclose(ga, b)
    np.testing.assert_allclose(gb, a)
    with pytest.raises(TypeError, match="argnums"):
        ea.grad(f, argnums=1.0)(a, b)


def test_jvp_rejects_a_complex_tangent_for_a_real_primal():
    """``jvp`` cast a complex tangent to a real primal's dtype, silently dropping the
    imaginary part (a ComplexWarning and a wrong tangent); it now raises TypeError naming
    the tangent and both dtypes, as ``vjp_fn`` does for cotangents. Tangents of other
    numeric dtypes are still cast to the primal's (a traced one too)."""
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"tangent 0 has dtype complex128.*float64"):
        ea.jvp(lambda a: a * 2.0, (x,), (np.array([1j, 1j]),))
    with pytest.raises(TypeError, match="tangent 0 has dtype <U1"):
        ea.jvp(lambda a: a * 2.0, (x,), (np.array(["a", "b"]),))
    _, t = ea.jvp(lambda a: a * 2.0, (x.astype(np.float32),), (np.ones(2),))
    assert t.dtype == np.float32
    _, t = ea.jvp(lambda a: a * 2.0, (x,), (np.ones(2, np.int64),))
    assert t.dtype == np.float64
    # a traced tangent of another dtype (inside grad) is cast too, and differentiates
    g = ea.grad(lambda s: ea.sum(ea.jvp(lambda a: a * a, (x,),
                                        (ea.astype(s * x, np.float32),))[1]))(1.0)
    np.testing.assert_allclose(g, np.sum(2 * x * x))


@pytest.mark.parametrize("exponent", [np.float64(2.0), np.array(2.0), np.int32(2),
                                      np.float32(2.0), 2, 2.0])
def test_power_with_a_numpy_scalar_exponent_promotes_like_numpy(exponent):
    """``x32 ** np.float64(2)`` (and ``ea.power`` with a numpy scalar or 0-d array exponent)
    was float32: the exponent was turned into a Python scalar (``.item()``), which numpy
    treats as weakly typed. numpy gives float64; the exponent now keeps its dtype, and the
    gradient still comes back in the primal's float32."""
    x = np.array([1.5, -2.0], dtype=np.float32)
    want = x ** exponent
    got = ea.power(x, exponent)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want)
    out, f_vjp = ea.vjp(lambda a: a ** exponent, x)
    assert out.dtype == want.dtype
    g = f_vjp(np.ones_like(out))[0]
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)
    _, t = ea.jvp(lambda a: a ** exponent, (x,), (np.ones_like(x),))
    assert t.dtype == want.dtype


def test_jacrev_of_a_real_to_complex_function_keeps_the_imaginary_part():
    """``jacrev(lambda a: a * 1j)(x)`` was all zeros: a VJP into a real input keeps only the
    real part of the row (the transpose of a real-linear map into C), so rows of a complex
    output were half lost, silently, while ``jacfwd`` was right. Rows for real inputs now
    add minus ``1j`` times the VJP of ``1j * e``; complex inputs keep the single VJP."""
    x = np.array([0.5, -1.0, 2.0])
    f = lambda a: ea.exp(a * (1 + 2j)) * a
    np.testing.assert_allclose(ea.jacrev(lambda a: a * 1j)(x), 1j * np.eye(3))
    np.testing.assert_allclose(ea.jacrev(f)(x), ea.jacfwd(f)(x))
    g = lambda a, z: ea.sum(a * z * z)  # a real, z complex (holomorphic in z)
    for got, want in zip(ea.jacrev(g, argnums=(0, 1))(x, x + 1j),
                         ea.jacfwd(g, argnums=(0, 1))(x, x + 1j)):
        np.testing.assert_allclose(got, want)
    np.testing.assert_allclose(ea.hessian(lambda a: ea.sum(ea.exp(a * 1j)))(x),
                               np.diag(-np.exp(1j * x)))


def test_abs_derivative_of_complex_input_is_real_linear():
    """``abs`` of a complex value differentiated as if ``sign(z)`` were its derivative: the
    JVP was complex (``t z/|z|``) for a real output and the VJP was conjugated the wrong way.
    |z| is not holomorphic: its JVP is ``Re(conj(z) t)/|z|`` (real), its VJP takes a real
    cotangent g to ``g conj(z)/|z|`` (JAX's convention), both 0 at z = 0, and both are
    differentiable again (checked against finite differences)."""
    z = np.array([3 + 4j, -1 + 0.5j, 0j])
    v = np.array([0.3 - 1j, 2 + 0.5j, 1 + 1j])
    u = np.array([1.0, -2.0, 0.5])
    h = 1e-6
    fd = (np.abs(z + h * v) - np.abs(z - h * v)) / (2 * h)
    out, t = ea.jvp(ea.abs, (z,), (v,))
    assert out.dtype == np.float64 and t.dtype == np.float64
    np.testing.assert_allclose(t[:2], fd[:2], rtol=1e-6)
    assert t[2] == 0.0
    (g,) = ea.vjp(ea.abs, z)[1](u)
    np.testing.assert_allclose(g, [u[0] * (3 - 4j) / 5, u[1] * (-1 - 0.5j) / np.abs(z[1]), 0])
    # second order: the VJP as a function of z, forward mode against finite differences
    vjp_of = lambda w: ea.vjp(ea.abs, w)[1](u[:2])[0]
    _, tv = ea.jvp(vjp_of, (z[:2],), (v[:2],))
    fd2 = (vjp_of(z[:2] + h * v[:2]) - vjp_of(z[:2] - h * v[:2])) / (2 * h)
    np.testing.assert_allclose(tv, fd2, rtol=1e-6)


def test_abs_derivative_at_zero_never_turns_inf_into_nan():
    """abs's derivative was ``t * sign(x)``, a mask multiply: an infinite cotangent at
    x = 0 gave NaN (``inf * 0``) where the derivative there is 0 by convention; it now
    selects (``where``) like relu/maximum/clip, in both modes."""
    x = np.array([0.0, -2.0, 3.0])
    (ct,) = ea.vjp(ea.abs, x)[1](np.array([np.inf, np.inf, 1.0]))
    np.testing.assert_array_equal(ct, [0.0, -np.inf, 1.0])
    _, t = ea.jvp(ea.abs, (x,), (np.array([np.inf, 1.0, -np.inf]),))
    np.testing.assert_array_equal(t, [0.0, -1.0, -np.inf])
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(ea.abs(a)))(x), [0.0, -1.0, 1.0])
    ea.check_grads(lambda a: ea.abs(a) * a, (np.array([0.5, -1.2]),), order=2,
                   modes=("fwd", "rev"))


def test_numpy_functions_on_traced_values_reach_their_methods():
    """``np.transpose(x)`` and ``x.transpose(None)`` raised "axes don't match array: 1 axes
    (None,)", and ``np.sum/np.mean/np.max/np.min(x)`` on a traced ``x`` raised "unexpected
    keyword argument 'out'": numpy dispatches these to the array's methods with numpy's
    full signatures. The methods take them now (``out`` must be None)."""
    x = np.arange(6.0).reshape(2, 3)

    def f(a):
        return (ea.sum(np.transpose(a) * a.transpose(None).T.transpose(1, 0).transpose((0, 1)))
                + np.sum(a) + np.mean(a, axis=0).sum() + np.max(a) + np.min(a, axis=1).sum())

    np.testing.assert_allclose(f(x), np.sum(x.T * x.T) + 15 + 7.5 + 5 + 3)
    g = ea.grad(f)(x)
    want = 2 * x + 1 + 0.5
    want[1, 2] += 1  # the max
    want[:, 0] += 1  # the row minima
    np.testing.assert_allclose(g, want)
    with pytest.raises(TypeError, match="out= cannot be used"):
        ea.grad(lambda a: a.sum(out=np.zeros(())))(x)


def test_check_grads_accepts_boolean_and_integer_outputs():
    """``check_grads`` of a function with a boolean output leaf (a mask next to the value)
    crashed inside numpy ("numpy boolean subtract ... is not supported") while forming
    finite differences; they are now taken in float64, so such leaves check as zero, and a
    wrong derivative of the float leaf is still caught."""
    x = np.array([1.0, -2.0, 0.5])
    ea.check_grads(lambda a: (a * 2, a > 0, ea.sum(a > 0)), (x,), order=2,
                   modes=("fwd", "rev"))
    bad = lambda a: (a > 0, a * ea.stop_gradient(a))  # derivative off by a factor of 2
    with pytest.raises(AssertionError, match="fwd-mode derivative of order 1"):
        ea.check_grads(bad, (x,), order=1, modes=("fwd",))
    with pytest.raises(AssertionError, match="rev-mode derivative of order 1"):
        ea.check_grads(bad, (x,), order=1, modes=("rev",))


def test_check_grads_reverse_mode_pairs_complex_values_by_real_parts():
    """``check_grads`` in reverse mode failed on *correct* derivatives of real-to-complex and
    non-holomorphic functions (``lambda a: a * (1 + 2j)`` on real ``a``): a VJP into a real
    input is ``Re(uᵀJ)``, so ``(uᵀJ)·v`` is real while ``u·(J v)`` is complex. The check now
    compares real parts (as JAX's does), which still catches a wrongly conjugated rule."""
    from einsum_ad import rules
    from einsum_ad.core import Primitive

    x = np.array([1.0, -2.0])
    for f, arg in [(lambda a: a * (1 + 2j), x), (lambda a: ea.exp(a * 1j), x),
                   (lambda z: ea.astype(z * z, np.float64), x + 1j),
                   (lambda z: ea.abs(z) * z, x + 1j), (lambda z: ea.sin(z) * z, x + 1j)]:
        ea.check_grads(f, (arg,), order=2, modes=("fwd", "rev"))
    wrong = Primitive("times_1_plus_2j", lambda a: a * (1 + 2j))
    wrong.def_vjp(lambda ans, a: lambda g: (rules.mul(g, np.asarray(1 - 2j)),))  # conjugated
    wrong.def_jvp(lambda p, t, params: (wrong(p[0]), rules.mul(t[0], np.asarray(1 + 2j))))
    with pytest.raises(AssertionError, match="rev-mode derivative of order 1"):
        ea.check_grads(wrong, (x,), order=1, modes=("rev",))


def test_jvp_checks_what_f_returns_like_vjp():
    """``jvp(..., has_aux=True)`` of an ``f`` that returns no pair failed with Python's "too
    many values to unpack", and an ``f`` returning a string crashed inside numpy ("data type
    'x' not understood"); jvp now checks f's result as vjp does (one shared check), with a
    TypeError naming the problem."""
    x = np.ones(3)
    with pytest.raises(TypeError, match=r"jvp\(has_aux=True\): f must return a pair"):
        ea.jvp(lambda a: a * 2, (x,), (x,), has_aux=True)
    with pytest.raises(TypeError, match="pair.*length 3"):
        ea.jvp(lambda a: (a, a, a), (x,), (x,), has_aux=True)
    with pytest.raises(TypeError, match="jvp: f returned a str"):
        ea.jvp(lambda a: "x", (x,), (x,))
    with pytest.raises(TypeError, match="vjp: f returned a str"):
        ea.vjp(lambda a: [a, "x"], x)
    out, t, aux = ea.jvp(lambda a: (a * 2, {"n": 3, "a": a}), (x,), (x,), has_aux=True)
    np.testing.assert_array_equal(t, 2 * x)
    assert aux["n"] == 3 and isinstance(aux["a"], np.ndarray)


@pytest.mark.parametrize("shape", [(4, 6), (-1,), (3, 2, 4), (24, 1)])
def test_reshape_in_fortran_order(shape):
    """``reshape(x, shape, order="F")`` (also ``x.reshape(..., order="F")`` on a traced
    value) raised ValueError although numpy accepts it; it is now the row-major reshape
    between two axis reversals, differentiable like any other lowering, and ``order="A"``
    follows numpy (Fortran for a Fortran-contiguous plain array)."""
    a = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(ea.reshape(a, shape, order="F"), a.reshape(shape, order="F"))
    af = np.asfortranarray(a)
    np.testing.assert_array_equal(ea.reshape(af, shape, order="A"), af.reshape(shape, order="A"))
    w = np.linspace(-1, 1, 24).reshape(a.reshape(shape, order="F").shape)
    g = ea.grad(lambda x: ea.sum(x.reshape(shape, order="F") * w))(a)
    np.testing.assert_array_equal(g, w.reshape(a.shape, order="F"))
    ea.check_grads(lambda x: ea.reshape(x, shape, order="F") ** 2, (a / 10,), order=2,
                   modes=("fwd", "rev"))
    with pytest.raises(ValueError, match="order must be 'C', 'F' or 'A'"):
        ea.reshape(a, shape, order="K")


def test_more_than_52_labels_with_optimize_false_counts_the_expressions_labels():
    """``einsum`` of 60 labels with ``optimize=False`` raised the right ValueError but said
    "one contraction step uses 59 distinct labels": the count was that of an adjoint, which
    is lowered before the forward step; it should name the 60 the user wrote."""
    ops = []
    for i in range(60):
        ops += [np.ones(2), [i]]
    with pytest.raises(ValueError, match="60 distinct labels"):
        ea.einsum(*ops, [], optimize=False)
    assert ea.einsum(*ops, []) == 2.0 ** 60  # pairwise steps relabel locally


def test_clip_takes_numpy2_min_max_keywords():
    """``clip(a, min=..., max=...)`` raised TypeError (unexpected keyword) while numpy 2
    accepts the keywords; they now work, traced too, and a bound given twice (positionally
    and by keyword) is a TypeError."""
    a = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(ea.clip(a, min=-1, max=1), np.clip(a, min=-1, max=1))
    np.testing.assert_array_equal(ea.clip(a, max=1), np.clip(a, max=1))
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.clip(x, min=-1.0) * x))(a),
                                  [-1.0, 1.0, 6.0])
    with pytest.raises(TypeError, match="multiple values for argument 'min'"):
        ea.clip(a, 0.0, 1.0, min=0.0)  # the standard's signature: min is positional too
    with pytest.raises(TypeError, match="min bound is given twice"):
        ea.clip(a, 0.0, 1.0, a_min=0.0)  # numpy's keyword beside it


def test_tree_unflatten_with_too_few_leaves_raises_valueerror():
    """``tree_unflatten`` given fewer leaves than its structure holds leaked Python's
    iterator protocol: ``RuntimeError: generator raised StopIteration`` (or a bare
    StopIteration for a single leaf). It now raises ValueError, like too many leaves."""
    _, treedef = ea.tree_flatten({"a": [1, 2], "b": (3,)})
    with pytest.raises(ValueError, match="fewer leaves"):
        ea.tree_unflatten(treedef, [1, 2])
    with pytest.raises(ValueError, match="fewer leaves"):
        ea.tree_unflatten(ea.tree_flatten(5)[1], [])
    with pytest.raises(ValueError, match="more leaves"):
        ea.tree_unflatten(treedef, [1, 2, 3, 4])
    assert ea.tree_unflatten(treedef, [None, 2, 3]) == {"a": [None, 2], "b": (3,)}


def test_traced_exponent_power_has_finite_base_derivative_where_exponent_is_zero():
    """``power(a, b)`` with an array/traced exponent differentiated in ``a`` as
    ``b * a**(b-1)``: at a = 0 with b = 0 that is ``0 * inf = NaN`` (JAX and PyTorch give
    0), and the Hessian had NaN rows. The rule now selects 0 at a = b = 0 and replaces the
    base by 1 there first, so derivatives of every order stay finite, and exact elsewhere
    (in b too: at b = 0, a != 0 the mixed derivative is 1/a, not 0)."""
    x = np.array([0.0, 1.0, 0.0, 2.0])
    b = np.array([0.0, 2.0, 1.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(ea.power(a, b)))(x),
                                      [0.0, 2.0, 1.0, 0.0])
        _, t = ea.jvp(lambda a: ea.power(a, b), (x,), (np.ones(4),))
        np.testing.assert_array_equal(t, [0.0, 2.0, 1.0, 0.0])
        np.testing.assert_array_equal(ea.hessian(lambda a: ea.sum(ea.power(a, b)))(x),
                                      np.diag([0.0, 2.0, 0.0, 0.0]))
    ea.check_grads(lambda a, e: ea.power(a, e), (np.array([0.5, 1.5, 2.0]),
                                                  np.array([0.0, -1.5, 2.5])),
                   order=3, modes=("fwd", "rev"))


def test_a_cast_to_an_integer_dtype_has_zero_derivative():
    """A cast of a traced float to an integer or bool dtype passed the derivative through
    as if it were the identity: ``grad(lambda a: sum(astype(a, int) * 1.0))`` was 1, and
    ``grad(lambda a: sum(astype(a, int) * a))`` was ``2a`` instead of ``int(a)``. Such a
    cast is piecewise constant: its rule now gives zero in both modes (as in JAX), for
    ``astype`` and for every lowering that casts (``sum(dtype=int)``, ``einsum(dtype=)``)."""
    x = np.array([1.7, 2.2])
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(ea.astype(a, int) * 1.0))(x), 0)
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(ea.astype(a, int) * a))(x),
                                  [1.0, 2.0])
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(a.astype(bool) * a))(x), [1, 1])
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(a, dtype=np.int32) * 1.0)(x), 0)
    np.testing.assert_array_equal(
        ea.grad(lambda a: ea.einsum("i->", a, dtype=int, casting="unsafe") * 1.0)(x), 0)
    _, t = ea.jvp(lambda a: ea.astype(a, int) * a, (x,), (np.ones(2),))
    np.testing.assert_array_equal(t, [1.0, 2.0])
    np.testing.assert_array_equal(ea.hessian(lambda a: ea.sum(ea.astype(a, int) * a * a))(x),
                                  np.diag([2.0, 4.0]))
    # casts between inexact dtypes still carry the derivative
    g = ea.grad(lambda a: ea.sum(ea.astype(a, np.float32) * 2.0))(x)
    np.testing.assert_array_equal(g, [2.0, 2.0])


def test_square_of_bool_is_int8_like_numpy():
    """``square`` of a bool array was bool (``x * x`` keeps bool), numpy's is int8 (its
    square ufunc has no bool loop); the lowering now casts bool to int8 first."""
    b = np.array([True, False])
    got = ea.square(b)
    assert got.dtype == np.square(b).dtype == np.int8
    np.testing.assert_array_equal(got, np.square(b))
    x = np.array([1.5, -2.0])
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(ea.square(a > 0) * a))(x), [1, 0])


def test_where_documents_that_the_unselected_branch_can_reach_the_derivative():
    """``where``'s docstring promised that a NaN or inf in the unselected branch reaches
    "neither the result nor its derivative"; the derivative does get NaN (zero cotangent
    times sqrt's NaN derivative at -1), as in JAX and PyTorch. The docstring now says so and
    shows the safe pattern, which this test checks."""
    x = np.array([-1.0, 4.0])
    safe = ea.grad(lambda a: ea.sum(ea.where(a > 0, ea.sqrt(ea.where(a > 0, a, 1.0)), 0.0)))
    np.testing.assert_array_equal(safe(x), [0.0, 0.25])
    assert "can reach the derivative" in ea.where.__doc__


def test_traced_values_have_numpys_common_array_methods():
    """``x.ravel()``, ``x.flatten()``, ``x.swapaxes(...)``, ``x.clip(...)``, ``x.copy()``,
    ``x.argmax()`` / ``x.argmin()`` raised AttributeError on a traced value, and so did
    ``np.argmax(x)`` / ``np.clip(x, ...)``, which numpy dispatches to those methods. They
    exist now: lowerings for the differentiable ones, positions computed on the value
    (constant indices) for argmax/argmin."""
    x = np.arange(6.0).reshape(2, 3)

    def f(a):
        return (ea.sum(a.ravel() * a.flatten()) + a.swapaxes(0, 1)[2, 1]
                + ea.sum(np.clip(a, 1, 4)) + ea.sum(a.copy()) + a.ravel()[np.argmax(a)]
                + a[np.arange(2), a.argmin(axis=1)].sum())

    assert f(x) == 55 + 5 + 15 + 15 + 5 + 3
    np.testing.assert_array_equal(ea.grad(f)(x), [[2.0, 3.5, 6.0], [9.0, 9.5, 13.0]])
    assert ea.grad(lambda a: a.ravel()[a.argmax(keepdims=False)] * 1.0)(x)[1, 2] == 1.0


def test_an_escaped_tracer_raises_instead_of_recording_on_a_dead_trace():
    """A traced value saved during one transform (in a global, a closure) and used after it
    returned was silently recorded on that finished trace: ``grad`` of a later function
    returned a ``Tracer`` object instead of an array, and plain code computing with it got
    tracers back. A transform now marks its trace finished when ``f`` returns (or raises),
    and a primitive applied to its tracers raises a TypeError saying the value escaped."""
    x = np.array([1.0, 2.0])
    leak = []
    ea.grad(lambda a: (leak.append(a), ea.sum(a))[1])(x)
    with pytest.raises(TypeError, match="escaped"):
        ea.grad(lambda b: ea.sum(b * leak[0]))(x)
    with pytest.raises(TypeError, match="escaped"):
        ea.exp(leak[0])
    leak.clear()
    ea.jvp(lambda a: (leak.append(a), a * 2)[1], (x,), (x,))
    with pytest.raises(TypeError, match="escaped"):
        leak[0] + 1.0
    leak.clear()
    ea.make_graph(lambda a: (leak.append(a), a * 2)[1], x)
    with pytest.raises(TypeError, match="escaped"):
        ea.sum(leak[0])
    leak.clear()
    with pytest.raises(ZeroDivisionError):
        ea.grad(lambda a: (leak.append(a), 1 / 0))(x)
    with pytest.raises(TypeError, match="escaped"):
        ea.sum(leak[0])
    # nested transforms and vjp functions used after vjp returned keep working
    out, f_vjp = ea.vjp(lambda a: ea.sin(a) * a, x)
    g = ea.grad(lambda c: ea.sum(f_vjp(c)[0]))(np.ones(2))
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x))
    np.testing.assert_allclose(ea.grad(lambda a: ea.grad(lambda b: ea.sum(a * b * b))(a)[0])(x),
                               [4.0, 0.0])


def test_power_with_a_boolean_exponent_array_differentiates():
    """``x ** np.array([True, False])`` evaluated (numpy promotes the bool exponent) but its
    derivative crashed inside numpy: the rule formed ``b - 1`` in bool ("numpy boolean
    subtract ... is not supported"). ``b - 1`` is now formed in at least int8."""
    x = np.array([1.5, 2.0])
    b = np.array([True, False])
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(a ** b))(x), [1.0, 0.0])
    np.testing.assert_array_equal(ea.jvp(lambda a: a ** b, (x,), (np.ones(2),))[1], [1.0, 0.0])
    np.testing.assert_array_equal(ea.hessian(lambda a: ea.sum(a ** b))(x), np.zeros((2, 2)))
    g = ea.grad(lambda a: ea.sum(a ** np.array([2, 3], np.int8)))(x.astype(np.float32))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [3.0, 12.0])


def test_products_of_arrays_with_more_than_32_dimensions():
    """``multiply``, ``matmul`` and ``vecdot`` (so ``x * y`` and ``x @ y`` on traced values)
    raised "RuntimeError: this function only supports up to 32 dimensions" from
    ``np.broadcast_shapes`` for arrays of 33 to 64 dimensions, which numpy's own products
    handle; the shape check is now plain Python (same result and error message)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1,) * 37 + (2, 3, 2))
    np.testing.assert_allclose(ea.multiply(x, x), x * x)
    np.testing.assert_allclose(ea.matmul(x, np.swapaxes(x, -1, -2)),
                               np.matmul(x, np.swapaxes(x, -1, -2)))
    ea.check_grads(lambda a: ea.sum(a * a) + ea.sum(a @ ea.swapaxes(a, -1, -2)), (x,),
                   order=2, modes=("fwd", "rev"))
    with pytest.raises(ValueError, match=r"could not be broadcast together with shapes "
                                         r"\(2,3\) \(3,2\)"):
        ea.multiply(np.ones((2, 3)), np.ones((3, 2)))


def test_grad_of_a_function_returning_a_pytree_names_the_problem():
    """``grad`` of an ``f`` returning a list, dict or (scalar, aux) tuple without
    ``has_aux`` failed inside numpy ("Field elements must be 2- or 3-tuples", "invalid shape
    in fixed-type tuple", "object of type 'numpy.float64' has no len()"): the output's
    shape was taken before checking that it is an array. It is now a TypeError naming the
    container (and pointing at has_aux for a tuple or list)."""
    x = np.ones(3)
    with pytest.raises(TypeError, match="must return a scalar, got a tuple; .*has_aux=True"):
        ea.grad(lambda a: (ea.sum(a), {"x": a}))(x)
    with pytest.raises(TypeError, match="must return a scalar, got a list"):
        ea.grad(lambda a: [ea.sum(a)])(x)
    with pytest.raises(TypeError, match="must return a scalar, got a dict"):
        ea.value_and_grad(lambda a: {"loss": ea.sum(a)})(x)
    with pytest.raises(TypeError, match="must return a scalar, got an output of shape"):
        ea.grad(lambda a: a)(x)
    g, aux = ea.grad(lambda a: (ea.sum(a), 1), has_aux=True)(x)
    np.testing.assert_array_equal(g, np.ones(3))
    assert aux == 1


def test_mean_of_float16_is_computed_in_float32_like_numpy():
    """``mean`` of float16 summed in float16: past 65504 the sum overflowed (the mean of
    200,000 halves was inf, numpy's 0.5) and past 2**24 elements 1/n underflowed (NaN).
    numpy averages float16 in float32 and casts back when no dtype is asked for; so does
    ``mean`` now. An explicit ``dtype=float16`` still computes in float16, as numpy does."""
    x = np.full(200_000, 0.5, np.float16)
    m = ea.mean(x)
    assert m.dtype == np.float16 and m == np.mean(x) == 0.5
    g = ea.grad(lambda a: ea.mean(a))(x)
    assert g.dtype == np.float16
    np.testing.assert_allclose(g, np.float16(1 / 200_000), rtol=1e-3)
    r = np.random.default_rng(0).uniform(0, 1, (30, 50)).astype(np.float16)
    for kw in [{"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)}]:
        got, want = ea.mean(r, **kw), np.mean(r, **kw)
        assert got.dtype == want.dtype and np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-3)
    with np.errstate(over="ignore"):
        assert ea.mean(x, dtype=np.float16) == np.mean(x, dtype=np.float16)  # inf, both


def test_derivatives_handed_out_never_share_memory():
    """``grad(lambda a, b: sum(tanh(a + b)), argnums=(0, 1))`` returned the *same* array for
    both gradients (add's rule gives g to each operand), and ``vjp_fn(ct)`` could return
    the user's cotangent itself or a view of it (``a.T.T``), as could ``jvp`` the tangent:
    an in-place update of one gradient (``g_a *= 2``, an optimizer's ``g -= ...``) silently
    changed the other or the caller's array. Every derivative handed out is now a writeable
    array sharing memory with no other one and with nothing the caller passed in."""
    x, y = np.ones(3), np.ones(3)
    ga, gb = ea.grad(lambda a, b: ea.sum(ea.tanh(a + b)), argnums=(0, 1))(x, y)
    assert not np.shares_memory(ga, gb)
    ga *= 2
    np.testing.assert_allclose(gb, 1 - np.tanh(2.0) ** 2)
    ct = np.ones(3)
    for f, args in [(lambda a, b: a + b, (x, y)), (lambda a: a.T.T, (x,)),
                    (lambda a: ea.reshape(a, (3,)), (x,))]:
        _, f_vjp = ea.vjp(f, *args)
        grads = f_vjp(ct)
        for i, g in enumerate(grads):
            assert g.flags.writeable and not np.shares_memory(g, ct)
            assert not any(np.shares_memory(g, a) for a in args)
            assert not any(np.shares_memory(g, h) for h in grads[:i])
    p = {"a": x, "b": y}
    gp = ea.grad(lambda p: ea.sum(p["a"] - p["b"]))(p)
    assert not np.shares_memory(gp["a"], gp["b"])
    t = np.ones(3)
    _, tans = ea.jvp(lambda a: (a, a * 1.0, a), (x,), (t,))
    assert not any(np.shares_memory(s, t) for s in tans)
    assert not np.shares_memory(tans[0], tans[2])


def test_plain_reductions_over_no_axis_and_same_dtype_casts_return_new_arrays():
    """``ea.sum(x, axis=())``, ``ea.mean(x, axis=())`` and ``ea.astype(x, x.dtype)``
    returned ``x`` itself (an identity einsum, a no-copy cast), where numpy returns a new
    array: writing into the result changed the caller's ``x``. They copy now, like numpy."""
    x = np.arange(6.0).reshape(2, 3)
    for res in (ea.sum(x, axis=()), ea.mean(x, axis=()), ea.sum(x, axis=(), dtype=float),
                ea.astype(x, np.float64), ea.asarray(x).astype(np.float64)):
        assert not np.shares_memory(res, x)
        np.testing.assert_array_equal(res, x)
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(ea.sum(a, axis=()) * a))(x), 2 * x)


def test_jacobians_keep_single_precision_and_empty_ones_their_dtype():
    """Jacobians lost their dtype in two places: an empty one (a size-0 input or output)
    was float64 whatever the inputs (``np.zeros(shape)``), and ``jacrev`` of a float32 to
    complex64 function was complex128 (its ``1j`` was a complex128 constant). Empty
    Jacobians now have the dtype their pieces would have, and the ``1j`` is in the output's
    precision."""
    x0 = np.ones(0, np.float32)
    y = np.ones(3, np.float32)
    assert ea.jacrev(lambda a: a * 2)(x0).dtype == np.float32
    assert ea.jacfwd(lambda a: a * 2)(x0).dtype == np.float32
    assert ea.hessian(lambda a: ea.sum(a * a))(x0).dtype == np.float32
    assert ea.jacrev(lambda a: a[:0] * 2)(y).dtype == np.float32
    assert ea.jacfwd(lambda a: a[:0] * 2)(y).dtype == np.float32
    f = lambda a: ea.exp(a * np.complex64(1j))
    assert ea.jacrev(f)(y).dtype == ea.jacfwd(f)(y).dtype == np.complex64
    np.testing.assert_allclose(ea.jacrev(f)(y), ea.jacfwd(f)(y), rtol=1e-6)
    assert ea.jacrev(lambda a: a[:0] * np.complex64(1j))(y).dtype == np.complex64
    assert ea.hessian(lambda a: ea.sum(ea.exp(a * np.complex64(1j))))(y).dtype == np.complex64


def test_reductions_take_numpy_positional_order_and_out():
    """``sum``/``mean`` were ``(a, axis, dtype, keepdims)`` and ``max``/``min``
    ``(a, axis, keepdims)``, so a call written for numpy, ``ea.sum(x, 0, None, None, True)``
    or ``ea.max(x, 0, None, True)``, raised or meant something else; ``out=`` was not
    accepted. They now take numpy's order ``(a, axis, dtype, out, keepdims, ...)`` and
    ``(a, axis, out, keepdims, ...)``; ``out`` is written and returned for plain arrays and
    is a TypeError for traced values (immutable)."""
    x = np.arange(6.0).reshape(2, 3)
    for name, args in (("sum", (0, None, None, True)), ("mean", (1, None, None, True)),
                       ("max", (0, None, True)), ("min", (1, None, True)),
                       ("amax", (0, None, True))):
        np.testing.assert_array_equal(getattr(ea, name)(x, *args), getattr(np, name)(x, *args))
    for name in ("sum", "mean", "max", "min"):
        out = np.zeros(3)
        assert getattr(ea, name)(x, axis=0, out=out) is out
        np.testing.assert_array_equal(out, getattr(np, name)(x, axis=0))
        with pytest.raises(TypeError, match="out= cannot be used with traced"):
            ea.grad(lambda a, name=name: getattr(ea, name)(a, out=np.zeros(())))(x)
    with pytest.raises(ValueError, match=r"out has shape \(2,\)"):
        ea.sum(x, 0, out=np.zeros(2))
    # the traced methods follow the same order (np.sum(tracer, ...) calls them)
    g = ea.grad(lambda a: ea.sum(a.sum(0, None, None, True) * a.max(1, None, True)))(x)
    np.testing.assert_allclose(g, ea.grad(
        lambda a: ea.sum(ea.sum(a, 0, keepdims=True) * ea.max(a, 1, keepdims=True)))(x))


def test_reductions_implement_initial_and_where():
    """``initial=`` and ``where=`` of numpy's reductions raised TypeError (unexpected
    keyword). ``sum(initial=, where=)``, ``mean(where=)`` and ``max``/``min(initial=,
    where=)`` are implemented, on plain and traced values: where= selects with a where node
    (an excluded inf stays out, as in numpy), initial= takes part in the result (and is
    the max of an empty reduction); max without initial under where= is numpy's
    ValueError."""
    x = np.array([[1.0, 5.0, np.inf], [3.0, 2.0, 4.0]])
    m = np.array([True, True, False])
    np.testing.assert_array_equal(ea.sum(x, 1, where=m, initial=1.0),
                                  np.sum(x, 1, where=m, initial=1.0))
    np.testing.assert_array_equal(ea.mean(x, 1, where=m), np.mean(x, 1, where=m))
    np.testing.assert_array_equal(ea.max(x, 1, where=m, initial=2.5),
                                  np.max(x, 1, where=m, initial=2.5))
    np.testing.assert_array_equal(ea.min(np.zeros((0, 2)), 0, initial=7.0), [7.0, 7.0])
    with pytest.raises(ValueError, match="where= needs initial="):
        ea.max(x, where=m)
    assert ea.sum(x[:, :2], where=[1, 0]) == np.sum(x[:, :2], where=[1, 0]) == 4.0
    with pytest.raises(TypeError, match="where must be a boolean mask"):
        ea.sum(x, where=np.array([1, 0, 1]))  # numpy refuses an int array too
    with pytest.raises(ValueError, match="does not broadcast"):
        ea.sum(x, where=np.ones(2, bool))
    y = x[:, :2]
    ea.check_grads(lambda a: ea.max(a, 1, initial=2.5) + ea.sum(a, 1, initial=1.0),
                   (y,), order=2, modes=("fwd", "rev"))
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(a, where=m))(x),
                                  np.array([m, m], float))
    np.testing.assert_allclose(ea.grad(lambda a: ea.sum(ea.mean(a, 1, where=a < 4.5)))(x),
                               [[1.0, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_ufunc_reductions_accept_axis_0_on_0d_arrays():
    """``ea.sum(np.array(3.0), axis=0)`` raised AxisError where numpy's ufunc reductions
    (sum, max, min) accept ``axis=0`` or ``-1`` on a 0-d array and reduce nothing.
    (``mean`` keeps numpy's AxisError.)"""
    a = np.array(3.0)
    for name in ("sum", "max", "min"):
        for axis in (0, -1):
            assert getattr(ea, name)(a, axis=axis) == getattr(np, name)(a, axis=axis) == 3.0
    assert float(ea.grad(lambda t: ea.sum(t, axis=0) * ea.max(t, axis=-1))(a)) == 6.0
    with pytest.raises(np.exceptions.AxisError):
        ea.mean(a, axis=0)
    # ... but numpy's mean with where= reduces with a ufunc, which takes it
    assert ea.mean(a, axis=0, where=np.array(True)) == np.mean(a, axis=0, where=np.array(True))


def test_divide_of_integer_array_by_out_of_range_python_int_is_float64():
    """``ea.divide(int8_array, 300)`` (and ``300 / traced_int8``) raised OverflowError: the
    weak Python int was first cast to int8, as for ``add``. numpy divides integers in
    float64, so there the int need not fit; ``divide`` now hands such an int over as
    float64 and matches numpy (values and dtype)."""
    a = np.array([1, -2], np.int8)
    for x, y in ((a, 300), (300, a), (np.array([3], np.uint8), -1), (a, 2)):
        res, ref = ea.divide(x, y), np.divide(x, y)
        assert res.dtype == ref.dtype == np.float64
        np.testing.assert_array_equal(res, ref)
    assert ea.divide(np.ones(2, np.float32), 300).dtype == np.float32
    with pytest.raises(OverflowError):
        ea.add(a, 300)  # as numpy: only true division promotes


def test_traced_complex_first_argument_of_vdot_vecdot_norm_is_conjugated():
    """``vdot``/``vecdot``/``linalg.norm`` of a *traced* complex first argument raised
    TypeError ("an einsum node cannot express" the conjugate). They now conjugate it with
    the linear ``conj`` primitive (one node before the einsum), and ``norm`` of complex
    input is real (``sqrt(Re(einsum(conj(x), x)))``), in its real precision; derivatives
    agree with finite differences in both modes and with numpy's values."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))
    w = rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))
    ea.check_grads(lambda a, b: ea.vdot(a, b) + ea.sum(ea.vecdot(a, b, axis=0)), (z, w),
                   order=2, modes=("fwd", "rev"))
    ea.check_grads(lambda a: ea.linalg.norm(a, axis=1), (z,), order=2, modes=("fwd", "rev"))
    np.testing.assert_allclose(ea.grad(ea.linalg.norm)(z), np.conj(z) / np.linalg.norm(z))
    value, _ = ea.value_and_grad(lambda a: ea.linalg.norm(a))(z.astype(np.complex64))
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, np.linalg.norm(z), rtol=1e-6)
    nodes = [n.primitive for n in ea.make_graph(lambda a: ea.vdot(a, w), z).nodes]
    assert nodes == ["conj", "einsum"]


def test_attention_mask_keeps_dtype_refuses_float_masks_and_checks_shape():
    """MultiHeadAttention added a float64 constant (0 / -1e9) to the scores, so a causal or
    masked float32 model computed in float64 (and in float16 -1e9 is -inf: NaN in a fully
    masked row); a float additive mask (0 / -inf, PyTorch's convention) was read as
    booleans, silently *inverting* it; a mask of the wrong shape gave numpy's broadcast
    error. Masked scores are now replaced (``where``) by the dtype's lowest finite value,
    float masks are a TypeError, and the mask's shape is checked against the scores'."""
    from einsum_ad import nn

    mha = nn.MultiHeadAttention(8, 2, causal=True)
    params = mha.init(0)
    x = np.random.default_rng(0).normal(size=(2, 5, 8))
    mask = np.ones((2, 1, 1, 5), bool)
    mask[0] = False  # the first example may attend to nothing
    for dtype in (np.float32, np.float16):
        p = ea.tree_map(lambda a, dtype=dtype: a.astype(dtype), params)
        out = mha(p, x.astype(dtype), mask)
        grads = ea.grad(lambda q, dtype=dtype: ea.sum(mha(q, x.astype(dtype), mask)))(p)
        assert out.dtype == dtype and np.isfinite(out).all()
        assert all(g.dtype == dtype and np.isfinite(g).all() for g in grads.values())
    additive = np.where(nn.causal_mask(5), 0.0, -np.inf)
    with pytest.raises(TypeError, match="mask == 0"):
        mha(params, x, additive)
    with pytest.raises(ValueError, match=r"mask has shape \(2, 1, 1, 6\)"):
        mha(params, x, np.ones((2, 1, 1, 6), bool))


def test_boolean_labels_and_token_ids_are_refused_with_the_callers_name():
    """``softmax_cross_entropy(logits, bool_labels)`` leaked numpy's IndexError ("boolean
    index did not match"): one_hot accepted bool labels and ``eye[labels]`` indexed with
    them as a *mask*. Labels must be integers now (TypeError), and label/id errors name the
    function the user called (``softmax_cross_entropy``, ``Embedding``), not one_hot."""
    from einsum_ad import nn

    logits = np.zeros((2, 3))
    with pytest.raises(TypeError, match="softmax_cross_entropy: labels must be integers"):
        nn.softmax_cross_entropy(logits, np.array([True, False]))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: labels must lie in \[0, 3\)"):
        nn.softmax_cross_entropy(logits, np.array([0, 3]))
    emb = nn.Embedding(4, 2)
    with pytest.raises(ValueError, match=r"Embedding: token ids must lie in \[0, 4\)"):
        emb(emb.init(0), np.array([[1, -1]]))
    with pytest.raises(TypeError, match="one_hot: labels must be integers"):
        nn.one_hot(np.array([True]), 2)
    np.testing.assert_array_equal(nn.one_hot(np.array([1], np.uint8), 2), [[0.0, 1.0]])


def test_clip_by_global_norm_does_not_overflow_on_large_float32_gradients():
    """``global_norm`` summed squares in the gradients' dtype: float32 gradients of 1e20
    (an exploding gradient, exactly when clipping matters) overflowed to inf, and
    ``clip_by_global_norm`` then scaled every gradient to zero (float64 ones of 1e200
    likewise). The norm is now taken in float64 and scaled by the largest magnitude."""
    from einsum_ad import optim

    g = {"a": np.full(3, 1e20, np.float32), "b": np.array([[4e20]], np.float32)}
    np.testing.assert_allclose(optim.global_norm(g), np.sqrt(3 + 16) * 1e20, rtol=1e-6)
    clip = optim.clip_by_global_norm(1.0)
    clipped, _ = clip.update(g, clip.init(None))
    assert clipped["a"].dtype == np.float32
    np.testing.assert_allclose(optim.global_norm(clipped), 1.0, rtol=1e-5)
    huge, _ = clip.update(np.full(4, 1e200), clip.init(None))
    np.testing.assert_allclose(huge, 0.5)
    assert optim.global_norm({"z": np.zeros(3)}) == 0.0


def test_load_params_finds_the_file_save_params_wrote(tmp_path):
    """``save_params("p", tree)`` writes ``p.npz`` (numpy adds the suffix), but
    ``load_params("p")`` raised FileNotFoundError for ``'p'`` (so did ``einsum-ad train
    --save p``); a ``.npy`` file gave "'numpy.ndarray' object does not support the context
    manager protocol". load_params now finds ``p.npz``, and a .npy file or a missing file
    is a clear error naming it. Dtypes and nested structure round-trip."""
    from einsum_ad.data import load_params, save_params

    tree = {"w": [np.ones(2, np.float16), (np.int8(3), None)], "z": np.zeros((0, 2), np.complex64)}
    save_params(tmp_path / "p", tree)
    back = load_params(tmp_path / "p")
    assert back["w"][0].dtype == np.float16 and back["w"][1][0].dtype == np.int8
    assert back["w"][1][1] is None and back["z"].shape == (0, 2)
    assert back["z"].dtype == np.complex64
    np.save(tmp_path / "a.npy", np.ones(2))
    with pytest.raises(ValueError, match="single .npy array"):
        load_params(tmp_path / "a.npy")
    with pytest.raises(FileNotFoundError, match="load_params: no such file"):
        load_params(tmp_path / "missing.npz")


def test_cli_refuses_a_directory_as_output_file_before_training(tmp_path, capsys):
    """``einsum-ad train ... --metrics DIR`` (or ``--plot``/``--save`` naming an existing
    directory) trained the whole model, wrote the plot, and only then failed with
    "[Errno 21] Is a directory" (exit 1, no summary). Output paths are now checked before
    training: one line naming the option, exit status 2."""
    from einsum_ad.cli import main

    for option in ("--metrics", "--plot", "--save"):
        assert main(["train", "digits", "--epochs", "1", option, str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and f"{option} {tmp_path}: is a directory" in err


def test_logsumexp_takes_scipys_signature_with_weights_and_sign():
    """``logsumexp(a, axis=None, keepdims=False)`` put keepdims where scipy (and JAX) have
    the weights ``b``: ``ea.logsumexp(a, 0, w)`` silently meant keepdims=True and ignored
    the weights; ``return_sign`` and a 0-d ``a`` with ``axis=0`` raised. It now takes
    scipy's ``(a, axis, b, keepdims, return_sign)``, stably (a zero-weight element of 1e4
    neither shifts the sum nor overflows), with derivatives in both arguments."""
    sp = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4))
    w = rng.normal(size=(3, 4))
    np.testing.assert_allclose(ea.logsumexp(a, 0, np.abs(w)), sp.logsumexp(a, 0, np.abs(w)))
    for got, want in zip(ea.logsumexp(a, 1, w, True, True), sp.logsumexp(a, 1, w, True, True)):
        np.testing.assert_allclose(got, want)
    spike, weights = np.array([0.0, 1e4]), np.array([2.0, 0.0])
    assert ea.logsumexp(spike, b=weights) == pytest.approx(np.log(2.0))
    np.testing.assert_array_equal(ea.grad(lambda t: ea.logsumexp(t, b=weights))(spike), [1, 0])
    assert ea.logsumexp(np.array(3.0), axis=0) == 3.0
    ea.check_grads(lambda x, b: ea.logsumexp(x, 1, b, False, True)[0], (a, w), order=2,
                   modes=("fwd", "rev"))


def test_adam_refuses_nan_eps_and_weight_decay():
    """``adam(eps=nan)`` and ``adamw(weight_decay=nan)`` were accepted (the checks were
    ``eps <= 0`` and ``weight_decay < 0``, both False for NaN) and every update was NaN.
    They raise ValueError now, as a negative value does."""
    from einsum_ad import optim

    with pytest.raises(ValueError, match="eps must be positive, got nan"):
        optim.adam(0.1, eps=float("nan"))
    with pytest.raises(ValueError, match="weight_decay must be non-negative, got nan"):
        optim.adamw(0.1, weight_decay=float("nan"))


def test_minibatches_checks_its_arguments_when_called():
    """``minibatches`` was a generator function, so ``batches = minibatches(x, y[:5],
    batch_size=0)`` raised nothing until the first batch was drawn (far from the mistake);
    ``batch_size=True`` was taken as 1 and ``rng="a"`` leaked numpy's SeedSequence
    TypeError. Arguments are now checked at the call, with messages naming them."""
    from einsum_ad.data import minibatches

    x = np.arange(10)
    with pytest.raises(ValueError, match="array 1 has 5 examples"):
        minibatches(x, x[:5], batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got True"):
        minibatches(x, batch_size=True)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        minibatches(x, batch_size=2, rng="a")
    assert [b[0].tolist() for b in minibatches(x, batch_size=4, shuffle=False)] == \
        [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_binary_cross_entropy_gradient_at_zero_logits():
    """``binary_cross_entropy_with_logits`` was ``relu(z) - z*y + log1p(exp(-|z|))``, whose
    kinks (relu and abs have derivative 0 at 0) gave the gradient ``-y`` at ``z = 0``
    instead of ``sigmoid(0) - y = 0.5 - y``: every zero-initialised logistic model took a
    wrong first step. It is ``softplus(z) - z*y`` now (softplus' = sigmoid), equal to
    PyTorch's gradient everywhere and still finite for logits of 1e4."""
    from einsum_ad import nn

    z = np.array([0.0, 0.0, 1e4, -1e4, 3.0])
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.3])
    want = (np.exp(-np.logaddexp(0.0, -z)) - y) / z.size  # (sigmoid(z) - y) / n
    np.testing.assert_allclose(
        ea.grad(lambda t: nn.binary_cross_entropy_with_logits(t, y))(z), want, rtol=1e-12)
    np.testing.assert_allclose(nn.binary_cross_entropy_with_logits(z, y),
                               np.mean(np.logaddexp(0.0, z) - z * y), rtol=1e-12)


def test_trace_takes_numpys_out_argument():
    """``ea.trace(a, offset, axis1, axis2, dtype, out)`` raised TypeError (no ``out``
    parameter), unlike numpy's trace; ``out`` is now written and returned for plain arrays
    and a TypeError for traced values, like the other reductions."""
    x = np.arange(24.0).reshape(2, 3, 4)
    out = np.zeros(4)
    assert ea.trace(x, 0, 0, 1, None, out) is out
    np.testing.assert_array_equal(out, np.trace(x))
    with pytest.raises(TypeError, match="out= cannot be used with traced"):
        ea.grad(lambda a: ea.sum(ea.trace(a, out=np.zeros(4))))(x)


def test_comparisons_with_python_ints_outside_the_integer_dtype():
    """``ea.less(int8_array, 300)`` (and ``traced_int8 >= 300``, ``uint8_array > -1``)
    raised OverflowError from the weak-scalar cast, where numpy 2 compares the values and
    returns booleans. Such an int is now held as int64 (float64 beyond int64) for the
    comparison; arithmetic keeps numpy's OverflowError."""
    i8 = np.array([1, -2, 3], np.int8)
    u8 = np.array([0, 255], np.uint8)
    for name in ("less", "greater_equal", "equal", "not_equal"):
        for a, b in ((i8, 300), (300, i8), (u8, -1), (u8, 256), (np.array([5]), 2**70)):
            got, want = getattr(ea, name)(a, b), getattr(np, name)(a, b)
            assert got.dtype == want.dtype == bool
            np.testing.assert_array_equal(got, want)
    g = ea.grad(lambda t: ea.sum(ea.where(ea.astype(t, np.int8) < 300, t, 0.0)))(np.ones(2))
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_where_with_condition_alone_is_nonzero():
    """``ea.where(cond)`` raised TypeError (missing x and y) where numpy's one-argument
    ``where`` is ``nonzero(cond)``, the usual way to get indices from a mask. It returns
    numpy's index tuple now (from a traced condition's value), usable to index a traced
    array; giving only one of x and y is numpy's ValueError."""
    x = np.array([[1.0, -1.0], [0.0, 2.0]])
    for got, want in zip(ea.where(x > 0), np.where(x > 0)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ea.grad(lambda t: ea.sum(t[ea.where(t > 0)]))(x),
                                  [[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="both or neither"):
        ea.where(x > 0, x)


def test_clip_of_integer_array_ignores_python_int_bounds_that_cannot_bind():
    """``ea.clip(int8_array, 0, 300)`` raised OverflowError (the weak-scalar cast of 300 to
    int8) where numpy clips with the bound that can bind and ignores the one beyond the
    dtype's range on the harmless side; a bound beyond the range on the other side
    (``clip(int8_array, 300, None)``) is numpy's OverflowError still."""
    i8 = np.array([1, -2, 3], np.int8)
    for lo, hi in ((0, 300), (-300, 2), (-300, 300), (0, 2**70)):
        got, want = ea.clip(i8, lo, hi), np.clip(i8, lo, hi)
        assert got.dtype == want.dtype == np.int8
        np.testing.assert_array_equal(got, want)
    assert not np.shares_memory(ea.clip(i8, -300, 300), i8)
    with pytest.raises(OverflowError):
        ea.clip(i8, 300, None)


def test_mps_initialisation_stays_of_order_one_for_long_chains():
    """``nn.MPS`` started every core as identity + 0.05 noise whatever its size, while each
    random part grows the chain's norm by about ``1 + bond_dim * noise**2``: an MNIST-sized
    MPS (784 sites, bond 32) gave logits of ~1e16 at initialisation (and gradients alike),
    contrary to its docstring. The default noise is now ``1 / sqrt(num_sites * bond_dim)``,
    which keeps the product of order one for any length and bond."""
    from einsum_ad import nn

    rng = np.random.default_rng(0)
    for sites, bond in ((784, 32), (64, 10)):
        mps = nn.MPS(sites, 2, bond, 10)
        x = rng.uniform(size=(4, sites))
        logits = mps(mps.init(0), np.stack([np.ones_like(x), x], axis=-1))
        assert 0.1 < np.abs(logits).max() < 10.0
    assert nn.MPS(4, 2, 3, 2, noise=0.05).noise == 0.05


def test_concatenate_and_stack_take_numpys_out_dtype_casting():
    """``ea.concatenate(arrays, dtype=np.float32)`` (and ``out=``, ``casting=``; the same
    for ``stack``) raised TypeError (unexpected keyword), unlike numpy's. ``dtype`` casts
    each array (numpy's casting check first), ``out`` is written and returned for plain
    arrays; both together is numpy's TypeError."""
    x = np.arange(3.0)
    assert ea.concatenate([x, x], dtype=np.float32).dtype == np.float32
    assert ea.stack([x, x], dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="under the rule 'same_kind'"):
        ea.concatenate([x, x], dtype=np.int64)
    np.testing.assert_array_equal(ea.concatenate([x, x], dtype=np.int64, casting="unsafe"),
                                  np.concatenate([x, x], dtype=np.int64, casting="unsafe"))
    out = np.zeros(6)
    assert ea.concatenate([x, x], None, out) is out
    np.testing.assert_array_equal(out, np.concatenate([x, x]))
    g = ea.grad(lambda t: ea.sum(ea.stack([t, 2 * t], dtype=np.float32)))(x)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [3.0, 3.0, 3.0])


def test_astype_takes_numpys_copy_and_device():
    """``ea.astype(x, dtype, copy=False)`` raised TypeError (unexpected keyword) where numpy
    2's ``astype(x, dtype, /, *, copy=True, device=None)`` returns ``x`` itself when no cast
    is needed; the default still copies, as numpy."""
    x = np.arange(3.0)
    assert ea.astype(x, np.float64, copy=False) is x
    assert ea.astype(x, np.float64) is not x
    assert ea.astype(x, np.float32, copy=False, device="cpu").dtype == np.float32
    with pytest.raises(ValueError, match="device"):
        ea.astype(x, np.float32, device="gpu")


@pytest.mark.parametrize("make", [
    lambda a: [a, a.tolist()],                       # an array, then a list
    lambda a: [a.tolist(), a],                       # a list first
    lambda a: [a, a.astype(np.int8)],                # an integer array next to a float one
    lambda a: [a.astype(bool), a],                   # a bool array
    lambda a: [a, np.float64(2.0) * a[:, :1]],       # a view
])
def test_einsum_hot_path_checks_every_operand(make):
    """The einsum hot path (a spec met before) checks each operand's library and dtype by
    one lookup each: an operand it cannot take (a list, another dtype met for the first
    time) goes the general path, which converts it, with values as numpy's einsum; the
    same call repeated (now on the hot path) agrees."""
    a = np.arange(6.0).reshape(2, 3)
    ops = make(a)
    spec = "ij,ij->ij" if np.shape(ops[1]) == (2, 3) else "ij,ik->ijk"
    want = np.einsum(spec, *[np.asarray(o) for o in ops])
    for _ in range(2):
        got = ea.einsum(spec, *ops)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_einsum_hot_path_refuses_object_arrays_every_time():
    """An object array is no numeric operand: TypeError naming it, also on a second call
    whose spec and shapes the hot path has met (it checks dtypes by one set membership)."""
    a = np.ones((2, 2))
    ea.einsum("ij,jk->ik", a, a)
    for _ in range(2):
        with pytest.raises(TypeError, match="dtype object"):
            ea.einsum("ij,jk->ik", a, a.astype(object))


def test_handed_out_derivatives_own_their_memory():
    """Backend.handout (NumPy's in one frame): a derivative that is the cotangent itself,
    a read-only broadcast view, or the same array for two operands is copied, so that a
    user may update each in place; a fresh one is handed out as it is."""
    x = np.ones(3)
    ct = np.arange(3.0)
    _, fn = ea.vjp(lambda a, b: a + b, x, x)
    ga, gb = fn(ct)
    assert not np.shares_memory(ga, ct) and not np.shares_memory(gb, ct)
    assert not np.shares_memory(ga, gb)
    assert ga.flags.writeable and gb.flags.writeable
    g = ea.grad(lambda a: ea.sum(a))(np.ones((2, 3)))  # a broadcast of the unit cotangent
    assert g.flags.writeable
    g += 1.0
    np.testing.assert_array_equal(g, np.full((2, 3), 2.0))


class _Tagged(np.ndarray):
    """A user's ndarray subclass (as astropy's Quantity or a pandas-style wrapper are)."""


def _subclass_operands(kind, tmp_path):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    if kind == "masked":
        return np.ma.masked_array(a, mask=a < -0.5), np.ma.masked_array(b, mask=b > 0.8)
    if kind == "matrix":
        return np.matrix(a), np.matrix(b)
    if kind == "memmap":
        m = np.memmap(tmp_path / "a.bin", dtype=a.dtype, mode="w+", shape=a.shape)
        m[:] = a
        return m, b
    return a.view(_Tagged), b.view(_Tagged)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("kind", ["masked", "matrix", "memmap", "user"])
def test_ndarray_subclasses_are_read_as_plain_arrays_as_numpy_einsum_reads_them(kind,
                                                                               tmp_path):
    """An ndarray subclass went to the kernels as it was: masked operands of a matrix
    product crashed inside numpy.ma (``operands could not be broadcast together`` from its
    mask_or), an np.matrix came back as an np.matrix. Before the backend layer, and in
    numpy.einsum, they are read as plain arrays (a mask is not applied): the NumPy
    backend owns exactly ndarray and numpy's scalars, and reads subclasses like lists
    (``Backend.converts``), so a product's steps only ever meet exact ndarrays."""
    from einsum_ad import backend

    a, b = _subclass_operands(kind, tmp_path)
    assert backend.of(a) is None and backend.to_array(a).__class__ is np.ndarray
    want = np.einsum("ij,jk->ik", np.asarray(a), np.asarray(b))
    got = ea.einsum("ij,jk->ik", a, b)
    assert type(got) is np.ndarray
    np.testing.assert_allclose(got, want, rtol=1e-12)
    out, fn = ea.vjp(lambda x, y: ea.einsum("ij,jk->ik", x, y), a, b)
    ct = np.ones_like(np.asarray(want)).view(_Tagged)  # a subclass cotangent: read as well
    ga, gb = fn(ct)
    assert type(out) is np.ndarray and type(ga) is np.ndarray and type(gb) is np.ndarray
    np.testing.assert_allclose(ga, np.ones((3, 2)) @ np.asarray(b).T, rtol=1e-12)
    np.testing.assert_allclose(gb, np.asarray(a).T @ np.ones((3, 2)), rtol=1e-12)
    assert type(ea.sum(a)) in (np.float64, np.ndarray)


@pytest.mark.parametrize("spec, shapes", [
    (",->", [(), ()]),
    ("i,->i", [(3,), ()]),
    (",ij->ji", [(), (2, 3)]),
    ("i,i,->", [(4,), (4,), ()]),
    ("ij,jk,->ik", [(2, 3), (3, 4), ()]),
    ("ij,j,,->i", [(2, 3), (3,), (), ()]),
])
def test_numpy_scalar_operands_never_reach_a_products_unbound_methods(spec, shapes):
    """NumPy binds a matrix product's permutes and reshapes to ndarray's methods unbound
    (``Backend.product_steps``), which refuse numpy scalars: a product's operands keep
    the labels they contract, so numpy scalars (0-d operands, 0-d results) only ever meet
    broadcast multiplies, whose steps take them. Values and gradients of every operand."""
    rng = np.random.default_rng(4)
    ops = [np.float64(rng.standard_normal()) if s == () else rng.standard_normal(s)
           for s in shapes]
    np.testing.assert_allclose(ea.einsum(spec, *ops), np.einsum(spec, *ops), rtol=1e-12)
    grads = ea.grad(lambda *xs: ea.sum(ea.einsum(spec, *xs)), argnums=tuple(range(len(ops))))(
        *ops)
    for k, g in enumerate(grads):
        assert np.shape(g) == np.shape(ops[k])
    ea.check_grads(lambda *xs: ea.einsum(spec, *xs), [np.asarray(o) for o in ops], order=2)


def test_jit_of_a_gradient_on_torch_tensors_makes_its_constants_from_dtype_and_device():
    """``ea.jit(ea.value_and_grad(loss))`` on torch tensors raised einsum_ad.jit's "needs
    the value" error: relu's VJP makes a 0 like its operand, and the torch backend's
    ``const`` called ``like.new_full``, a method jit's abstract arrays do not have. A
    constant is made from the operand's dtype and device alone on every backend (the
    cross-backend transform table now runs vmap and jit, alone and composed, on each)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    W, x = rng.standard_normal((3, 4)), rng.standard_normal(4)

    def loss(W, x):
        return -ea.sum(ea.log_softmax(ea.relu(ea.einsum("ij,j->i", W, x)), axis=0))

    want_v, want_g = ea.value_and_grad(loss)(W, x)
    got_v, got_g = ea.jit(ea.value_and_grad(loss))(torch.from_numpy(W), torch.from_numpy(x))
    assert isinstance(got_g, torch.Tensor)
    np.testing.assert_allclose(float(got_v), want_v, rtol=1e-12)
    np.testing.assert_allclose(got_g.numpy(), want_g, rtol=1e-12, atol=1e-14)
