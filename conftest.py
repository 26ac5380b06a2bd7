"""Collection of the doctests (``--doctest-modules`` over ``einsum_ad``): a backend module
of a library that is not installed is not imported (its tests skip with the reason)."""

import importlib.util

collect_ignore = [path for library, path in (("torch", "einsum_ad/backend/torch.py"),
                                             ("cupy", "einsum_ad/backend/cupy.py"))
                  if importlib.util.find_spec(library) is None]
