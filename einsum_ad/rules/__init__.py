"""The one rule table: every primitive einsum_ad can record, and how it differentiates.

This file lists WHAT is differentiable; each section's module holds HOW (its VJP and JVP
rules, registered on the primitive with ``def_vjp`` / ``def_fwd_vjp`` / ``def_jvp``):

* ``einsum.py``: the einsum node (every multilinear operation is one) and ``spread``, the
  generic rule's fix-up. The one rule for every operand of every einsum.
* ``linear.py``: add, subtract, negative, conj (their derivatives are themselves).
* ``structural.py``: reshape, broadcast_to, astype, getitem / scatter_add, concatenate.
* ``elementwise.py``: divide, power, unary functions (trigonometric, hyperbolic and their
  inverses, logarithms), complex parts, binary functions (atan2, hypot, logaddexp, ...),
  rounding and predicates, comparisons, selections; and ``ELEMENTWISE``, the tuple of
  every elementwise primitive (for batching by broadcasting).
* ``reductions.py``: max, min, log_softmax (sums are einsum nodes).
* ``linalg.py``: one primitive per factorisation or solve (inv, solve, triangular_solve,
  cholesky, eigh, eigvalsh, svd, svdvals, qr, det, adjugate, slogdet, pinv), each
  differentiated with einsum nodes and these primitives again.
* ``broadcast.py``: the backward pass's ``fit``, which undoes broadcasting in one place.
* ``cumulative.py``: cumulative sums and products, the linear recurrence their derivatives
  are made of, and the product reduction (exact where the input holds zeros).
* ``permutation.py``: flip, roll, and the gather by a permutation that gives sort's values.
* ``fft.py``: the complex DFT, the real-input DFT and its real-output inverse.

A primitive that is not differentiable (``differentiable=False``) has derivative zero in
both modes; a differentiable one without a rule for a mode raises naming it. Rules speak
only in specs, primitives and the backend's vocabulary (``constants.py``).
"""

from .broadcast import accumulate, fit, unbroadcast
from .constants import backend_of, const, zero, zeros
from .cumulative import cumprod_p, cumsum_p, exclusive_cumprod, linrec_p, prod_p, shift
from .einsum import einsum_p, einsum_str, mul, spread_p
from .elementwise import (  # noqa: F401  (every primitive, and ELEMENTWISE)
    ELEMENTWISE,
    abs_p,
    acos_p,
    acosh_p,
    asin_p,
    asinh_p,
    atan2_p,
    atan_p,
    atanh_p,
    bitwise_and_p,
    bitwise_invert_p,
    bitwise_left_shift_p,
    bitwise_or_p,
    bitwise_right_shift_p,
    bitwise_xor_p,
    ceil_p,
    copysign_p,
    cos_p,
    cosh_p,
    div_p,
    equal_p,
    exp_p,
    expm1_p,
    floor_divide_p,
    floor_p,
    greater_equal_p,
    greater_p,
    hypot_p,
    imag_p,
    isfinite_p,
    isinf_p,
    isnan_p,
    less_equal_p,
    less_p,
    log1p_p,
    log2_p,
    log10_p,
    log_p,
    logaddexp_p,
    logical_and_p,
    logical_not_p,
    logical_or_p,
    logical_xor_p,
    maximum_p,
    minimum_p,
    nextafter_p,
    not_equal_p,
    pow_p,
    powt_p,
    real_p,
    reciprocal_p,
    relu_p,
    remainder_p,
    round_p,
    sigmoid_p,
    sign_p,
    signbit_p,
    sin_p,
    sinh_p,
    softplus_p,
    sqrt_p,
    stop_gradient_p,
    tan_p,
    tanh_p,
    trunc_p,
    where_p,
)
from .fft import fft_p, irfft_p, rfft_p, swap_norm
from .linalg import (
    adjugate_p,
    cholesky_p,
    det_p,
    eigh_layout,
    eigh_p,
    eigvalsh_p,
    hermitian_part,
    inv_p,
    pinv_p,
    qr_layout,
    qr_p,
    slogdet_layout,
    slogdet_p,
    solve_p,
    svd_layout,
    svd_p,
    svdvals_p,
    triangular_solve_p,
    unpack,
)
from .linear import add_p, conj_p, neg_p, sub_p
from .permutation import flip_p, permute_along_p, roll_p
from .reductions import keep_shape, log_softmax_p, max_p, min_p, reduce_sum
from .structural import (
    astype_p,
    broadcast_to_p,
    concatenate_p,
    fit_forward,
    getitem_p,
    reshape_p,
    scatter_add_p,
)

# Every primitive, by section: the table of what einsum_ad differentiates.
PRIMITIVES = {
    "einsum": (einsum_p, spread_p),
    "linear": (add_p, sub_p, neg_p, conj_p),
    "structural": (reshape_p, broadcast_to_p, astype_p, getitem_p, scatter_add_p,
                   concatenate_p),
    "elementwise": (div_p, pow_p, powt_p, reciprocal_p, exp_p, expm1_p, log_p, log1p_p,
                    log2_p, log10_p, sqrt_p, sin_p, cos_p, tan_p, asin_p, acos_p, atan_p,
                    sinh_p, cosh_p, tanh_p, asinh_p, acosh_p, atanh_p, sigmoid_p,
                    softplus_p, relu_p, abs_p, real_p, imag_p, atan2_p, hypot_p,
                    logaddexp_p, copysign_p, nextafter_p, remainder_p, maximum_p,
                    minimum_p, where_p),
    "constant (derivative zero)": (stop_gradient_p, sign_p, floor_p, ceil_p, trunc_p, round_p,
                                   floor_divide_p, signbit_p, isfinite_p, isinf_p, isnan_p,
                                   equal_p, not_equal_p, less_p, less_equal_p, greater_p,
                                   greater_equal_p, logical_and_p, logical_or_p,
                                   logical_xor_p, logical_not_p, bitwise_and_p,
                                   bitwise_or_p, bitwise_xor_p, bitwise_invert_p,
                                   bitwise_left_shift_p, bitwise_right_shift_p),
    "reductions": (max_p, min_p, log_softmax_p),
    "cumulative": (cumsum_p, cumprod_p, linrec_p, prod_p),
    "permutation": (flip_p, roll_p, permute_along_p),
    "fft": (fft_p, rfft_p, irfft_p),
    "linalg": (inv_p, solve_p, triangular_solve_p, cholesky_p, eigh_p, eigvalsh_p, svd_p,
               svdvals_p, qr_p, det_p, adjugate_p, slogdet_p, pinv_p),
}

__all__ = ["PRIMITIVES", "ELEMENTWISE", "accumulate", "fit", "unbroadcast", "fit_forward",
           "einsum_str", "mul", "keep_shape", "reduce_sum", "backend_of", "const", "zero",
           "zeros", "exclusive_cumprod", "shift", "swap_norm",
           "hermitian_part", "unpack", "eigh_layout", "svd_layout", "qr_layout",
           "slogdet_layout",
           *sorted(name for name in dir() if name.endswith("_p"))]
