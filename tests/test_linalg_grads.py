"""``ea.linalg``'s derivatives: VJP and JVP to second order against finite differences.

One row per function (and per case that takes another path: tall, wide, full, batched,
complex), checked with ``ea.check_grads(order=2, modes=("fwd", "rev"))`` on NumPy and, for
the factorisations and solves, on array-api-strict; edge inputs (ill-conditioned matrices,
repeated eigenvalues and singular values, singular matrices); float32 against float64; and,
where JAX is installed, against ``jax.numpy.linalg`` in float64.

Eigenvectors and singular vectors are defined up to a sign (a phase): complex rows, and
rows whose result includes an arbitrary completion, differentiate functions that do not
depend on that choice.
"""

import importlib.util
from functools import partial

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad import backend as B
from einsum_ad import rules

pytestmark = pytest.mark.filterwarnings("ignore:You are comparing a array_api_strict dtype")

HAS_STRICT = importlib.util.find_spec("array_api_strict") is not None
L = ea.linalg
rng = np.random.default_rng(7)


def _rand(shape, kind):
    x = rng.standard_normal(shape)
    return x + 1j * rng.standard_normal(shape) if kind == "c" else x


def gen(*shape):
    return lambda kind: _rand(shape, kind)


def square(*shape):
    n = shape[-1]
    return lambda kind: _rand(shape, kind) + 2 * n ** 0.5 * np.eye(n)


def hpd(*shape):
    def make(kind):
        a = _rand(shape, kind)
        return a @ np.conj(np.swapaxes(a, -1, -2)) + shape[-1] * np.eye(shape[-1])
    return make


def conditioned(n, cond, kind="f"):
    """A matrix with singular values log-spaced from 1 to 1/cond."""
    u, _ = np.linalg.qr(_rand((n, n), kind))
    v, _ = np.linalg.qr(_rand((n, n), kind))
    return u @ np.diag(np.logspace(0, -np.log10(cond), n)) @ np.conj(v.T)


def spectrum(values, kind="f"):
    """A Hermitian matrix with the given eigenvalues (repeated ones welcome)."""
    q, _ = np.linalg.qr(_rand((len(values), len(values)), kind))
    return q @ np.diag(values) @ np.conj(q.T)


def singular(values, kind="f"):
    """A square matrix with the given singular values."""
    n = len(values)
    u, _ = np.linalg.qr(_rand((n, n), kind))
    v, _ = np.linalg.qr(_rand((n, n), kind))
    return u @ np.diag(values) @ np.conj(v.T)


def conj(x):
    return rules.conj_p(x) if B.kind(x.dtype) == "c" else x


def phases_out(v):
    """``v * conj(v)``: each column's phase (sign) cancels."""
    return v * conj(v)


def projector(q):
    """``q H(q)``: the projector on the columns of ``q``, whatever basis they are."""
    return ea.einsum("...ij,...kj->...ik", q, conj(q))


def eigh_invariants(res):
    w, v = res
    return w, phases_out(v), ea.einsum("...ij,...j,...kj->...ik", v, rules.astype_p(
        ea.exp(w), dtype=v.dtype), conj(v))


def svd_invariants(res, k=None):
    """s, the thin factors' phase-free entries, ``U1 diag(exp(-s)) Vh1``, and the
    projectors on a full SVD's completions."""
    u, s, vh = res
    k = s.shape[-1]
    u1, vh1 = u[..., :, :k], vh[..., :k, :]
    out = [s, phases_out(u1), phases_out(vh1),
           ea.einsum("...ij,...j,...jk->...ik", u1, rules.astype_p(ea.exp(-s), dtype=u.dtype),
                     vh1)]
    if u.shape[-1] > k:
        out.append(projector(u[..., :, k:]))
    if vh.shape[-2] > k:
        out.append(projector(ea.linalg.matrix_transpose(vh[..., k:, :])))
    return tuple(out)


def qr_invariants(res):
    q, r = res
    k = min(q.shape[-2], r.shape[-1])
    out = (q[..., :, :k], r)
    return out + ((projector(q[..., :, k:]),) if q.shape[-1] > k else ())


INF = np.inf

