"""QA regressions: the set functions (``unique_*``)."""

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad import backend

try:
    import torch
except ImportError:  # the torch rows skip
    torch = None
try:
    import array_api_strict as xps
except ImportError:
    xps = None

CASES = {"nan_and_signed_zeros": [3.0, np.nan, 1.0, np.nan, 3.0, -0.0, 0.0],
         "matrix": [[2, 1], [1, 2]], "empty": np.zeros(0), "one": [5.0],
         "float32": np.array([2.0, 2.0, -1.0], np.float32)}


def _libraries():
    out = [pytest.param((np.asarray, np.asarray), id="numpy")]
    if torch is not None:
        out.append(pytest.param((lambda a: torch.from_numpy(np.asarray(a)),
                                 lambda t: t.numpy()), id="torch"))
    if xps is not None:
        out.append(pytest.param((lambda a: xps.asarray(np.asarray(a)), np.asarray),
                                id="array_api_strict"))
    return out


@pytest.mark.parametrize("library", _libraries())
@pytest.mark.parametrize("case", sorted(CASES))
def test_qa_unique_all_on_every_backend(case, library):
    """``ea.unique_all`` of a torch tensor raised NotImplementedError from inside
    array-api-compat (whose torch namespace has no ``unique_all``). The torch backend
    now takes the generic ``Backend.unique_all_by_sort`` (a stable sort, adjacent
    comparisons, a cumulative sum), which must give NumPy's four results on any
    library: NaNs distinct, -0.0 and 0.0 one value, the first occurrences' indices."""
    to_lib, to_np = library
    x = np.asarray(CASES[case])
    expected = np.unique_all(x)
    a = to_lib(x)
    for got in (ea.unique_all(a), backend.of(a).unique_all_by_sort(a)):
        assert got._fields == ("values", "indices", "inverse_indices", "counts")
        for g, e in zip(got, expected):
            g = to_np(g)
            assert g.shape == e.shape
            np.testing.assert_array_equal(g, e)
            assert np.array_equal(np.signbit(g), np.signbit(e)) or e.dtype.kind != "f"
        assert str(got.values.dtype).split(".")[-1] == x.dtype.name


UNIQUE_LOSSES = {
    "unique_values": lambda x: ea.sum(ea.unique_values(x) ** 2),
    "unique_all": lambda x: ea.sum(ea.unique_all(x).values ** 2),
    "unique_counts": lambda x: ea.sum(ea.unique_counts(x).values ** 3),
    "unique_inverse": lambda x: ea.sum(ea.sin(ea.unique_inverse(x).values)),
}


@pytest.mark.parametrize("library", _libraries())
@pytest.mark.parametrize("name", sorted(UNIQUE_LOSSES))
def test_qa_unique_values_are_differentiable(name, library):
    """The unique values of a traced array were computed on its value as constants, so
    ``grad(lambda x: sum(unique_values(x) ** 2))`` was silently zero (JAX gives ``2x``
    at the first occurrences). They are now ``x`` gathered at each value's first
    occurrence: the derivative of a unique value goes to the element it was read from
    (0 to later equal elements, as JAX), to second order, on every backend."""
    to_lib, to_np = library
    f = UNIQUE_LOSSES[name]
    x = np.array([[3.0, 1.0], [3.0, 2.5]])
    g = to_np(ea.grad(f)(to_lib(x)))
    first = np.array([[1.0, 1.0], [0.0, 1.0]])  # the second 3.0 is not a first occurrence
    d = {"unique_values": 2 * x, "unique_all": 2 * x, "unique_counts": 3 * x ** 2,
         "unique_inverse": np.cos(x)}[name]
    np.testing.assert_allclose(g, first * d, rtol=1e-13)
    if to_lib is np.asarray:
        ea.check_grads(f, (np.array([3.0, 1.0, 2.5, -0.5]),), order=2, modes=("fwd", "rev"))
        assert ea.unique_values(x).dtype == x.dtype
