"""Property-based: random valid einsum expressions, forward against numpy, derivatives against
finite differences (first and second order, both modes).

Expressions have 1 to 5 operands, repeated indices, ``...`` with broadcasting (operands of
different ranks, size-1 dims), size-1 broadcasting of named indices, size-0 dims, implicit and
explicit outputs, and are written in the string or the interleaved form.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import einsum_ad as ea

LETTERS = "abcdefg"
PROFILE = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def expressions(draw, max_operands=5, allow_zero=True):
    n = draw(st.integers(1, max_operands))
    pool = LETTERS[: draw(st.integers(1, len(LETTERS)))]
    size_choices = [1, 2, 3, 0] if allow_zero and draw(st.integers(0, 9)) == 0 else [1, 2, 3]
    sizes = {c: draw(st.sampled_from(size_choices)) for c in pool}
    use_ell = draw(st.booleans()) and draw(st.booleans())
    ell_shape = [draw(st.sampled_from([1, 2, 3])) for _ in range(draw(st.integers(0, 2)))]
    terms, shapes = [], []
    for _ in range(n):
        labels = draw(st.lists(st.sampled_from(pool), min_size=0, max_size=3))
        shape = []
        for lab in labels:
            repeated = labels.count(lab) > 1
            d = sizes[lab]
            if not repeated and d > 1 and draw(st.integers(0, 7)) == 0:
                d = 1  # numpy broadcasts a size-1 axis of a named index
            shape.append(d)
        term = "".join(labels)
        if use_ell and draw(st.booleans()):
            k = draw(st.integers(0, len(ell_shape)))
            eshape = [draw(st.sampled_from([1, d])) for d in ell_shape[len(ell_shape) - k:]]
            at = draw(st.integers(0, len(labels)))
            term = term[:at] + "..." + term[at:]
            shape = shape[:at] + eshape + shape[at:]
        terms.append(term)
        shapes.append(tuple(shape))
    present = sorted(set("".join(terms).replace(".", "")))
    has_ell = any("..." in t for t in terms)
    if draw(st.booleans()):
        subscripts = ",".join(terms)  # implicit output
    else:
        out = draw(st.permutations(present))
        out = "".join(out[: draw(st.integers(0, len(out)))])
        if has_ell:
            at = draw(st.integers(0, len(out)))
            out = out[:at] + "..." + out[at:]
        subscripts = ",".join(terms) + "->" + out
    interleaved = draw(st.booleans()) and draw(st.booleans())
    return subscripts, shapes, interleaved


def to_interleaved(subscripts, ops):
    lhs, _, rhs = subscripts.partition("->")

    def sub(term):
        out, i = [], 0
        while i < len(term):
            if term[i] == ".":
                out.append(Ellipsis)
                i += 3
            else:
                out.append(LETTERS.index(term[i]))
                i += 1
        return out

    args = []
    for term, op in zip(lhs.split(","), ops):
        args += [op, sub(term)]
    if "->" in subscripts:
        args.append(sub(rhs))
    return args


def make_f(subscripts, interleaved):
    if interleaved:
        return lambda *ops: ea.einsum(*to_interleaved(subscripts, ops))
    return lambda *ops: ea.einsum(subscripts, *ops)


def operands(shapes, seed):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1, 1, s) for s in shapes)


@PROFILE
@given(expressions(), st.integers(0, 2**16))
def test_forward_matches_numpy(expr, seed):
    subscripts, shapes, interleaved = expr
    ops = operands(shapes, seed)
    want = np.einsum(subscripts, *ops, optimize=False)
    got = make_f(subscripts, interleaved)(*ops)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@settings(PROFILE, max_examples=120)
@given(expressions(max_operands=4), st.integers(0, 2**16))
def test_derivatives_first_and_second_order(expr, seed):
    subscripts, shapes, interleaved = expr
    ops = operands(shapes, seed)
    ea.check_grads(make_f(subscripts, interleaved), ops, order=2, modes=("rev", "fwd"),
                   seed=seed)


@settings(PROFILE, max_examples=40)
@given(expressions(max_operands=5, allow_zero=False), st.integers(0, 2**16),
       st.sampled_from(["greedy", "optimal", False, "dp"]))
def test_optimizers_agree_on_gradients(expr, seed, optimize):
    subscripts, shapes, _ = expr
    ops = operands(shapes, seed)
    f_auto = lambda *o: ea.einsum(subscripts, *o)
    f_opt = lambda *o: ea.einsum(subscripts, *o, optimize=optimize)
    out, vjp_auto = ea.vjp(f_auto, *ops)
    _, vjp_opt = ea.vjp(f_opt, *ops)
    ct = np.random.default_rng(seed).uniform(-1, 1, np.shape(out))
    for a, b in zip(vjp_auto(ct), vjp_opt(ct)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
