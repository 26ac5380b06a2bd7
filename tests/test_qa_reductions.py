"""QA regressions: reductions (``max``/``min`` with ``where=``)."""

import numpy as np
import pytest

import einsum_ad as ea

X = np.array([[1.0, 10.0, 3.0], [2.0, 5.0, 10.0], [0.0, 0.0, 7.0]])
# (name, kwargs, expected gradient of the sum over axis 1, JAX's): ties split equally
# among the selected tied elements, then that maximum and initial split theirs (as
# maximum(max(selected), initial)); unselected elements get nothing and take no share
CASES = [
    ("max", dict(initial=10.0, where=np.array([True, False, True])),
     [[0, 0, 0], [0, 0, 0.5], [0, 0, 0]]),
    ("max", dict(initial=0.0, where=np.array([True, True, False])),
     [[0, 1, 0], [0, 1, 0], [0.25, 0.25, 0]]),
    ("min", dict(initial=0.0, where=np.array([True, True, False])),
     [[0, 0, 0], [0, 0, 0], [0.25, 0.25, 0]]),
    ("min", dict(initial=1.0, where=np.array([[True, False, False], [False, True, True],
                                              [False, False, True]])),
     [[0.5, 0, 0], [0, 0, 0], [0, 0, 0]]),
]


@pytest.mark.parametrize("name,kwargs,expected", CASES)
def test_qa_extremum_with_where_ties_only_selected_elements(name, kwargs, expected):
    """``max``/``min`` with ``where=`` replaced the unselected elements by ``initial``:
    where the selected maximum equalled ``initial``, every unselected element tied with
    it, so the derivative of the selected maximum was divided among them too (a quarter
    instead of a half, with two elements tied with initial and one unselected), silently.
    Unselected elements now take the dtype's lowest (highest) value and tie with none."""
    f = getattr(ea, name)
    g = ea.grad(lambda x: ea.sum(f(x, axis=1, **kwargs)))(X)
    np.testing.assert_allclose(g, np.array(expected, dtype=float), rtol=1e-14)
    np.testing.assert_array_equal(f(X, axis=1, **kwargs),
                                  getattr(np, name)(X, axis=1, **kwargs))
    _, t = ea.jvp(lambda x: f(x, axis=1, **kwargs), (X,), (np.ones_like(X),))
    np.testing.assert_allclose(t, np.sum(expected, axis=1), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.bool_, np.complex128])
def test_qa_extremum_with_where_values_of_other_dtypes(dtype):
    """The unselected elements' value is the dtype's own extreme: results of integer,
    boolean and complex arrays stay numpy's (an empty selection gives ``initial``)."""
    x = np.array([[1, 0, 3], [0, 1, 1]]).astype(dtype)
    for where in (np.array([True, False, True]), np.array([[False] * 3, [True] * 3])):
        for name, initial in (("max", x.dtype.type(0)), ("min", x.dtype.type(1))):
            got = getattr(ea, name)(x, axis=1, initial=initial, where=where)
            want = getattr(np, name)(x, axis=1, initial=initial, where=where)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
