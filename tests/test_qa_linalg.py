"""QA regressions: ``ea.linalg``."""

import numpy as np
import pytest

import einsum_ad as ea

torch = pytest.importorskip("torch")

SINGULAR = {
    "inv": (ea.linalg.inv, np.zeros((2, 2))),
    "solve": (lambda a: ea.linalg.solve(a, a[:, 0]), np.zeros((2, 2))),
    "cholesky": (ea.linalg.cholesky, -np.eye(2)),
    "matrix_power": (lambda a: ea.linalg.matrix_power(a, -1), np.zeros((3, 2, 2))),
    "inv_vjp": (lambda a: ea.grad(lambda a: ea.sum(ea.linalg.solve(a, a[..., 0])))(a),
                np.zeros((2, 2))),
}


@pytest.mark.parametrize("name", sorted(SINGULAR))
def test_qa_linalg_errors_are_numpy_linalg_errors_on_torch(name):
    """A singular or indefinite matrix raised ``ea.linalg.LinAlgError`` (NumPy's, a
    ValueError) on NumPy and array-api-strict but torch's own ``_LinAlgError`` (a
    RuntimeError) on torch tensors, which ``except ea.linalg.LinAlgError`` does not catch.
    The backend's linalg calls now raise NumPy's on every library."""
    f, a = SINGULAR[name]
    with pytest.raises(ea.linalg.LinAlgError):
        f(a)
    with pytest.raises(ea.linalg.LinAlgError) as info:
        f(torch.tensor(a))
    assert isinstance(info.value, ValueError)
