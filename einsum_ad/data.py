"""Data helpers: a seeded, shuffling minibatch iterator and ``.npz`` save/load of pytrees."""

from __future__ import annotations

import json
import os

import numpy as np

from .tree import tree_flatten

__all__ = ["minibatches", "save_params", "load_params"]

_STRUCTURE_KEY = "__einsum_ad_structure__"


def minibatches(*arrays, batch_size: int, rng=None, shuffle: bool = True,
                drop_last: bool = False):
    """Iterate once over ``arrays`` (aligned along axis 0) in minibatches.

    Args:
        *arrays: arrays with the same length along axis 0 (inputs, labels, ...).
        batch_size: examples per batch (the last batch may be smaller unless ``drop_last``).
        rng: a ``numpy.random.Generator`` or an int seed for the shuffle. Pass the same
            Generator every epoch to get a different, reproducible order each epoch.
        shuffle: shuffle the examples (otherwise keep their order).
        drop_last: skip a final batch smaller than ``batch_size``.

    Returns:
        An iterator of tuples of arrays, one batch of each input array. The arguments are
        checked when ``minibatches`` is called (ValueError/TypeError), not at the first
        batch.

    Examples:
        >>> import numpy as np
        >>> x, y = np.arange(5), np.arange(5) * 10
        >>> [b[1].tolist() for b in minibatches(x, y, batch_size=2, shuffle=False)]
        [[0, 10], [20, 30], [40]]
        >>> [len(b[0]) for b in minibatches(x, batch_size=2, rng=0, drop_last=True)]
        [2, 2]
    """
    if not arrays:
        raise ValueError("minibatches: give at least one array")
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) \
            or batch_size < 1:
        raise ValueError(f"minibatches: batch_size must be a positive integer, got {batch_size!r}")
    arrays = [np.asarray(a) for a in arrays]
    for k, a in enumerate(arrays):
        if a.ndim == 0:
            raise ValueError(f"minibatches: array {k} is 0-d; arrays need a leading axis")
    n = len(arrays[0])
    for k, a in enumerate(arrays[1:], 1):
        if len(a) != n:
            raise ValueError(
                f"minibatches: array {k} has {len(a)} examples along axis 0, array 0 has {n}")
    if shuffle and not (rng is None or isinstance(rng, np.random.Generator) or (
            isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0)):
        raise TypeError(f"minibatches: rng must be a numpy.random.Generator, a non-negative "
                        f"int seed or None, got {rng!r}")
    # checked above, at the call; the batches are drawn lazily below
    return _batches(arrays, n, batch_size, rng, shuffle, drop_last)


def _batches(arrays, n, batch_size, rng, shuffle, drop_last):
    if shuffle:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        order = gen.permutation(n)
    else:
        order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield tuple(a[idx] for a in arrays)


# ------------------------------------------------------------------- save and load


def _encode(treedef, counter):
    """The tree structure as JSON-able nested lists; leaves numbered in flatten order."""
    if not isinstance(treedef, tuple):  # a leaf
        k = counter[0]
        counter[0] += 1
        return ["leaf", k]
    kind, aux, children = treedef
    if kind == "dict":
        for key in aux:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save_params: dict key {key!r} is a {type(key).__name__}; "
                                "only str and int keys can be saved")
        return ["dict", [[key, _encode(c, counter)] for key, c in zip(aux, children)]]
    if kind in ("list", "tuple"):
        return [kind, [_encode(c, counter) for c in children]]
    if kind == "none":
        return ["none"]
    raise TypeError(f"save_params: cannot save a tree node of kind {kind!r} "
                    "(use dicts, lists and tuples)")


def _decode(node, leaves):
    kind = node[0]
    if kind == "leaf":
        return leaves[node[1]]
    if kind == "dict":
        return {key: _decode(c, leaves) for key, c in node[1]}
    if kind == "list":
        return [_decode(c, leaves) for c in node[1]]
    if kind == "tuple":
        return tuple(_decode(c, leaves) for c in node[1])
    return None


def save_params(path, params) -> None:
    """Save a pytree of arrays (dicts, lists, tuples, None) to an ``.npz`` file.

    The structure is stored next to the leaves, so :func:`load_params` rebuilds the same
    tree. Nothing is pickled.

    Args:
        path: the file name (numpy adds ``.npz`` if it is missing).
        params: the pytree; dict keys must be str or int.
    """
    leaves, treedef = tree_flatten(params)
    structure = _encode(treedef, [0])
    arrays = {}
    for k, leaf in enumerate(leaves):
        arr = np.asarray(leaf)
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"save_params: leaf {k} has dtype {arr.dtype}; only numeric "
                            "arrays can be saved")
        arrays[f"leaf_{k}"] = arr
    arrays[_STRUCTURE_KEY] = np.asarray(json.dumps(structure))
    np.savez(os.fspath(path), **arrays)


def load_params(path):
    """Load a pytree saved by :func:`save_params`.

    ``path`` is the name given to :func:`save_params`: ``"params"`` finds the
    ``"params.npz"`` it wrote. A missing file is a FileNotFoundError naming it.

    Examples:
        >>> import numpy as np, tempfile, os
        >>> params = {"dense": [{"W": np.eye(2), "b": np.zeros(2)}], "scale": np.float64(2.0)}
        >>> with tempfile.TemporaryDirectory() as d:
        ...     save_params(os.path.join(d, "p.npz"), params)
        ...     back = load_params(os.path.join(d, "p.npz"))
        >>> back["dense"][0]["W"]
        array([[1., 0.],
               [0., 1.]])
    """
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path += ".npz"  # save_params(path) wrote path + ".npz" (numpy adds the suffix)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_params: no such file: {path!r}")
    data = np.load(path, allow_pickle=False)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"load_params: {path!r} is a single .npy array, not an .npz archive "
                         "written by save_params")
    with data:
        if _STRUCTURE_KEY not in data.files:
            raise ValueError(f"load_params: {path!r} was not written by save_params "
                             f"(no {_STRUCTURE_KEY} entry)")
        structure = json.loads(str(data[_STRUCTURE_KEY]))
        leaves = [data[f"leaf_{k}"] for k in range(len(data.files) - 1)]
    return _decode(structure, leaves)
