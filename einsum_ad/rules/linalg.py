"""The rule table, linear algebra section: one primitive per factorisation or solve.

Part of the one rule table (``rules/__init__.py`` lists every primitive). Each primitive
evaluates with the backend's vocabulary (``Backend.linalg_*``) and differentiates with
einsum nodes and these primitives themselves, so that the derivative of a derivative comes
from the same rules: the VJP of ``inv`` is ``-X^T g X^T`` with ``X = inv(A)`` (an einsum
node of the inverse node), ``solve``'s uses ``solve`` again, ``cholesky``'s and ``qr``'s use
``triangular_solve``, ``eigvalsh``'s and ``svdvals``'s use the vectors of ``eigh`` and
``svd``. Reference formulas: Giles, "Collected matrix derivative results for forward and
reverse mode algorithmic differentiation" (2008); each rule below states its own derivation.

Conventions:

* Complex values follow the library's convention: a VJP is the plain transpose of the
  real-linear derivative under the pairing ``Re(sum(a * b))`` (no conjugation, as in JAX).
  ``H(x)`` is the conjugate transpose, ``x^T`` the plain one.
* Several results (``eigh``'s ``(w, V)``, ``svd``'s ``(U, S, Vh)``, ``qr``'s ``(Q, R)``,
  ``slogdet``'s ``(sign, logabsdet)``) come from one primitive as one *packed* array: each
  part flattened over its matrix axes and concatenated along one last axis, in the input's
  dtype (a real part of a complex factorisation, such as the eigenvalues, is stored as
  complex and read back as its real part). :func:`unpack` takes the parts out with indexing
  nodes; a cotangent or tangent of the packed array is the parts' cotangents packed alike.
  One factorisation therefore runs once however many of its results are used.
* ``eigh`` and ``cholesky`` take a Hermitian matrix; :func:`hermitian_part` builds it from
  one triangle first (the namespace does), so the derivative only ever meets Hermitian
  tangents, whichever triangle a backend's routine would read (``eigh``'s ``lower`` only
  tells a library that takes it which one to read, so that its eigenvectors are the ones
  it would return for that triangle).
* Degenerate spectra: the eigenvector (singular vector) derivatives divide by gaps
  ``w_j - w_i`` (``s_j - s_i``); where two values are equal, to the factorisation's
  resolution (``n * eps * max|w|``: computed "repeated" values differ by rounding), the
  factor is taken as 0 (JAX's and PyTorch's convention). That is exact at first order for
  symmetric functions of the values and for the projectors on a degenerate space, and a
  finite stand-in otherwise (the divided differences of a matrix function become 0 there).
  The SVD's rule keeps the ``1 / (s_i + s_j)`` part of its factor, so ``U Vh`` stays exact.
  ``eigvalsh``, ``svdvals``, ``slogdet`` and ``det`` have rules of their own that never
  divide by a gap, so functions of the eigenvalues or singular values alone have exact
  first derivatives at repeated values.
* No rule reads a value to decide a branch: masks select with ``where``.
"""

from __future__ import annotations

import math

from .. import backend as _backend
from ..core import Primitive, unwrap
from .constants import const, kind, zeros
from .einsum import einsum_str, mul
from .elementwise import div_p, exp_p, log_p, where_p
from .linear import add_p, conj_p, neg_p, sub_p
from .reductions import reduce_sum
from .structural import astype_p, concatenate_p, getitem_p, reshape_p

__all__ = ["inv_p", "solve_p", "triangular_solve_p", "cholesky_p", "eigh_p", "eigvalsh_p",
           "svd_p", "svdvals_p", "qr_p", "det_p", "adjugate_p", "slogdet_p", "pinv_p",
           "hermitian_part", "unpack", "eigh_layout", "svd_layout", "qr_layout",
           "slogdet_layout"]

_of = _backend.of


# ======================================================================== helpers
#
# Small products and selections, all made of primitives (so they differentiate again).


def _complex(x) -> bool:
    return kind(x.dtype) == "c"


def _conj(x):
    return conj_p(x) if _complex(x) else x


def _mT(x):
    return einsum_str("...ij->...ji", x)


def _H(x):
    """The conjugate transpose of a stack of matrices."""
    return _conj(_mT(x))


def _mm(a, b):
    return einsum_str("...ij,...jk->...ik", a, b)


def _diag(x):
    return einsum_str("...ii->...i", x)


def _re(x):
    """The real part (an ``astype`` node: its transpose puts a real cotangent back into the
    complex dtype with zero imaginary part)."""
    return astype_p(x, dtype=_backend.of(unwrap(x)).real_dtype(x.dtype)) if _complex(x) else x


def _as(x, like):
    """``x`` (real) in ``like``'s dtype (complex when ``like`` is)."""
    return x if x.dtype == like.dtype else astype_p(x, dtype=like.dtype)


def _i_im(x):
    """``i Im(x)``, that is ``(x - conj(x)) / 2``: the anti-Hermitian part of a diagonal."""
    return div_p(sub_p(x, conj_p(x)), const(2, x))


def _col(v):
    """A vector stack (..., n) as columns (..., n, 1)."""
    return reshape_p(v, shape=tuple(v.shape) + (1,))


