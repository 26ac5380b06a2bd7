"""QA regressions: the array API array object's operators on traced values."""

import numpy as np
import pytest

import einsum_ad as ea

X = np.array([3.5, -2.25, 7.0, -0.5])
Y = np.array([2.0, 1.5, -3.0, 0.75])
I = np.array([6, 5, 12, 9])
J = np.array([3, 1, 2, 4])

FLOAT_OPS = {  # operator form, namespace form
    "mod": (lambda a, b: a % b, ea.remainder),
    "rmod_scalar": (lambda a, b: 10.0 % a + a % 2.0, lambda a, b: ea.remainder(10.0, a)
                    + ea.remainder(a, 2.0)),
    "rmod_numpy": (lambda a, b: Y % a, lambda a, b: ea.remainder(Y, a)),
    "floordiv": (lambda a, b: (a // b) * a, lambda a, b: ea.floor_divide(a, b) * a),
    "rfloordiv": (lambda a, b: (7.0 // a) * b, lambda a, b: ea.floor_divide(7.0, a) * b),
}


@pytest.mark.parametrize("name", sorted(FLOAT_OPS))
def test_qa_remainder_and_floor_division_operators_on_traced_values(name):
    """``%`` and ``//`` (the array API's ``__mod__``, ``__floordiv__`` and their reflected
    forms) were missing on traced values: ``x % 1.0`` inside a differentiated function
    raised "unsupported operand type(s)", though ``ea.remainder`` differentiates, and a
    NumPy array on the left (``y % x``) raised TypeError from the ufunc protocol."""
    op, ref = FLOAT_OPS[name]
    val, grads = ea.value_and_grad(lambda a, b: ea.sum(op(a, b) * X), argnums=(0, 1))(X, Y)
    rval, rgrads = ea.value_and_grad(lambda a, b: ea.sum(ref(a, b) * X), argnums=(0, 1))(X, Y)
    np.testing.assert_allclose(val, rval, rtol=1e-14)
    for g, r in zip(grads, rgrads):
        np.testing.assert_allclose(g, r, rtol=1e-14)
    np.testing.assert_allclose(ea.vjp(lambda a: op(a, Y), X)[0], op(X, Y), rtol=1e-14)


INT_OPS = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
           "lshift": lambda a, b: a << b, "rshift": lambda a, b: a >> b,
           "rand": lambda a, b: 5 & a, "ror_numpy": lambda a, b: b | a,
           "invert": lambda a, b: ~a}


@pytest.mark.parametrize("name", sorted(INT_OPS))
def test_qa_bitwise_operators_on_traced_values(name):
    """The bitwise operators (``&``, ``|``, ``^``, ``<<``, ``>>``, ``~`` and the reflected
    forms) were missing on traced values; their results are integer constants under
    tracing, as ``ea.bitwise_and`` and the others are."""
    op = INT_OPS[name]
    seen = []

    def f(x):
        k = ea.astype(x, np.int64)  # an integer traced value
        r = op(k, J)
        seen.append(np.asarray(r))
        return ea.sum(x * ea.astype(r, x.dtype))

    g = ea.grad(f)(I.astype(float))
    expected = op(I, J)
    np.testing.assert_array_equal(seen[0], expected)
    np.testing.assert_array_equal(g, expected.astype(float))


def test_qa_array_namespace_of_traced_values():
    """``x.__array_namespace__()`` was missing on traced values, so array-API-generic code
    (``xp = x.__array_namespace__()``, array-api-compat's ``array_namespace(x)``) could
    not run inside a differentiated function. It returns einsum_ad's namespace."""
    def f(x):
        xp = x.__array_namespace__()
        assert xp.__array_api_version__ == "2024.12"
        return xp.sum(xp.sin(x) * xp.linalg.vector_norm(x))

    g = ea.grad(f)(X)
    n = np.linalg.norm(X)
    np.testing.assert_allclose(g, np.cos(X) * n + np.sum(np.sin(X)) * X / n, rtol=1e-13)
    with pytest.raises(ValueError, match="api_version"):
        ea.grad(lambda x: ea.sum(x.__array_namespace__(api_version="1999.01").sin(x)))(X)