# (id, function, input makers, kinds, options for check_grads)
GRADS = [
    ("inv", L.inv, [square(2, 3, 3)], "fc", {}),
    ("solve", L.solve, [square(2, 3, 3), gen(2, 3, 2)], "fc", {}),
    ("solve-vector", L.solve, [square(2, 3, 3), gen(3)], "f", {}),
    ("solve-broadcast", L.solve, [square(3, 3), gen(2, 3, 2)], "f", {}),
    ("det", L.det, [square(2, 3, 3)], "fc", {}),
    ("slogdet", lambda a: tuple(L.slogdet(a)), [square(2, 3, 3)], "fc", {}),
    ("cholesky", L.cholesky, [hpd(2, 3, 3)], "fc", {}),
    ("cholesky-upper", lambda a: L.cholesky(a, upper=True), [hpd(3, 3)], "fc", {}),
    ("eigh", lambda a: tuple(L.eigh(a)), [gen(2, 3, 3)], "f", {}),
    ("eigh-invariants", lambda a: eigh_invariants(L.eigh(a)), [gen(2, 3, 3)], "fc", {}),
    ("eigh-upper", lambda a: eigh_invariants(L.eigh(a, "U")), [gen(3, 3)], "fc", {}),
    ("eigvalsh", L.eigvalsh, [gen(2, 4, 4)], "fc", {}),
    ("svd-thin-tall", lambda a: svd_invariants(L.svd(a, False)), [gen(2, 4, 3)], "fc", {}),
    ("svd-thin-wide", lambda a: svd_invariants(L.svd(a, False)), [gen(3, 5)], "fc", {}),
    ("svd-square", lambda a: tuple(L.svd(a)), [gen(2, 3, 3)], "f", {}),
    ("svd-full-tall", lambda a: svd_invariants(L.svd(a)), [gen(4, 2)], "fc", {}),
    ("svd-full-wide", lambda a: svd_invariants(L.svd(a)), [gen(2, 2, 4)], "fc", {}),
    ("svd-hermitian", lambda a: svd_invariants(L.svd(a, hermitian=True)), [gen(3, 3)], "f",
     {}),
    ("svdvals", L.svdvals, [gen(2, 4, 3)], "fc", {}),
    ("qr-tall", lambda a: tuple(L.qr(a)), [gen(2, 4, 3)], "fc", {}),
    ("qr-wide", lambda a: tuple(L.qr(a)), [gen(2, 3, 5)], "fc", {}),
    ("qr-complete-tall", lambda a: qr_invariants(L.qr(a, "complete")), [gen(4, 2)], "fc",
     {}),
    ("qr-r", lambda a: L.qr(a, "r"), [gen(4, 3)], "f", {}),
    ("pinv-tall", L.pinv, [gen(2, 4, 3)], "fc", {}),
    ("pinv-wide", L.pinv, [gen(3, 5)], "fc", {}),
    ("pinv-hermitian", lambda a: L.pinv(a, hermitian=True), [gen(3, 3)], "f", {}),
    ("lstsq", lambda a, b: (lambda r: (r[0], r[1], r[3]))(L.lstsq(a, b)),
     [gen(5, 3), gen(5, 2)], "fc", {}),
    ("lstsq-wide", lambda a, b: L.lstsq(a, b)[0], [gen(2, 4), gen(2)], "f", {}),
    ("matrix_power-3", lambda a: L.matrix_power(a, 3), [square(2, 3, 3)], "fc", {}),
    ("matrix_power--2", lambda a: L.matrix_power(a, -2), [square(3, 3)], "fc", {}),
    ("matrix_power-0", lambda a: L.matrix_power(a, 0), [square(3, 3)], "f", {}),
    ("matrix_rank", lambda a: ea.sum(a) * L.matrix_rank(a), [gen(3, 3)], "f", {}),
    *[(f"matrix_norm-{o}", partial(L.matrix_norm, ord=o), [gen(2, 3, 4)],
       "fc", {}) for o in ("fro", "nuc", 1, -1, 2, -2, INF, -INF)],
    *[(f"vector_norm-{o}", partial(L.vector_norm, axis=-1, ord=o),
       [gen(2, 4)], "fc", {}) for o in (2, 1, INF, -INF, 0, -1, 3, 0.5)],
    ("vector_norm-keepdims", lambda a: L.vector_norm(a, axis=(0, 2), keepdims=True),
     [gen(2, 3, 2)], "f", {}),
    ("norm-matrix-axes", lambda a: L.norm(a, "nuc", (2, 0)), [gen(3, 2, 4)], "f", {}),
    ("norm-vector", lambda a: L.norm(a, 3, 0), [gen(3, 2)], "f", {}),
    ("cond", L.cond, [square(2, 3, 3)], "f", {}),
    ("cond-1", lambda a: L.cond(a, 1), [square(3, 3)], "f", {}),
    ("cross", L.cross, [gen(2, 3), gen(3)], "fc", {}),
    ("outer", L.outer, [gen(3), gen(2)], "f", {}),
    ("diagonal", lambda a: L.diagonal(a, offset=1), [gen(2, 3, 4)], "f", {}),
    ("trace", L.trace, [gen(2, 3, 3)], "f", {}),
    ("tensordot", lambda a, b: L.tensordot(a, b, axes=1), [gen(2, 3), gen(3, 2)], "f", {}),
    ("vecdot", L.vecdot, [gen(2, 3), gen(3)], "fc", {}),
    ("matmul", L.matmul, [gen(2, 3), gen(3, 2)], "f", {}),
    ("matrix_transpose", L.matrix_transpose, [gen(2, 3)], "f", {}),
    ("multi_dot", lambda a, b, c: L.multi_dot([a, b, c]), [gen(3), gen(3, 2), gen(2, 2)], "f",
     {}),
]
GRAD_CASES = [pytest.param(name, f, makers, kind, opts, id=f"{name}-{kind}")
              for name, f, makers, kinds, opts in GRADS for kind in kinds]


