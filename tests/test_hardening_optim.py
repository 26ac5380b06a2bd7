"""Issue 9, optimizers: states of the wrong kind, bad learning-rate values and updates of the
wrong shape raise, naming what was expected and what was given, instead of training wrongly."""

import math

import numpy as np
import pytest

from einsum_ad import optim

P = {"W": np.ones((2, 3)), "b": np.zeros(3)}
G = {"W": np.full((2, 3), 0.5), "b": np.ones(3)}


def _chain():
    return optim.chain(optim.clip_by_global_norm(1.0), optim.adam(0.1))


@pytest.mark.parametrize("state, error, match", [
    ((), ValueError, "state of 0 item"),
    (({},), ValueError, "state of 1 item"),
    (({}, {}, {}), ValueError, "state of 3 item"),
    (optim.adam(0.1).init(P), TypeError, "a dict with keys \\['count', 'mu', 'nu'\\]"),
    (None, TypeError, "given a NoneType"),
])
def test_chain_rejects_state_of_wrong_length(state, error, match):
    """``chain(...).update(grads, ())`` zipped the transforms with an empty state, ran none
    of them and returned the raw gradients as the updates: applied, gradient ascent with
    step 1. A state of another length or kind is refused now."""
    with pytest.raises(error, match=match):
        _chain().update(G, state, P)


def test_chain_with_its_own_state_still_steps():
    opt = _chain()
    upd, state = opt.update(G, opt.init(P), P)
    assert isinstance(state, tuple) and len(state) == 2
    assert all(np.all(u < 0) for u in upd.values())
    upd, state = opt.update(G, list(state), P)  # a list (e.g. reloaded) is a state too
    assert int(state[1]["count"]) == 2


@pytest.mark.parametrize("make, state_of, want, given", [
    (lambda: optim.sgd(0.1, momentum=0.9), lambda: optim.adam(0.1).init(P),
     "'count', 'velocity'", "state of adam or adamw"),
    (lambda: optim.adam(0.1), lambda: optim.sgd(0.1, momentum=0.9).init(P),
     "'count', 'mu', 'nu'", "state of sgd with momentum"),
    (lambda: optim.adamw(0.1), lambda: optim.sgd(0.1).init(P),
     "'count', 'mu', 'nu'", "state of sgd without momentum"),
    (lambda: optim.sgd(0.1), lambda: optim.adam(0.1).init(P),
     "\\['count'\\]", "state of adam or adamw"),
    (lambda: optim.adam(0.1), lambda: _chain().init(P), "'mu'", "state of a chain"),
    (lambda: optim.clip_by_global_norm(1.0), lambda: optim.adam(0.1).init(P),
     "an empty dict", "state of adam or adamw"),
])
def test_update_rejects_the_state_of_another_optimizer(make, state_of, want, given):
    """The state of another optimizer raised KeyError 'mu' / 'velocity' (or, for plain
    sgd given Adam's state, was accepted). It is a TypeError naming the state expected and
    the one given."""
    with pytest.raises(TypeError, match=want) as info:
        make().update(G, state_of(), P)
    assert given in str(info.value)


def test_update_rejects_a_state_initialised_for_other_shapes():
    """Moments initialised for parameters of another shape broadcast silently."""
    opt = optim.adam(0.1)
    state = opt.init({"W": np.ones((1, 3)), "b": np.zeros(3)})
    with pytest.raises(ValueError, match=r"'mu' has shape \(1, 3\) at \['W'\].*\(2, 3\)"):
        opt.update(G, state, P)
    with pytest.raises(ValueError, match="tree structures differ"):
        opt.update(G, opt.init({"W": np.ones((2, 3))}), P)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), -0.5])
@pytest.mark.parametrize("name, make", [
    ("sgd", lambda lr: optim.sgd(lr)), ("sgd", lambda lr: optim.sgd(lr, momentum=0.5)),
    ("adam", lambda lr: optim.adam(lr)), ("adamw", lambda lr: optim.adamw(lr)),
])
def test_schedule_returning_nan_inf_or_negative_raises_when_applied(name, make, value):
    """A schedule's NaN made every parameter NaN, inf sent them to -inf and a negative rate
    was ascent, all silently. The value is checked when it is applied: the error names the
    optimizer, the update count and the value."""
    opt = make(lambda count: 0.1 if count < 2 else value)
    state = opt.init(P)
    for _ in range(2):
        _, state = opt.update(G, state, P)
    with pytest.raises(ValueError, match=rf"^{name}: .*returned {value} for update 2"):
        opt.update(G, state, P)