def _row(v):
    """A vector stack (..., n) as rows (..., 1, n)."""
    return reshape_p(v, shape=tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _grid(n, like):
    """The backend of ``like`` and the row and column indices of an (n, n) matrix (as
    (n, 1) and (1, n) arrays on ``like``'s device), for constant masks."""
    v = unwrap(like)
    bk = _of(v)
    i = bk.arange(n, device=bk.device(v))
    return bk, bk.reshape(i, (n, 1)), bk.reshape(i, (1, n))


def _masks(n, like):
    """Constant boolean (n, n) masks on ``like``'s device: strictly lower, diagonal."""
    bk, r, c = _grid(n, like)
    return bk.greater(r, c), bk.equal(r, c)


def _tri_mask(n, like, lower):
    """The constant mask of the lower (upper) triangle, diagonal included."""
    bk, r, c = _grid(n, like)
    return bk.greater_equal(r, c) if lower else bk.less_equal(r, c)


def _zero(x):
    return const(0, x)


def _with_diag(d, x):
    """``x`` with its diagonal replaced by the vector stack ``d`` (a selection)."""
    _, eye = _masks(x.shape[-1], x)
    return where_p(eye, _col(_as(d, x)), x)


def _strict_lower(x):
    strict, _ = _masks(x.shape[-1], x)
    return where_p(strict, x, _zero(x))


def _resolution(w):
    """The smallest difference between two computed eigenvalues (singular values) of one
    matrix that is not rounding: ``n * eps * max|w|`` per matrix, a constant of shape
    (..., 1, 1). Values closer than that are the same value to the factorisation (its
    results carry errors of that size), so they count as repeated."""
    wv = unwrap(w)
    bk = _of(wv)
    n = wv.shape[-1]
    real = bk.real_dtype(wv.dtype)
    eps = float(bk.finfo(real).eps)
    if n == 0:
        return bk.zeros(tuple(wv.shape[:-1]) + (1, 1), dtype=real, device=bk.device(wv))
    top = bk.max(bk.abs(wv), axis=-1, keepdims=True)
    return bk.multiply(bk.reshape(top, tuple(top.shape) + (1,)), bk.scalar(n * eps, real))


def _reciprocal_above(d, tol):
    """``1 / d``, and 0 where ``|d| <= tol``: a selection on a constant mask, never a
    division by (nearly) zero."""
    dv = unwrap(d)
    bk = _of(dv)
    small = bk.less_equal(bk.abs(dv), bk.astype(tol, dv.dtype))
    return where_p(small, _zero(d), div_p(const(1, d), where_p(small, const(1, d), d)))


def _gaps(w):
    """``F[i, j] = 1 / (w[j] - w[i])``, and 0 where the two are equal to the resolution of
    the factorisation (the diagonal, and repeated values: see :func:`_resolution`)."""
    return _reciprocal_above(sub_p(_row(w), _col(w)), _resolution(w))


def _columns(x, start, stop):
    return getitem_p(x, index=(Ellipsis, slice(start, stop)))


def _rows(x, start, stop):
    return getitem_p(x, index=(Ellipsis, slice(start, stop), slice(None)))


def _complement(q1, dq1, q2):
    """The tangent of an orthonormal completion ``q2`` of ``q1`` (the extra columns of a
    complete QR or a full SVD, which are any orthonormal basis of the complement): the
    rotation-free choice ``-q1 H(dq1) q2``. It keeps ``[q1 q2]`` unitary and is exact for
    every function of the complement's projector ``q2 H(q2) = I - q1 H(q1)``."""
    return neg_p(_mm(q1, _mm(_H(dq1), q2)))


def _complement_transpose(q1, q2, g2):
    """The transpose of :func:`_complement` in ``dq1``: ``-conj(q2 g2^T q1)``."""
    return neg_p(_conj(einsum_str("...ai,...bi,...bj->...aj", q2, g2, q1)))


def hermitian_part(x, lower=True):
    """The Hermitian matrices that one triangle of ``x`` defines (numpy's ``UPLO``): the
    strictly lower (upper) triangle, its conjugate mirrored into the other, and the real
    part of the diagonal. A selection of ``x`` and ``H(x)``: linear, with a derivative
    that reads the same triangle."""
    n = x.shape[-1]
    mirrored = _H(x)
    if not _complex(x):  # one selection: the triangle with its diagonal, or the mirror
        return where_p(_tri_mask(n, x, lower), x, mirrored)
    strict, eye = _masks(n, x)
    if not lower:
        strict = _of(strict).matrix_transpose(strict)
    return where_p(strict, x, where_p(eye, _as(_re(x), x), mirrored))


# ======================================================================== packing


def eigh_layout(shape):
    """The parts of ``eigh_p``'s result: eigenvalues (real) and eigenvectors."""
    n = shape[-1]
    return (((n,), True), ((n, n), False))


def svd_layout(shape, full_matrices):
    """The parts of ``svd_p``'s result: ``U``, ``S`` (real), ``Vh``."""
    m, n = shape[-2:]
    k = min(m, n)
    return (((m, m if full_matrices else k), False), ((k,), True),
            ((n if full_matrices else k, n), False))


def qr_layout(shape, mode):
    """The parts of ``qr_p``'s result: ``Q`` and ``R``."""
    m, n = shape[-2:]
    k = m if mode == "complete" else min(m, n)
    return (((m, k), False), ((k, n), False))


def slogdet_layout(shape):
    """The parts of ``slogdet_p``'s result: the sign and ``log|det|`` (real)."""
    return (((), False), ((), True))


def _pack(parts, like):
    """The parts (one batch shape: ``like``'s without its matrix axes) flattened and
    concatenated along one last axis, in ``like``'s dtype."""
    batch = tuple(like.shape[:-2])
    flat = []
    for p in parts:
        size = math.prod(p.shape[len(batch):])
        flat.append(reshape_p(_as(p, like), shape=batch + (size,)))
    return concatenate_p(*flat, axis=-1)


def unpack(packed, layout):
    """The parts of a packed result (or of its cotangent or tangent), as ``layout`` lists
    them: indexing and reshape nodes, and the real part of a part that is real."""
    batch = tuple(packed.shape[:-1])
    out, start = [], 0
    for shape, real in layout:
        size = math.prod(shape)
        part = reshape_p(_columns(packed, start, start + size), shape=batch + tuple(shape))
        out.append(_re(part) if real else part)
        start += size
    return out


def _packed_impl(compute):
    """The impl of a packed primitive from ``compute(bk, x, **params) -> parts``."""
    def impl(x, **params):
        parts = compute(_of(x), x, **params)
        return _pack(parts, x)
    return impl


# ======================================================================== inverse, solves


inv_p = Primitive("inv", lambda x: _of(x).linalg_inv(x))
# X = A^-1: dX = -X dA X; its transpose -X^T g X^T. Both read the inverse node itself.
inv_p.def_vjp(lambda ans, x: lambda g: (
    neg_p(einsum_str("...ji,...jk,...lk->...il", ans, g, ans)),))


@inv_p.def_jvp
def _inv_jvp(primals, tangents, params):
    ans = inv_p(primals[0])
    return ans, neg_p(einsum_str("...ij,...jk,...kl->...il", ans, tangents[0], ans))


# X = A^-1 B, with A (..., M, M) and B (..., M, K) of one batch shape (the namespace
# broadcasts). dX = A^-1 (dB - dA X); transposed: B_bar = A^-T g (a solve with A^T) and
# A_bar = -B_bar X^T.
solve_p = Primitive("solve", lambda a, b: _of(a).linalg_solve(a, b))


@solve_p.def_fwd_vjp
def _solve_fwd_vjp(args, params, argnums):
    a, b = args
    ans = solve_p(a, b)

    def vjp(g):
        gb = solve_p(_mT(a), g)
        return tuple(gb if i == 1 else neg_p(einsum_str("...ik,...jk->...ij", gb, ans))
                     for i in argnums)

    return ans, vjp


@solve_p.def_jvp
def _solve_jvp(primals, tangents, params):
    a, b = primals
    ta, tb = tangents
    ans = solve_p(a, b)
    rhs = tb
    if ta is not None:
        term = neg_p(_mm(ta, ans))
        rhs = term if rhs is None else add_p(rhs, term)
    return ans, solve_p(a, rhs)


def _tri(x, lower):
    """``x`` masked to its lower (upper) triangle, diagonal included."""
    return where_p(_tri_mask(x.shape[-1], x, lower), x, _zero(x))


# X = T^-1 B reading only T's lower (upper) triangle. dX = T^-1 (dB - tri(dT) X);
# transposed: B_bar = T^-T g (a triangular solve with T^T, whose read triangle is the
# other one) and T_bar = -tri(B_bar X^T).
triangular_solve_p = Primitive(
    "triangular_solve",
    lambda t, b, *, lower: _of(t).linalg_triangular_solve(t, b, lower))


@triangular_solve_p.def_fwd_vjp
def _triangular_solve_fwd_vjp(args, params, argnums):
    t, b = args
    lower = params["lower"]
    ans = triangular_solve_p(t, b, lower=lower)

    def vjp(g):
        gb = triangular_solve_p(_mT(t), g, lower=not lower)
        return tuple(gb if i == 1 else
                     neg_p(_tri(einsum_str("...ik,...jk->...ij", gb, ans), lower))
                     for i in argnums)

    return ans, vjp


@triangular_solve_p.def_jvp
def _triangular_solve_jvp(primals, tangents, params):
    t, b = primals
    tt, tb = tangents
    lower = params["lower"]
    ans = triangular_solve_p(t, b, lower=lower)
    rhs = tb
    if tt is not None:
        term = neg_p(_mm(_tri(tt, lower), ans))
        rhs = term if rhs is None else add_p(rhs, term)
    return ans, triangular_solve_p(t, rhs, lower=lower)


# ======================================================================== cholesky
#
# S = L H(L) with S Hermitian, L lower with a real positive diagonal. With M = L^-1 dS
# L^-H (Hermitian), L^-1 dL is lower with a real diagonal and M = L^-1 dL + H(L^-1 dL),
# so dL = L Phi(M), Phi taking the strict lower triangle and half the diagonal. The VJP
# transposes each step: Phi_bar = L^T g, M_bar = Phi(Phi_bar) (Phi is a selection, its
# own transpose), S_bar = L^-T M_bar conj(L)^-1 (two triangular solves).


def _phi(x):
    strict, eye = _masks(x.shape[-1], x)
    return where_p(strict, x, where_p(eye, div_p(x, const(2, x)), _zero(x)))


cholesky_p = Primitive("cholesky", lambda s: _of(s).linalg_cholesky(s))


@cholesky_p.def_vjp
def _cholesky_vjp(ans, s):
    def vjp(g):
        m_bar = _phi(einsum_str("...ji,...jk->...ik", ans, g))
        z = triangular_solve_p(_mT(ans), m_bar, lower=False)  # L^-T M_bar
        return (_mT(triangular_solve_p(_H(ans), _mT(z), lower=False)),)  # z conj(L)^-1
    return vjp


@cholesky_p.def_jvp
def _cholesky_jvp(primals, tangents, params):
    s, ds = primals[0], tangents[0]
    ans = cholesky_p(s)
    m = triangular_solve_p(ans, _H(triangular_solve_p(ans, ds, lower=True)), lower=True)
    return ans, _mm(ans, _phi(m))


# ======================================================================== eigh
#
# S = V diag(w) H(V), S Hermitian. With C = H(V) dS V: dw = Re diag(C), dV = V (F o C),
# F[i, j] = 1 / (w_j - w_i) (0 on the diagonal: H(V) dV has a zero diagonal, the phase
# convention of the derivative, and 0 at repeated eigenvalues: see the module docstring).
# Transposed: C_bar = F o (V^T V_bar) + diag(w_bar), S_bar = conj(V) C_bar V^T.


def _eigh_compute(bk, s, *, lower=True):
    return bk.linalg_eigh(s, lower)


eigh_p = Primitive("eigh", _packed_impl(_eigh_compute))


@eigh_p.def_vjp
def _eigh_vjp(ans, s, *, lower=True):
    layout = eigh_layout(s.shape)

    def vjp(g):
        w, v = unpack(ans, layout)
        gw, gv = unpack(g, layout)
        inner = mul(_as(_gaps(w), v), einsum_str("...ji,...jk->...ik", v, gv))
        c_bar = _with_diag(gw, inner)
        return (einsum_str("...ij,...jk,...lk->...il", _conj(v), c_bar, v),)

    return vjp


@eigh_p.def_jvp
def _eigh_jvp(primals, tangents, params):
    s, ds = primals[0], tangents[0]
    ans = eigh_p(s, **params)
    w, v = unpack(ans, eigh_layout(s.shape))
    c = einsum_str("...ji,...jk,...kl->...il", _conj(v), ds, v)
    dw = _re(_diag(c))
    dv = _mm(v, mul(_as(_gaps(w), v), c))
    return ans, _pack((dw, dv), s)


# eigvalsh: the eigenvalues alone, with rules that use the eigenvectors but no gap:
# dw = Re diag(H(V) dS V), S_bar = conj(V) diag(w_bar) V^T. Exact at repeated eigenvalues
# for every symmetric function of them (the result does not depend on the basis chosen in
# the degenerate space). Differentiated, the forward value comes from eigh (one
# factorisation gives the values and the vectors).
eigvalsh_p = Primitive("eigvalsh",
                       lambda s, *, lower=True: _of(s).linalg_eigvalsh(s, lower))


def _eigh_parts(s, params):
    return unpack(eigh_p(s, **params), eigh_layout(s.shape))


@eigvalsh_p.def_fwd_vjp
def _eigvalsh_fwd_vjp(args, params, argnums):
    w, v = _eigh_parts(args[0], params)
    return w, lambda g: (einsum_str("...ij,...j,...kj->...ik", _conj(v), _as(g, v), v),)


@eigvalsh_p.def_jvp
def _eigvalsh_jvp(primals, tangents, params):
    w, v = _eigh_parts(primals[0], params)
    return w, _re(einsum_str("...ji,...jk,...ki->...i", _conj(v), tangents[0], v))


# ======================================================================== svd
#
# A = U diag(s) Vh, K = min(M, N), U1 = U[:, :K], V1 = H(Vh[:K]). With P = H(U1) dA V1 =
# Om_U S + dS - S Om_V (Om_U = H(U1) dU1, Om_V = H(V1) dV1 anti-Hermitian), and its
# Hermitian and anti-Hermitian parts A = (P + H(P)) / 2, B = (P - H(P)) / 2:
#   ds = Re diag(P),
#   Om_U = Fm o A + Fp o B,   Om_V = Fm o A - Fp o B,
#   dU1 = U1 Om_U + (I - U1 H(U1)) dA V1 / s          (the second term when M > K),
#   dV1 = V1 Om_V + (I - V1 H(V1)) H(dA) U1 / s       (when N > K),
# with Fm[i, j] = 1 / (s_j - s_i) and Fp[i, j] = 1 / (s_i + s_j): the partial fractions of
# 1 / (s_j^2 - s_i^2). Only Fm is singular at repeated singular values (taken as 0 there);
# the Fp part, which ``U1 Vh1`` (the polar factor, a nuclear norm's gradient) depends on,
# stays exact. On the diagonal, the phase freedom of each singular pair is split evenly
# between U and V (``i Im(P_ii) / 2 s_i`` each). A full U or Vh has extra columns (rows), an
# arbitrary completion: their tangent is ``_complement``'s. The VJP transposes each step.


def _svd_compute(bk, x, *, full_matrices):
    return bk.linalg_svd(x, full_matrices)


svd_p = Primitive("svd", _packed_impl(_svd_compute))


def _svd_pieces(x, ans, full_matrices):
    """s and the thin parts U1, Vh1, V1 (plus U2, V2 of a full SVD, or None)."""
    m, n = x.shape[-2:]
    k = min(m, n)
    u, s, vh = unpack(ans, svd_layout(x.shape, full_matrices))
    u1 = _columns(u, 0, k) if u.shape[-1] > k else u
    vh1 = _rows(vh, 0, k) if vh.shape[-2] > k else vh
    u2 = _columns(u, k, m) if u.shape[-1] > k else None
    v2 = _H(_rows(vh, k, n)) if vh.shape[-2] > k else None
    return u1, s, vh1, _H(vh1), u2, v2


def _svd_fractions(s, like):
    """``Fm = 1 / (s_j - s_i)`` and ``Fp = 1 / (s_i + s_j)``, each 0 where its
    denominator is within the resolution of the SVD (repeated values; two zero singular
    values), in ``like``'s dtype."""
    tol = _resolution(s)
    return (_as(_reciprocal_above(sub_p(_row(s), _col(s)), tol), like),
            _as(_reciprocal_above(add_p(_col(s), _row(s)), tol), like))


def _halves(x):
    """The Hermitian and anti-Hermitian parts of a stack of square matrices."""
    xh = _H(x)
    two = const(2, x)
    return div_p(add_p(x, xh), two), div_p(sub_p(x, xh), two)


@svd_p.def_vjp
def _svd_vjp(ans, x, *, full_matrices):
    m, n = x.shape[-2:]
    k = min(m, n)

    def vjp(g):
        u1, s, vh1, v1, u2, v2 = _svd_pieces(x, ans, full_matrices)
        gu, gs, gvh = unpack(g, svd_layout(x.shape, full_matrices))
        gu1 = _columns(gu, 0, k) if u2 is not None else gu
        gv1 = _H(_rows(gvh, 0, k) if v2 is not None else gvh)  # cotangent of V = H(Vh)
        if u2 is not None:
            gu1 = add_p(gu1, _complement_transpose(u1, u2, _columns(gu, k, m)))
        if v2 is not None:
            gv1 = add_p(gv1, _complement_transpose(v1, v2, _H(_rows(gvh, k, n))))
        fm, fp = _svd_fractions(s, x)
        gom_u = einsum_str("...ai,...aj->...ij", u1, gu1)
        gom_v = einsum_str("...ai,...aj->...ij", v1, gv1)
        ga_, gb_ = mul(fm, add_p(gom_u, gom_v)), mul(fp, sub_p(gom_u, gom_v))
        gp = div_p(add_p(add_p(ga_, _H(ga_)), sub_p(gb_, _H(gb_))), const(2, x))
        gp = add_p(gp, _with_diag(_as(gs, x), zeros(gp.shape, gp)))
        ga = einsum_str("...ai,...ij,...jb->...ab", _conj(u1), gp, _conj(vh1))
        if m > k:
            sc = _as(s, x)
            w = div_p(gu1, _row(sc))
            w = sub_p(w, _mm(_conj(u1), einsum_str("...ai,...aj->...ij", u1, w)))
            ga = add_p(ga, _mm(w, _conj(vh1)))
        if n > k:
            sc = _as(s, x)
            z = einsum_str("...ai,...bi->...ab", div_p(u1, _row(sc)), gv1)
            z = sub_p(z, _mm(_mm(z, v1), _H(v1)))
            ga = add_p(ga, _conj(z))
        return (ga,)

    return vjp


@svd_p.def_jvp
def _svd_jvp(primals, tangents, params):
    x, dx = primals[0], tangents[0]
    full = params["full_matrices"]
    m, n = x.shape[-2:]
    k = min(m, n)
    ans = svd_p(x, full_matrices=full)
    u1, s, vh1, v1, u2, v2 = _svd_pieces(x, ans, full)
    p = einsum_str("...ai,...ab,...bj->...ij", _conj(u1), dx, v1)
    ds = _re(_diag(p))
    fm, fp = _svd_fractions(s, x)
    herm, anti = _halves(p)
    sym, skew = mul(fm, herm), mul(fp, anti)
    du = _mm(u1, add_p(sym, skew))
    dv = _mm(v1, sub_p(sym, skew))
    if m > k:
        du = add_p(du, div_p(sub_p(_mm(dx, v1), _mm(u1, p)), _row(_as(s, x))))
    if n > k:
        dv = add_p(dv, div_p(sub_p(_mm(_H(dx), u1), _mm(v1, _H(p))), _row(_as(s, x))))
    if u2 is not None:
        du = concatenate_p(du, _complement(u1, du, u2), axis=-1)
    dvh = _H(dv)
    if v2 is not None:
        dvh = concatenate_p(dvh, _H(_complement(v1, dv, v2)), axis=-2)
    return ans, _pack((du, ds, dvh), x)


# svdvals: the singular values alone, with rules that use the singular vectors but no gap:
# ds = Re diag(H(U) dA V), A_bar = conj(U diag(s_bar) Vh). Exact at repeated singular
# values for every symmetric function of them (a nuclear norm, say).
svdvals_p = Primitive("svdvals", lambda x: _of(x).linalg_svdvals(x))


def _svd_thin(x):
    return unpack(svd_p(x, full_matrices=False), svd_layout(x.shape, False))


@svdvals_p.def_fwd_vjp
def _svdvals_fwd_vjp(args, params, argnums):
    x = args[0]
    u, s, vh = _svd_thin(x)
    return s, lambda g: (einsum_str("...ai,...i,...ib->...ab", _conj(u), _as(g, x),
                                    _conj(vh)),)


@svdvals_p.def_jvp
def _svdvals_jvp(primals, tangents, params):
    x = primals[0]
    u, s, vh = _svd_thin(x)
    return s, _re(einsum_str("...ai,...ab,...ib->...i", _conj(u), tangents[0], _conj(vh)))


# ======================================================================== qr
#
# A = Q R, K = min(M, N), Q1 = Q[:, :K], R1 = R[:K], R11 = R1[:, :K] (upper, real diagonal:
# LAPACK's). With B = dA[:, :K] R11^-1 and C = H(Q1) B, Om = H(Q1) dQ1 is anti-Hermitian and
# dR R11^-1 upper with a real diagonal, so Om = tril(C, -1) - H(tril(C, -1)) + i Im diag(C);
# then dQ1 = Q1 Om + (I - Q1 H(Q1)) B (the second term when M > K) and dR1 = H(Q1) dA - Om R1
# (every column, the wide case included). A complete Q has extra columns: ``_complement``.
# The VJP transposes each step.


def _skew(c):
    """``tril(c, -1) - H(tril(c, -1)) + i Im diag(c)``."""
    low = _strict_lower(c)
    om = sub_p(low, _H(low))
    return _with_diag(_i_im(_diag(c)), om) if _complex(c) else om


def _skew_transpose(om_bar):
    """The transpose of :func:`_skew`: ``tril(o - H(o), -1) + i Im diag(o)``."""
    out = _strict_lower(sub_p(om_bar, _H(om_bar)))
    return _with_diag(_i_im(_diag(om_bar)), out) if _complex(om_bar) else out


def _qr_compute(bk, x, *, mode):
    return bk.linalg_qr(x, mode)


qr_p = Primitive("qr", _packed_impl(_qr_compute))


def _qr_pieces(x, ans, mode):
    m, n = x.shape[-2:]
    k = min(m, n)
    q, r = unpack(ans, qr_layout(x.shape, mode))
    q1 = _columns(q, 0, k) if q.shape[-1] > k else q
    r1 = _rows(r, 0, k) if r.shape[-2] > k else r
    r11 = _columns(r1, 0, k) if n > k else r1
    q2 = _columns(q, k, m) if q.shape[-1] > k else None
    return q1, r1, r11, q2


def _right_solve_upper(b, r):
    """``b r^-1`` for upper triangular ``r``: ``(r^-T b^T)^T``, a lower triangular solve."""
    return _mT(triangular_solve_p(_mT(r), _mT(b), lower=True))


@qr_p.def_vjp
def _qr_vjp(ans, x, *, mode):
    m, n = x.shape[-2:]
    k = min(m, n)

    def vjp(g):
        q1, r1, r11, q2 = _qr_pieces(x, ans, mode)
        gq, gr = unpack(g, qr_layout(x.shape, mode))
        gq1 = _columns(gq, 0, k) if q2 is not None else gq
        gr1 = _rows(gr, 0, k) if gr.shape[-2] > k else gr  # R's zero rows are constant
        if q2 is not None:
            gq1 = add_p(gq1, _complement_transpose(q1, q2, _columns(gq, k, m)))
        om_bar = sub_p(einsum_str("...ai,...aj->...ij", q1, gq1),
                       einsum_str("...ik,...jk->...ij", gr1, r1))
        b_bar = _mm(_conj(q1), _skew_transpose(om_bar))
        if m > k:
            b_bar = add_p(b_bar, sub_p(gq1, _mm(_conj(q1),
                                                einsum_str("...ai,...aj->...ij", q1, gq1))))
        # B = dA1 R11^-1: dA1_bar = B_bar R11^-T = (R11^-1 B_bar^T)^T
        ga1 = _mT(triangular_solve_p(r11, _mT(b_bar), lower=False))
        if n > k:
            ga1 = concatenate_p(ga1, zeros(tuple(ga1.shape[:-1]) + (n - k,), ga1), axis=-1)
        return (add_p(_mm(_conj(q1), gr1), ga1),)

    return vjp


@qr_p.def_jvp
def _qr_jvp(primals, tangents, params):
    x, dx = primals[0], tangents[0]
    mode = params["mode"]
    m, n = x.shape[-2:]
    k = min(m, n)
    ans = qr_p(x, mode=mode)
    q1, r1, r11, q2 = _qr_pieces(x, ans, mode)
    b = _right_solve_upper(_columns(dx, 0, k) if n > k else dx, r11)
    c = _mm(_H(q1), b)
    om = _skew(c)
    dq = _mm(q1, om)
    if m > k:
        dq = add_p(dq, sub_p(b, _mm(q1, c)))
    dr = sub_p(_mm(_H(q1), dx), _mm(om, r1))
    if q2 is not None:
        dq = concatenate_p(dq, _complement(q1, dq, q2), axis=-1)
        dr = concatenate_p(dr, zeros(tuple(dr.shape[:-2]) + (m - k, n), dr), axis=-2)
    return ans, _pack((dq, dr), x)


# ======================================================================== determinants
#
# slogdet: with T = tr(A^-1 dA), d log|det A| = Re T and d sign = sign i Im T (0 for real
# A). Transposed: T_bar = l_bar + i Im(s_bar sign), A_bar = T_bar A^-T (the inverse node).


def _slogdet_compute(bk, x):
    return bk.linalg_slogdet(x)


slogdet_p = Primitive("slogdet", _packed_impl(_slogdet_compute))


def _scalar_times_matrix(t, mat, transpose):
    spec = "...,...ji->...ij" if transpose else "...,...ij->...ij"
    return einsum_str(spec, t, mat)


@slogdet_p.def_vjp
def _slogdet_vjp(ans, x):
    layout = slogdet_layout(x.shape)

    def vjp(g):
        sign, _ = unpack(ans, layout)
        gs, gl = unpack(g, layout)
        t_bar = _as(gl, x)
        if _complex(x):
            t_bar = add_p(t_bar, _i_im(mul(gs, sign)))
        return (_scalar_times_matrix(t_bar, inv_p(x), transpose=True),)

    return vjp


@slogdet_p.def_jvp
def _slogdet_jvp(primals, tangents, params):
    x, dx = primals[0], tangents[0]
    ans = slogdet_p(x)
    sign, _ = unpack(ans, slogdet_layout(x.shape))
    t = einsum_str("...ij,...ji->...", inv_p(x), dx)
    dsign = mul(sign, _i_im(t)) if _complex(x) else zeros(sign.shape, sign)
    return ans, _pack((dsign, _re(t)), x)


# det: d det = tr(adj(A) dA), A_bar = g adj(A)^T. The adjugate is its own primitive,
# computed from an SVD, A = U diag(s) Vh: adj(A) = c H(Vh) diag(p) H(U) with
# c = det(U) det(Vh) and p_i the product of the singular values other than s_i (prefix and
# suffix products: no division), so det's gradient is exact at singular matrices too (of
# rank n-1 it is the rank-one cofactor matrix; of lower rank, zero).
#
# adj's derivative, from adj(A + E) = c H(Vh) adj(diag(s) + Et) H(U), Et = H(U) E H(Vh):
# d adj(diag(s))[Et] is -Et_ij P_ij off the diagonal and sum_k Et_kk P_ik on it, with
# P_ij the product of the singular values other than s_i and s_j. P is computed in the
# log domain (zeros counted apart), so the second derivative is exact at singular matrices
# as well; a third derivative there misses the terms of the zero singular values.


def _excluded_products(bk, s):
    """``p[..., i]`` = the product of ``s[..., k]`` over ``k != i`` (no division)."""
    n = s.shape[-1]
    pre = bk.cumulative_prod(s, axis=-1, include_initial=True)[..., :n]
    rev = bk.flip(s, axis=-1)
    suf = bk.flip(bk.cumulative_prod(rev, axis=-1, include_initial=True)[..., :n], axis=-1)
    return bk.multiply(pre, suf)


def _adjugate_impl(x):
    bk = _of(x)
    u, s, vh = bk.linalg_svd(x, False)
    c = bk.multiply(bk.linalg_det(u), bk.linalg_det(vh))
    p = bk.astype(_excluded_products(bk, s), x.dtype)
    left = bk.multiply(bk.matrix_transpose(bk.conj(vh)), p[..., None, :])
    adj = bk.matmul(left, bk.matrix_transpose(bk.conj(u)))
    return bk.multiply(c[..., None, None], adj)


adjugate_p = Primitive("adjugate", _adjugate_impl)


def _pair_products(s):
    """``P[..., i, j]`` = the product of ``s[..., k]`` over ``k`` not in ``{i, j}`` (0 on
    the diagonal), for non-negative ``s``: ``exp`` of a sum of logarithms where no other
    value is zero, and 0 where one is."""
    n = s.shape[-1]
    sv = unwrap(s)
    bk = _of(sv)
    is_zero = bk.equal(sv, bk.const(0, sv))
    zeros_count = bk.sum(bk.astype(is_zero, bk.int64), axis=-1)
    flags = bk.astype(is_zero, bk.int64)
    others = bk.subtract(bk.subtract(zeros_count[..., None, None], flags[..., :, None]),
                         flags[..., None, :])
    _, eye = _masks(n, s)
    vanish = bk.logical_or(bk.greater(others, bk.const(0, others)), eye)
    logs = log_p(where_p(is_zero, const(1, s), s))
    total = reduce_sum(logs, (len(s.shape) - 1,), keepdims=True)
    expo = sub_p(sub_p(_col(total), _col(logs)), _row(logs))
    return where_p(vanish, _zero(s), exp_p(where_p(vanish, _zero(s), expo)))


def _adjugate_derivative(x, t, transpose):
    """adj's derivative at ``x`` applied to ``t`` (``transpose``: its transpose)."""
    u, s, vh = _svd_thin(x)
    c = reshape_p(mul(det_p(u), det_p(vh)), shape=tuple(x.shape[:-2]) + (1, 1))
    pp = _as(_pair_products(s), x)
    if not transpose:
        et = einsum_str("...ai,...ab,...jb->...ij", _conj(u), t, _conj(vh))
        d = _with_diag(einsum_str("...kk,...ik->...i", et, pp), neg_p(mul(et, pp)))
        return mul(c, einsum_str("...ia,...ij,...bj->...ab", _conj(vh), d, _conj(u)))
    db = mul(c, einsum_str("...ab,...ia,...bj->...ij", t, _conj(vh), _conj(u)))
    eb = _with_diag(einsum_str("...ii,...ik->...k", db, pp), neg_p(mul(db, pp)))
    return einsum_str("...ai,...ij,...jb->...ab", _conj(u), eb, _conj(vh))


adjugate_p.def_vjp(lambda ans, x: lambda g: (_adjugate_derivative(x, g, True),))
adjugate_p.def_jvp(lambda p, t, params: (adjugate_p(p[0]),
                                         _adjugate_derivative(p[0], t[0], False)))

det_p = Primitive("det", lambda x: _of(x).linalg_det(x))
det_p.def_vjp(lambda ans, x: lambda g: (_scalar_times_matrix(g, adjugate_p(x), True),))
det_p.def_jvp(lambda p, t, params: (det_p(p[0]),
                                    einsum_str("...ij,...ji->...", adjugate_p(p[0]), t[0])))


# ======================================================================== pinv
#
# P = A^+ (N x M). Where the rank is locally constant (Golub and Pereyra, 1973):
#   dP = -P dA P + P H(P) H(dA) (I - A P) + (I - P A) H(dA) H(P) P,
# with the pinv node itself: exact, at repeated singular values too, when the singular
# values the cutoff discards are zero. A cutoff ``rtol`` above the numerical-rank default
# (``noise``) may discard singular values that are not zero; P is then the pseudo-inverse
# of the truncated A_r, whose derivative has two more terms (from the rotation of the kept
# singular vectors towards the discarded ones), each proportional to a discarded s_k:
#   V D (C_U)^H H(U_t) + V_t C_V D H(U),     D = diag(1 / s_j^2) on the kept j,
#   C_U[k, j] = E[k, j] (s_j conj(P_rt[j, k]) + s_k P_tr[k, j]),
#   C_V[k, j] = E[k, j] (s_j P_tr[k, j] + s_k conj(P_rt[j, k])),
#   E[k, j] = s_k / (s_j^2 - s_k^2) for k discarded (above ``noise``), j kept, else 0,
# with P_tr = H(U_t) dA V and P_rt = H(U) dA V_t, U_t and V_t the discarded singular vectors
# (selected, not multiplied: a zero singular value's vectors may have infinite tangents).
# Singular values below ``noise`` are rounding: they count as zero. The VJP transposes.

pinv_p = Primitive("pinv", lambda x, *, rtol, noise: _of(x).linalg_pinv(x, rtol))


def _pinv_derivative(x, pv, t, transpose):
    if not transpose:
        th = _H(t)
        first = neg_p(einsum_str("...ij,...jk,...kl->...il", pv, t, pv))
        second = _mm(_mm(pv, _H(pv)), sub_p(th, _mm(_mm(th, x), pv)))
        third = _mm(sub_p(th, _mm(pv, _mm(x, th))), _mm(_H(pv), pv))
        return add_p(add_p(first, second), third)
    gt = _mT(t)
    first = neg_p(einsum_str("...ji,...jk,...lk->...il", pv, t, pv))
    left = _mm(gt, _mm(pv, _H(pv)))
    second = _conj(sub_p(left, _mm(_mm(x, pv), left)))
    right = _mm(_mm(_H(pv), pv), gt)
    third = _conj(sub_p(right, _mm(_mm(right, pv), x)))
    return add_p(add_p(first, second), third)


def _discards_values(rtol, noise):
    """Whether the cutoff may discard singular values that are not rounding (a parameter,
    not a value, decides)."""
    return not (isinstance(rtol, float) and rtol <= noise)


def _truncation_pieces(x, rtol, noise):
    """The thin SVD's pieces the truncation terms read: s, U, V, the discarded vectors
    U_t and V_t (others zeroed by selection), E and the kept 1 / s^2."""
    u, s, vh = _svd_thin(x)
    v = _H(vh)
    sv = unwrap(s)
    bk = _of(sv)
    k = sv.shape[-1]
    if k == 0:
        return None
    top = bk.max(sv, axis=-1, keepdims=True)
    cut = bk.scalar(rtol, sv.dtype, bk.device(sv)) if isinstance(rtol, float) else \
        bk.reshape(bk.astype(rtol, sv.dtype), tuple(rtol.shape) + (1,))
    kept = bk.greater(sv, bk.multiply(top, cut))
    above_noise = bk.greater(sv, bk.multiply(top, bk.scalar(noise, sv.dtype, bk.device(sv))))
    active = bk.logical_and(bk.logical_not(kept), above_noise)
    pair = bk.logical_and(active[..., :, None], kept[..., None, :])
    ss = mul(s, s)
    denom = sub_p(_row(ss), _col(ss))  # s_j^2 - s_k^2 at [k, j]
    one = const(1, denom)
    e = where_p(pair, div_p(_col(s), where_p(pair, denom, one)), _zero(denom))
    d2 = where_p(kept, div_p(const(1, ss), where_p(kept, ss, const(1, ss))), _zero(ss))
    u_t = where_p(active[..., None, :], u, _zero(u))
    v_t = where_p(active[..., None, :], v, _zero(v))
    return s, u, v, u_t, v_t, _as(e, x), _as(d2, x)


def _truncation_terms(x, t, transpose, rtol, noise):
    pieces = _truncation_pieces(x, rtol, noise)
    if pieces is None:
        return None
    s, u, v, u_t, v_t, e, d2 = pieces
    sc = _as(s, x)
    if not transpose:
        p_tr = einsum_str("...ak,...ab,...bj->...kj", _conj(u_t), t, v)
        p_rt = einsum_str("...aj,...ab,...bk->...jk", _conj(u), t, v_t)
        c_u = mul(e, add_p(mul(_H(p_rt), _row(sc)), mul(_col(sc), p_tr)))
        c_v = mul(e, add_p(mul(_row(sc), p_tr), mul(_col(sc), _H(p_rt))))
        first = einsum_str("...ij,...j,...jk,...bk->...ib", v, d2, _H(c_u), _conj(u_t))
        second = einsum_str("...ik,...kj,...j,...bj->...ib", v_t, c_v, d2, _conj(u))
        return add_p(first, second)
    m1 = einsum_str("...ai,...ab,...bk->...ik", v, t, _conj(u_t))  # v^T g conj(u_t)
    m2 = einsum_str("...ak,...ab,...bj->...kj", v_t, t, _conj(u))  # v_t^T g conj(u)
    c_u_bar = _H(mul(_col(d2), m1))
    c_v_bar = mul(m2, _row(d2))
    q_u, q_v = mul(e, c_u_bar), mul(e, c_v_bar)
    p_tr_bar = add_p(mul(_col(sc), q_u), mul(_row(sc), q_v))
    p_rt_bar = add_p(_H(mul(q_u, _row(sc))), _H(mul(_col(sc), q_v)))
    return add_p(einsum_str("...ak,...kj,...bj->...ab", _conj(u_t), p_tr_bar, v),
                 einsum_str("...aj,...jk,...bk->...ab", _conj(u), p_rt_bar, v_t))


def _pinv_full_derivative(x, pv, t, transpose, params):
    out = _pinv_derivative(x, pv, t, transpose)
    if _discards_values(params["rtol"], params["noise"]):
        extra = _truncation_terms(x, t, transpose, params["rtol"], params["noise"])
        if extra is not None:
            out = add_p(out, extra)
    return out


pinv_p.def_vjp(lambda ans, x, **params: lambda g: (
    _pinv_full_derivative(x, ans, g, True, params),))


@pinv_p.def_jvp
def _pinv_jvp(primals, tangents, params):
    ans = pinv_p(primals[0], **params)
    return ans, _pinv_full_derivative(primals[0], ans, tangents[0], False, params)