@pytest.mark.parametrize("name, f, makers, kind, opts", GRAD_CASES)
def test_derivatives_to_second_order(name, f, makers, kind, opts):
    args = tuple(m(kind) for m in makers)
    ea.check_grads(f, args, order=2, modes=("fwd", "rev"), **opts)


# the factorisations and solves, on a backend that refuses anything outside the standard
STRICT = ["inv", "solve", "det", "slogdet", "cholesky", "eigh-invariants", "eigvalsh",
          "svd-thin-tall", "svd-full-wide", "svdvals", "qr-wide", "qr-complete-tall",
          "pinv-tall", "matrix_norm-nuc", "matrix_power--2", "cross"]
STRICT_CASES = [c for c in GRAD_CASES if c.values[0] in STRICT]


@pytest.mark.skipif(not HAS_STRICT, reason="array-api-strict is not installed")
@pytest.mark.parametrize("name, f, makers, kind, opts", STRICT_CASES)
def test_derivatives_on_array_api_strict(name, f, makers, kind, opts):
    import array_api_strict as xp
    args = tuple(xp.asarray(m(kind)) for m in makers)
    ea.check_grads(f, args, order=2, modes=("fwd", "rev"), **opts)


# ------------------------------------------------------------------ edge inputs

EDGES = [
    # ill-conditioned but invertible (condition number 100; order 1 at 1e5)
    ("inv-cond1e2", L.inv, lambda: (conditioned(4, 1e2),), 2, {}),
    ("solve-cond1e2", L.solve, lambda: (conditioned(4, 1e2), _rand((4, 2), "f")), 2, {}),
    ("slogdet-cond1e2", lambda a: L.slogdet(a)[1], lambda: (conditioned(4, 1e2),), 2, {}),
    ("det-cond1e2-complex", L.det, lambda: (conditioned(3, 1e2, "c"),), 2, {}),
    ("inv-cond1e5", L.inv, lambda: (conditioned(4, 1e5),), 1, {"eps": 1e-9, "rtol": 1e-4}),
    ("cholesky-cond1e3", L.cholesky,
     lambda: ((lambda c: c @ c.T)(conditioned(4, 3e1)),), 2, {"rtol": 1e-4}),
    # repeated eigenvalues: the eigenvalues' symmetric functions are exact at first order
    ("eigvalsh-repeated-sum-exp", lambda a: ea.sum(ea.exp(L.eigvalsh(a))),
     lambda: (spectrum([2.0, 2.0, 1.0, -1.0]),), 1, {}),
    ("eigvalsh-repeated-squares", lambda a: ea.sum(L.eigvalsh(a) ** 2),
     lambda: (spectrum([1.0, 1.0, 1.0]),), 1, {}),
    ("eigvalsh-repeated-complex", lambda a: ea.sum(ea.exp(L.eigvalsh(a))),
     lambda: (spectrum([2.0, 2.0, 0.5], "c"),), 1, {}),
    ("eigvalsh-repeated-trace", lambda a: ea.sum(L.eigvalsh(a)),
     lambda: (spectrum([3.0, 3.0, 3.0, 1.0]),), 2, {}),
    ("eigh-repeated-values", lambda a: ea.sum(ea.exp(L.eigh(a).eigenvalues)),
     lambda: (spectrum([2.0, 2.0, 1.0]),), 1, {}),
    # ... and so are the projectors on a degenerate eigenspace (singular space)
    ("eigh-repeated-projector", lambda a: projector(L.eigh(a).eigenvectors[..., :, 1:]),
     lambda: (spectrum([2.0, 2.0, 1.0]),), 1, {}),
    ("eigh-repeated-projector-complex",
     lambda a: projector(L.eigh(a).eigenvectors[..., :, :2]),
     lambda: (spectrum([1.0, 1.0, 3.0, 4.0], "c"),), 1, {}),
    ("svd-repeated-projector", lambda a: projector(L.svd(a).U[..., :, 1:3]),
     lambda: (singular([3.0, 2.0, 2.0, 1.0]),), 1, {}),
    ("slogdet-repeated", lambda a: L.slogdet(a)[1], lambda: (spectrum([2.0, 2.0, 0.5]),), 2,
     {}),
    ("svdvals-repeated", lambda a: ea.sum(L.svdvals(a) ** 2),
     lambda: (singular([2.0, 2.0, 1.0, 0.5]),), 1, {}),
    ("svdvals-repeated-complex", lambda a: ea.sum(ea.exp(L.svdvals(a))),
     lambda: (singular([2.0, 2.0, 1.0], "c"),), 1, {}),
    # the nuclear norm's gradient U Vh is exact at repeated singular values, its
    # derivative too (the 1/(s_i + s_j) part of the SVD's rule)
    ("nuclear-norm-repeated", lambda a: L.matrix_norm(a, ord="nuc"),
     lambda: (singular([2.0, 2.0, 1.0, 0.5]),), 2, {}),
    ("nuclear-norm-identity", lambda a: L.matrix_norm(a, ord="nuc"),
     lambda: (3 * np.eye(3),), 2, {}),
    ("nuclear-norm-repeated-tall", lambda a: L.matrix_norm(a, ord="nuc"),
     lambda: (singular([1.5, 1.5, 0.5])[:, :2] @ np.diag([1.0, 1.0]),), 2, {}),
    # singular matrices: det's gradient is the adjugate, its Hessian the (n-2)-minors
    ("det-rank-n-1", L.det, lambda: (singular([2.0, 1.0, 0.0]),), 2, {}),
    ("det-rank-n-2", L.det, lambda: (singular([2.0, 0.0, 0.0, 1.0]),), 2, {}),
    ("det-zero", L.det, lambda: (np.zeros((3, 3)),), 2, {}),
    ("det-singular-complex", L.det, lambda: (singular([1.0, 0.0, 2.0], "c"),), 2, {}),
    # a cutoff that discards singular values that are not zero: the truncation's terms
    ("pinv-truncating", lambda a: L.pinv(a, rtol=0.5), lambda: (singular([3.0, 2.0, 1.0]),),
     2, {}),
    ("pinv-truncating-tall-complex", lambda a: L.pinv(a, rtol=0.4),
     lambda: (singular([3.0, 2.0, 1.0, 0.5], "c")[:, :3],), 2, {}),
    ("lstsq-truncating", lambda a, b: L.lstsq(a, b, rcond=0.3)[0],
     lambda: (singular([3.0, 1.5, 0.5])[:, :2] @ np.diag([1.0, 0.2]), _rand((3,), "f")), 2,
     {}),
    # batched, with size-1 batch axes broadcasting in solve
    ("solve-batch-broadcast", L.solve, lambda: (square(2, 1, 3, 3)("f"), gen(3, 3, 1)("f")),
     2, {}),
]


