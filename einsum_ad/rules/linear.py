"""The rule table, linear elementwise section: add, subtract, negative, conj.

Part of the one rule table (``rules/__init__.py`` lists every primitive). Their derivatives
are themselves: no product is needed to state them, which is why the einsum node (whose
forward-mode rule sums terms) can build on this section. A cotangent may come back with the
broadcast shape: the backward pass's ``fit`` sums it back.
"""

from __future__ import annotations

from .. import backend as _backend
from ..core import Primitive
from .structural import fit_forward

__all__ = ["add_p", "sub_p", "neg_p", "conj_p"]

_of = _backend.of

add_p = Primitive("add", lambda a, b: _of(a).add(a, b))
add_p.def_vjp(lambda ans, a, b: lambda g: (g, g))


@add_p.def_jvp
def _add_jvp(p, t, params):
    ans = add_p(*p)
    ta, tb = t
    tan = tb if ta is None else ta if tb is None else add_p(ta, tb)
    return ans, fit_forward(tan, ans)


sub_p = Primitive("subtract", lambda a, b: _of(a).subtract(a, b))


@sub_p.def_fwd_vjp
def _sub_fwd_vjp(args, params, argnums):
    # only the differentiated operands' cotangents are computed (a - constant: no neg)
    ans = sub_p(*args)
    return ans, lambda g: tuple(g if i == 0 else neg_p(g) for i in argnums)


@sub_p.def_jvp
def _sub_jvp(p, t, params):
    ans = sub_p(*p)
    ta, tb = t
    tan = neg_p(tb) if ta is None else ta if tb is None else sub_p(ta, tb)
    return ans, fit_forward(tan, ans)


neg_p = Primitive("negative", lambda x: _of(x).negative(x))
neg_p.def_vjp(lambda ans, x: lambda g: (neg_p(g),))
neg_p.def_jvp(lambda p, t, params: (neg_p(p[0]), neg_p(t[0])))

# conj is linear; its transpose (no conjugation convention) is conj again, as in JAX.
conj_p = Primitive("conj", lambda x: _of(x).conj(x))
conj_p.def_vjp(lambda ans, x: lambda g: (conj_p(g),))
conj_p.def_jvp(lambda p, t, params: (conj_p(p[0]), conj_p(t[0])))


# ======================================================================== batching
#
# Elementwise: batched operands broadcast against the others (``batching.elementwise``).

from .batching import elementwise as _batch_elementwise  # noqa: E402

for _p in (add_p, sub_p, neg_p, conj_p):
    _p.def_batch(_batch_elementwise(_p))