@pytest.mark.parametrize("bad", ["0.1", None, np.ones(2)])
def test_schedule_returning_a_non_number_is_a_type_error(bad):
    opt = optim.adam(lambda count: bad)
    with pytest.raises(TypeError, match="adam: the learning-rate schedule returned"):
        opt.update(G, opt.init(P), P)


@pytest.mark.parametrize("make, error, match", [
    (lambda: optim.adam(float("inf")), ValueError, "adam: learning_rate must be a finite"),
    (lambda: optim.sgd(float("nan")), ValueError, "sgd: learning_rate"),
    (lambda: optim.adamw(-float("inf")), ValueError, "adamw: learning_rate"),
    (lambda: optim.adam(True), TypeError, "learning_rate must be a number or a schedule"),
    (lambda: optim.sgd("0.1"), TypeError, "got str '0.1'"),
    (lambda: optim.adam(0.1, eps=float("inf")), ValueError, "eps must be finite, got inf"),
    (lambda: optim.adamw(0.1, weight_decay=float("inf")), ValueError, "weight_decay"),
    (lambda: optim.adam(0.1, b1=float("nan")), ValueError, "b1 must lie in"),
    (lambda: optim.sgd(0.1, momentum="0.9"), TypeError, "momentum must be a real number"),
    (lambda: optim.clip_by_global_norm(float("nan")), ValueError, "max_norm"),
    (lambda: optim.clip_by_global_norm(float("inf")), ValueError, "max_norm"),
    (lambda: optim.constant_schedule(float("inf")), ValueError, "constant_schedule: value"),
    (lambda: optim.step_schedule(1.0, 2.5), TypeError, "step_size must be an integer"),
    (lambda: optim.step_schedule(1.0, 2, gamma=-0.5), ValueError, "gamma"),
    (lambda: optim.step_schedule(float("nan"), 2), ValueError, "init_value"),
    (lambda: optim.warmup_cosine_schedule(float("inf"), 1, 10), ValueError, "peak_value"),
    (lambda: optim.warmup_cosine_schedule(1.0, 1, 10, end_value=-1), ValueError,
     "end_value"),
    (lambda: optim.warmup_cosine_schedule(1.0, 1.5, 10), TypeError, "warmup_steps"),
])
def test_constructors_refuse_inf_nan_negative_and_non_numbers(make, error, match):
    """``adam(float("inf"))`` was accepted (the check was ``lr >= 0``); so were infinite
    eps, weight decay and schedule constants, and ``step_schedule(1.0, 2.5)`` stepped every
    2 updates."""
    with pytest.raises(error, match=match):
        make()


def test_schedules_still_accept_numpy_numbers():
    s = optim.warmup_cosine_schedule(np.float32(1.0), np.int64(2), np.int64(10))
    assert s(2) == pytest.approx(1.0)
    assert optim.sgd(np.float64(0.5)).update(np.ones(1), optim.sgd(0.5).init(np.ones(1)))[0] \
        == pytest.approx([-0.5])


@pytest.mark.parametrize("params, updates, match", [
    (np.zeros(3), np.zeros((2, 3)), r"update of params has shape \(2, 3\).*\(3,\)"),
    ({"W": np.zeros((2, 3)), "b": np.zeros(3)}, {"W": np.zeros((2, 3)), "b": np.zeros((4, 3))},
     r"params\['b'\] has shape \(4, 3\) but the parameter has shape \(3,\)"),
    ([{"W": np.zeros(2)}, {"W": np.zeros((2, 2))}], [{"W": np.zeros(2)}, {"W": np.zeros(2)}],
     r"params\[1\]\['W'\] has shape \(2,\)"),
    ({"s": np.float64(1.0)}, {"s": np.zeros(1)}, r"params\['s'\] has shape \(1,\).*\(\)"),
    ({"W": np.zeros(2)}, {"V": np.zeros(2)}, "do not match: the tree structures differ"),
])
def test_apply_updates_rejects_an_update_of_another_shape(params, updates, match):
    """``apply_updates`` added with numpy broadcasting: an update of shape (2, 3) turned a
    (3,) parameter into a (2, 3) one without a word."""
    with pytest.raises(ValueError, match=match):
        optim.apply_updates(params, updates)


def test_apply_updates_keeps_shapes_and_dtypes():
    params = {"a": np.ones(2, np.float32), "n": [np.float64(1.0)]}
    out = optim.apply_updates(params, {"a": np.array([0.5, 1.0]), "n": [0.25]})
    assert out["a"].dtype == np.float32 and out["a"].shape == (2,)
    assert math.isclose(float(out["n"][0]), 1.25)