@pytest.mark.parametrize("name, f, make, order, opts", EDGES, ids=[e[0] for e in EDGES])
def test_derivatives_at_edge_inputs(name, f, make, order, opts):
    ea.check_grads(f, make(), order=order, modes=("fwd", "rev"), **opts)


def test_det_gradient_is_the_cofactor_matrix_at_a_singular_matrix():
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])  # rank 2
    cof = np.array([[np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) * (-1) ** (i + j)
                     for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(ea.grad(L.det)(a), cof, atol=1e-12)
    assert np.all(np.isfinite(ea.hessian(L.det)(a)))
    # the Hessian of a 2x2 determinant ad - bc is constant
    h = ea.hessian(L.det)(np.zeros((2, 2)))
    want = np.zeros((2, 2, 2, 2))
    want[0, 0, 1, 1] = want[1, 1, 0, 0] = 1
    want[0, 1, 1, 0] = want[1, 0, 0, 1] = -1
    np.testing.assert_allclose(h, want, atol=1e-12)


def test_eigenvector_terms_of_repeated_eigenvalues_are_taken_as_zero():
    """What a loss that depends on the basis of a degenerate space gets: the 1/(w_j - w_i)
    factors of equal eigenvalues are 0, so the derivative is finite, and exact for the
    eigenvalues and for functions of the degenerate space's projector."""
    a = spectrum([1.0, 1.0, 3.0])
    g = ea.grad(lambda a: ea.sum(L.eigh(a).eigenvectors[:, 0] ** 2))(a)
    assert np.all(np.isfinite(g))
    # second derivatives of eigenvalue functions at repeated values: finite
    h = ea.hessian(lambda a: ea.sum(L.eigvalsh(a) ** 2))(a)
    assert np.all(np.isfinite(h))
    # computed "repeated" values may differ by rounding: they still count as repeated, so
    # the Hessian of the trace is 0, not rounding noise times 1 / (w_j - w_i) ~ 1e16
    h2 = ea.hessian(lambda a: ea.sum(L.eigvalsh(a)))(a)
    np.testing.assert_allclose(h2, 0, atol=1e-10)


def test_spectral_norm_at_a_tie_is_a_subgradient():
    """At a repeated largest singular value the 2-norm has no derivative; its gradient is
    ``u v^H`` of a top singular pair (ties in the computed values split evenly, as
    ``max``), a subgradient: of nuclear norm 1, its inner product with ``a`` the norm."""
    a = singular([2.0, 2.0, 1.0])
    g = ea.grad(lambda a: L.matrix_norm(a, ord=2))(a)
    np.testing.assert_allclose(np.sum(g * a), 2.0, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(g, "nuc"), 1.0, rtol=1e-12)  # the dual norm


# ------------------------------------------------------------------ float32

F32 = ["inv", "solve", "det", "slogdet", "cholesky", "eigh-invariants", "eigvalsh",
       "svd-thin-tall", "svdvals", "qr-tall", "pinv-tall", "matrix_norm-nuc", "cross",
       "lstsq", "matrix_power--2"]
F32_CASES = [c for c in GRAD_CASES if c.values[0] in F32]


def _vjp_and_jvp(f, args, seed):
    r = np.random.default_rng(seed)
    out, fn = ea.vjp(f, *args)
    outs = out if isinstance(out, tuple) else (out,)
    us = tuple(r.standard_normal(np.shape(o)).astype(np.asarray(o).dtype) for o in outs)
    cts = fn(us if isinstance(out, tuple) else us[0])
    tans = tuple(r.standard_normal(np.shape(a)).astype(np.asarray(a).dtype) for a in args)
    _, t = ea.jvp(f, args, tans)
    return cts, t if isinstance(t, tuple) else (t,)


@pytest.mark.parametrize("name, f, makers, kind, opts", F32_CASES)
def test_float32_derivatives_agree_with_float64(name, f, makers, kind, opts):
    """Rules keep float32 (complex64): no silent upcast, values within float32 rounding."""
    args64 = tuple(m(kind) for m in makers)
    args32 = tuple(a.astype(np.complex64 if kind == "c" else np.float32) for a in args64)
    cts64, tan64 = _vjp_and_jvp(f, args64, 0)
    cts32, tan32 = _vjp_and_jvp(f, args32, 0)
    for g32, g64 in zip(cts32 + tan32, cts64 + tan64):
        g32 = np.asarray(g32)
        assert g32.dtype in (np.float32, np.complex64), (name, g32.dtype)
        scale = max(1.0, float(np.max(np.abs(g64), initial=0.0)))
        np.testing.assert_allclose(g32, g64, rtol=2e-3, atol=2e-3 * scale, err_msg=name)


# ------------------------------------------------------------------ against JAX

HAS_JAX = importlib.util.find_spec("jax") is not None


@pytest.fixture(scope="module")
def jnp():
    jax = pytest.importorskip("jax")
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax, jax.numpy
    jax.config.update("jax_enable_x64", before)


def _sym(a):
    return (a + np.conj(a.T)) / 2


# (id, einsum_ad function, jax function, input, a symmetric input?)
JAX_CASES = [
    ("inv", L.inv, lambda j: j.linalg.inv, square(3, 3), False),
    ("slogdet", lambda a: L.slogdet(a)[1], lambda j: lambda a: j.linalg.slogdet(a)[1],
     square(3, 3), False),
    ("pinv", L.pinv, lambda j: j.linalg.pinv, gen(4, 3), False),
    ("svd", lambda a: svd_invariants(L.svd(a, False))[3],
     lambda j: lambda a: (lambda u, s, vh: (u * j.exp(-s)) @ vh)(
         *j.linalg.svd(a, full_matrices=False)), gen(4, 3), False),
    ("qr", lambda a: tuple(L.qr(a)), lambda j: lambda a: tuple(j.linalg.qr(a)), gen(4, 3),
     False),
    ("cholesky", L.cholesky, lambda j: j.linalg.cholesky, hpd(3, 3), True),
    ("eigh", lambda a: eigh_invariants(L.eigh(a))[2],
     lambda j: lambda a: (lambda w, v: (v * j.exp(w)) @ v.T)(*j.linalg.eigh(a)), gen(3, 3),
     True),
]


@pytest.mark.skipif(not HAS_JAX, reason="JAX is not installed")
@pytest.mark.parametrize("name, f, jf, make, symmetric", JAX_CASES,
                         ids=[c[0] for c in JAX_CASES])
def test_derivatives_agree_with_jax(jnp, name, f, jf, make, symmetric):
    """VJPs against ``jax.numpy.linalg``'s in float64 (check_grads ties the JVPs to them).
    JAX symmetrises the input of its Hermitian functions where einsum_ad reads one
    triangle: the two agree on symmetric inputs, paired with symmetric directions, which
    is what those rows compare."""
    jax, j = jnp
    a = make("f")
    if symmetric:
        a = _sym(a)
    got_val, got_fn = ea.vjp(f, a)
    got_val = got_val if isinstance(got_val, tuple) else (got_val,)
    us = tuple(rng.standard_normal(np.shape(g)) for g in got_val)
    u = us if len(us) > 1 else us[0]

    @jax.jit  # one compilation for the whole reference (eager JAX compiles every op)
    def reference(a, u):
        value, fn = jax.vjp(jf(j), a)
        return value, fn(u)[0]

    want_val, want_ct = reference(a, u)
    want_val = want_val if isinstance(want_val, tuple) else (want_val,)
    for g, w in zip(got_val, want_val):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)
    (got_ct,) = got_fn(u)
    if symmetric:  # the cotangents agree where they pair with symmetric directions
        t = _sym(rng.standard_normal(a.shape))
        np.testing.assert_allclose(np.sum(got_ct * t), np.sum(want_ct * t), rtol=1e-8)
    else:
        np.testing.assert_allclose(got_ct, want_ct, rtol=1e-8, atol=1e-10)
