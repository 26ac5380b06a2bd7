"""Fixtures of the cross-backend tests: ``backend`` runs a test on every array library
listed in ``_array_backends.BACKENDS`` (NumPy always; array-api-strict, torch, CuPy, ...
where installed, skipped with the reason otherwise)."""

import pytest
from _array_backends import backend_params


@pytest.fixture(params=backend_params())
def backend(request):
    """Each array backend in turn (an ``_array_backends.ArrayBackend``)."""
    return request.param


@pytest.fixture(params=[p for p in backend_params() if p.values[0].name != "numpy"])
def foreign(request):
    """Each array backend but NumPy's (conversions to and from NumPy)."""
    return request.param


def pytest_collection_modifyitems(items):
    # array-api-strict's dtypes hash like NumPy's and warn when compared with them; the
    # engine's caches hold both by design (einsum_ad.backend.array_api.make silences this
    # for einsum_ad's modules, but pytest resets warning filters around each test)
    mark = pytest.mark.filterwarnings(
        r"ignore:You are comparing a array_api_strict dtype:UserWarning:einsum_ad\.")
    for item in items:
        item.add_marker(mark)
