"""The minibatch iterator and npz save/load of pytrees."""

import numpy as np
import pytest

from einsum_ad.data import load_params, minibatches, save_params


def test_minibatches_cover_every_example_once_and_stay_aligned():
    x = np.arange(10)
    y = np.arange(10) * 100
    seen = []
    for bx, by in minibatches(x, y, batch_size=3, rng=1):
        np.testing.assert_array_equal(by, bx * 100)
        seen.extend(bx.tolist())
    assert sorted(seen) == list(range(10))
    assert seen != list(range(10))  # shuffled


def test_minibatches_are_seeded_and_a_generator_reshuffles_each_epoch():
    x = np.arange(20)

    def order(rng):
        return np.concatenate([b[0] for b in minibatches(x, batch_size=4, rng=rng)])

    np.testing.assert_array_equal(order(7), order(7))
    gen = np.random.default_rng(7)
    first, second = order(gen), order(gen)
    np.testing.assert_array_equal(first, order(7))
    assert not np.array_equal(first, second)
    gen2 = np.random.default_rng(7)
    order(gen2)
    np.testing.assert_array_equal(order(gen2), second)


def test_minibatches_sizes_and_drop_last():
    x = np.zeros((7, 2))
    assert [len(b[0]) for b in minibatches(x, batch_size=3, shuffle=False)] == [3, 3, 1]
    assert [len(b[0]) for b in minibatches(x, batch_size=3, rng=0, drop_last=True)] == [3, 3]
    batches = list(minibatches(x, batch_size=10, shuffle=False))
    assert len(batches) == 1 and batches[0][0].shape == (7, 2)


@pytest.mark.parametrize("args, kwargs, match", [
    ((np.zeros(3), np.zeros(4)), {"batch_size": 2}, "array 1 has 4 examples"),
    ((np.zeros(3),), {"batch_size": 0}, "batch_size"),
    ((np.zeros(3),), {"batch_size": 1.5}, "batch_size"),
    ((np.float64(1.0),), {"batch_size": 1}, "0-d"),
    ((), {"batch_size": 1}, "at least one array"),
])
def test_minibatches_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        list(minibatches(*args, **kwargs))


def test_save_load_round_trip_keeps_structure_dtypes_and_values(tmp_path):
    params = {
        "layers": [{"W": np.arange(6.0).reshape(2, 3), "b": np.zeros(2, np.float32)},
                   {"W": np.ones((1, 2)), "b": None}],
        "emb": (np.eye(2, dtype=np.complex128), np.array(3, dtype=np.int64)),
        "by_int": {7: np.float64(0.5), 2: np.ones(1)},
    }
    path = tmp_path / "params.npz"
    save_params(path, params)
    back = load_params(path)
    assert set(back) == {"layers", "emb", "by_int"}
    assert isinstance(back["layers"], list) and isinstance(back["emb"], tuple)
    assert back["layers"][1]["b"] is None
    np.testing.assert_array_equal(back["layers"][0]["W"], params["layers"][0]["W"])
    assert back["layers"][0]["b"].dtype == np.float32
    assert back["emb"][0].dtype == np.complex128 and back["emb"][1].shape == ()
    assert float(back["by_int"][7]) == 0.5 and set(back["by_int"]) == {2, 7}


def test_load_rejects_a_foreign_npz_and_save_rejects_odd_trees(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not written by save_params"):
        load_params(tmp_path / "other.npz")
    with pytest.raises(TypeError, match="dict key"):
        save_params(tmp_path / "x.npz", {(1, 2): np.ones(1)})
    with pytest.raises(TypeError, match="dtype"):
        save_params(tmp_path / "x.npz", {"a": np.array(["text"])})
