"""The PyTorch backend's own vocabulary: dtypes and promotion, kernels (diagonal views and
writes, scatter-add, indexing), memory ownership, host conversions, and what a tensor that
requires grad does (nothing is recorded inside the transforms)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")

import einsum_ad as ea  # noqa: E402
from einsum_ad import backend  # noqa: E402

B = backend.get("torch")
CUDA = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="torch.cuda.is_available() is False: no CUDA device here")


def t(a, **kw):
    return torch.as_tensor(np.asarray(a), **kw)


def test_backend_is_inferred_and_cached_per_type():
    x = torch.ones(2)
    assert backend.of(x) is B and B.name == "torch"
    assert backend.of(torch.nn.Parameter(torch.ones(2))) is B  # a subclass: registered too
    assert backend.of(torch.float32) is None and backend.of(torch.Size([2])) is None


def test_hot_path_is_torch_itself():
    # the lowering binds these once per plan: no wrapper between it and torch
    assert B.permute_dims is torch.permute and B.reshape is torch.reshape
    assert B.broadcast_to is torch.broadcast_to


@pytest.mark.parametrize("spec, want", [
    (np.float32, torch.float32), (np.dtype("float64"), torch.float64), ("int32", torch.int32),
    (float, torch.float64), (int, torch.int64), (complex, torch.complex128), (bool, torch.bool),
    (np.bool_, torch.bool), (torch.bfloat16, torch.bfloat16), ("bfloat16", torch.bfloat16),
    (np.complex64, torch.complex64), ("uint8", torch.uint8), (np.float16, torch.float16)])
def test_dtype_reads_every_spelling(spec, want):
    assert B.dtype(spec) is want


def test_dtype_kinds_names_and_bad_dtypes():
    kinds = {torch.bool: "b", torch.int8: "i", torch.int64: "i", torch.uint8: "u",
             torch.float16: "f", torch.bfloat16: "f", torch.float64: "f", torch.complex64: "c"}
    for dt, k in kinds.items():
        assert backend.kind(dt) == k and B.dtype_kind(dt) == k
    assert backend.dtype_name(torch.float32) == "float32"
    assert backend.dtype_name(torch.bfloat16) == "bfloat16"
    with pytest.raises(TypeError, match="torch backend has no dtype"):
        B.dtype("float128")


def test_promotion_is_torch_by_dtype_and_weak_for_python_scalars():
    assert B.result_type(torch.float32, torch.float64) is torch.float64
    assert B.result_type(torch.int64, torch.float32) is torch.float32  # torch's table
    assert B.result_type(torch.uint8, torch.int8) is torch.int16
    default = torch.get_default_dtype()
    assert B.weak_dtype(torch.int32, 2.5) is default
    assert B.weak_dtype(torch.float32, 2) is torch.float32
    assert B.weak_dtype(torch.bool, 1) is torch.int64
    assert B.weak_dtype(torch.float64, 1j) is torch.complex128
    assert B.weak_dtype(torch.float32, 1j) is torch.complex64
    assert B.weak_dtype(torch.int8, True) is torch.int8
    # between tensors by dtype alone: a 0-d float64 tensor is no weak scalar here
    x32 = torch.ones(3, dtype=torch.float32)
    assert ea.add(x32, torch.tensor(1.0, dtype=torch.float64)).dtype is torch.float64
    assert ea.multiply(x32, 2.0).dtype is torch.float32
    assert ea.multiply(torch.arange(3), 2.5).dtype is default


@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8, torch.int8, torch.int32,
                                   torch.int64, torch.float32])
def test_sums_accumulate_as_torch_sum(dtype):
    x = (torch.arange(12).reshape(3, 4) % 3).to(dtype)
    assert B.sum_dtype(dtype) is torch.sum(x).dtype
    assert ea.sum(x).dtype is torch.sum(x).dtype
    assert torch.equal(ea.sum(x, axis=0), torch.sum(x, dim=0))


@pytest.mark.parametrize("a, b, casting, want", [
    (torch.float32, torch.float64, "safe", True), (torch.float64, torch.float32, "safe", False),
    (torch.float64, torch.float32, "same_kind", True), (torch.float32, torch.int32,
                                                        "same_kind", False),
    (torch.int16, torch.float32, "safe", True), (torch.int64, torch.float32, "safe", False),
    (torch.float32, torch.float32, "no", True), (torch.float32, torch.float64, "equiv", False),
    (torch.complex64, torch.float32, "unsafe", True), (torch.bfloat16, torch.float32, "safe",
                                                        True),
    (torch.float32, torch.bfloat16, "safe", False), (torch.uint8, torch.bfloat16, "safe", True),
    (torch.bfloat16, torch.float16, "safe", False), (torch.float64, torch.bfloat16,
                                                     "same_kind", True)])
def test_can_cast_reads_numpys_casting_names(a, b, casting, want):
    assert B.can_cast(a, b, casting) is want


def test_einsum_casting_rules_on_tensors():
    x = torch.ones(3, dtype=torch.float64)
    with pytest.raises(TypeError, match="cannot cast"):
        ea.einsum("i,i->", x, x, dtype="float32")
    got = ea.einsum("i,i->", x, x, dtype=np.float32, casting="same_kind")
    assert got.dtype is torch.float32 and float(got) == 3.0


def test_constants_are_made_like_the_operand():
    x = torch.ones(2, dtype=torch.float32)
    c = B.const(2, x)
    assert c.shape == () and c.dtype is torch.float32 and c.device == x.device
    s = B.scalar(3, torch.int16, x.device)
    assert s.dtype is torch.int16 and int(s) == 3
    assert B.zeros((2, 3), dtype=torch.float64, device=x.device).dtype is torch.float64


def test_matmul_and_einsum_take_any_two_dtypes_and_bools():
    a32, b64 = torch.ones(2, 3, dtype=torch.float32), torch.ones(3, 2, dtype=torch.float64)
    assert B.matmul(a32, b64).dtype is torch.float64
    assert B.einsum("ij,jk->ik", a32, b64).dtype is torch.float64
    m = torch.tensor([[True, False], [False, False]])
    assert torch.equal(B.matmul(m, m), torch.tensor([[True, False], [False, False]]))
    assert B.einsum("ij,jk->ik", m, m).dtype is torch.bool
    assert B.einsum("ij,j->i", a32.to(torch.int64), torch.ones(3, dtype=torch.int8)).dtype \
        is torch.int64


def test_diagonal_is_a_strided_view_of_the_storage():
    base = torch.arange(60.0).reshape(3, 4, 5)
    x = base.permute(2, 0, 1)[1:4, :, :3]  # (3, 3, 3), not contiguous, offset
    view = B.diagonal(x, ((0, 1, 2),))
    assert view.untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
    want = torch.stack([x[i, i, i] for i in range(3)])
    assert torch.equal(view, want)
    assert torch.equal(B.diagonal(x, ((0, 2), (1,))),
                       torch.diagonal(x, dim1=0, dim2=2).T)


def test_write_diagonal_keeps_inf_and_the_shape():
    g = torch.tensor([1.0, float("inf"), -2.0])
    out = B.write_diagonal(g, (3, 3), ((0, 1),))
    assert torch.equal(torch.diagonal(out), g)
    assert int(torch.count_nonzero(out)) == 3 and not torch.isnan(out).any()
    out = B.write_diagonal(torch.arange(1.0, 7.0).reshape(3, 2), (3, 2, 3), ((0, 2), (1,)))
    want = torch.zeros(3, 2, 3)
    for i in range(3):
        for j in range(2):
            want[i, j, i] = 2 * i + j + 1
    assert torch.equal(out, want)
    # through the namespace: the VJP of a trace of a 3-d diagonal is written, not multiplied
    x = torch.zeros(2, 2, 2, dtype=torch.float64)
    g = ea.grad(lambda x: ea.einsum("iii->", x) * np.inf)(x)
    assert int(torch.isinf(g).sum()) == 2 and not torch.isnan(g).any()


def test_scatter_add_accumulates_repeated_indices():
    g = torch.arange(1.0, 7.0).reshape(3, 2)
    idx = torch.tensor([2, 0, 2])
    out = B.scatter_add(g, (idx, slice(None)), (4, 2))
    want = np.zeros((4, 2))
    np.add.at(want, (np.array([2, 0, 2]), slice(None)), g.numpy())
    assert torch.equal(out, torch.as_tensor(want))
    # a reversed slice (which torch's indexing refuses) on the basic path
    out = B.scatter_add(torch.ones(2), (slice(None, None, -2),), (4,))
    assert torch.equal(out, torch.tensor([0.0, 1.0, 0.0, 1.0]))


def test_indexing_follows_numpy_where_torch_differs():
    x = np.arange(24.0).reshape(2, 3, 4)
    X = t(x)
    from einsum_ad.numpy.structure import getitem
    for key in [(0, slice(None), np.array([1, 3])), (slice(None, None, -1), 1),
                (Ellipsis, slice(3, 0, -2)), (np.array([1, 0]), None, 2)]:
        got = getitem(X, key)
        np.testing.assert_array_equal(got.numpy(), x[key])


def test_owner_readonly_and_copy():
    x = torch.arange(6.0).reshape(2, 3)
    assert B.owner(x) == B.owner(x.T) == B.owner(x[1])
    assert B.owner(x) != B.owner(x.clone())
    assert B.readonly(torch.broadcast_to(x[:1], (4, 3)))
    assert not B.readonly(x) and not B.readonly(x.T)
    c = B.copy(torch.broadcast_to(x[:1], (4, 3)))
    assert not B.readonly(c) and B.owner(c) != B.owner(x)


def test_derivatives_never_alias_inputs_or_each_other():
    x = torch.ones(3, dtype=torch.float64)
    ct = torch.ones(3, dtype=torch.float64)
    _, fn = ea.vjp(lambda a, b: a + b, x, x)
    ga, gb = fn(ct)
    owners = {B.owner(x), B.owner(ct)}
    assert B.owner(ga) not in owners and B.owner(gb) not in owners | {B.owner(ga)}
    ga += 1  # writable, and writing it changes nothing else
    assert torch.equal(gb, ct) and torch.equal(x, torch.ones(3, dtype=torch.float64))
    g = ea.grad(lambda v: ea.sum(v))(x)  # a broadcast of the unit cotangent: copied
    assert not B.readonly(g)


def test_host_conversions():
    z = torch.tensor([1 + 2j, 3 - 1j]).conj()  # a lazy conjugate view
    np.testing.assert_array_equal(B.to_numpy(z), np.array([1 - 2j, 3 + 1j]))
    np.testing.assert_array_equal(B.to_numpy(torch.ones(2, dtype=torch.bfloat16)), np.ones(2))
    a = np.arange(3.0)[::-1]  # negative strides, which torch.from_numpy refuses
    y = B.from_numpy(a, like=torch.ones(1))
    assert torch.equal(y, torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64))
    b = np.ones(2)
    y = B.from_numpy(b)
    y += 1
    assert b[0] == 1.0  # a copy, never a view of the caller's array
    r = np.ones(2)
    r.flags.writeable = False
    assert torch.equal(B.from_numpy(r), torch.ones(2, dtype=torch.float64))


def test_conj_is_a_new_tensor():
    # conj_physical: no lazy conjugate view of the operand's memory
    z = torch.tensor([1 + 2j], dtype=torch.complex128)
    c = B.conj(z)
    assert not c.is_conj() and complex(c[0]) == 1 - 2j and B.owner(c) != B.owner(z)
    assert complex(ea.vdot(z, z)) == 5


def test_requires_grad_inside_and_outside_the_transforms():
    W = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    x = torch.randn(4, dtype=torch.float64)
    f = lambda W, x: ea.sum(ea.tanh(ea.einsum("ij,j->i", W, x)))
    # inside: einsum_ad differentiates, torch records nothing (results carry no graph)
    value, g = ea.value_and_grad(f)(W, x)
    assert value.grad_fn is None and g.grad_fn is None and not g.requires_grad
    out, fn = ea.vjp(lambda W: ea.einsum("ij,j->i", W, x), W)
    assert out.grad_fn is None and fn(torch.ones(3, dtype=torch.float64))[0].grad_fn is None
    # ... and the same gradient as torch.autograd's
    (want,) = torch.autograd.grad(torch.tanh(W @ x).sum(), W)
    assert torch.allclose(g, want, rtol=1e-12, atol=1e-12)
    # outside the transforms einsum_ad's functions are torch operations like any other:
    # torch records them, so ea.einsum can sit in a model torch.autograd differentiates
    y = f(W, x)
    assert y.grad_fn is not None
    (got,) = torch.autograd.grad(y, W)
    assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)


def test_results_are_tensors_also_when_0d():
    x = torch.eye(3, dtype=torch.float64)
    tr = ea.einsum("ii", x)
    assert isinstance(tr, torch.Tensor) and tr.shape == () and float(tr) == 3.0
    assert isinstance(ea.grad(lambda x: ea.einsum("ii", x))(x), torch.Tensor)


@CUDA
def test_cuda_tensors_stay_on_their_device():
    dev = torch.device("cuda")
    W = torch.randn(3, 4, device=dev, dtype=torch.float64)
    x = torch.randn(4, device=dev, dtype=torch.float64)
    f = lambda W, x: ea.sum(ea.tanh(ea.einsum("ij,j->i", W, x)) * 2.0 + np.float64(1.0))
    value, (gW, gx) = ea.value_and_grad(f, argnums=(0, 1))(W, x)
    assert value.device.type == gW.device.type == gx.device.type == "cuda"
    out, fn = ea.vjp(lambda W: ea.einsum("ij,j->i", W, x), W)
    assert fn(np.ones(3))[0].device.type == "cuda"  # a NumPy cotangent moved there
    assert ea.einsum("i,i->", x, [1.0, 2.0, 3.0, 4.0]).device.type == "cuda"
    ea.check_grads(f, (W, x), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_where_against_a_zero_is_bit_for_bit(dtype):
    # the CPU fast path (an integer product of the bits and the mask) selects exactly:
    # inf, nan and -0.0 kept where selected, +0.0 elsewhere, never a NaN from inf * 0
    g = torch.randn(64, 80).to(dtype)
    g[0, :4] = torch.tensor([float("inf"), float("-inf"), float("nan"), -0.0]).to(dtype)
    c = torch.rand(64, 80) > 0.5
    c[0, :4] = True
    c[1, :4] = False
    g[1, :4] = g[0, :4]
    zero = torch.zeros((), dtype=dtype)
    ity = {2: torch.int16, 4: torch.int32, 8: torch.int64}[g.element_size()]
    for got, want in ((B.where(c, g, zero), torch.where(c, g, zero)),
                      (B.where(c, zero, g), torch.where(c, zero, g))):
        assert got.dtype is dtype
        assert torch.equal(got.view(ity), want.view(ity))
    assert torch.equal(B.where(c, g, torch.ones((), dtype=dtype)).view(ity),
                       torch.where(c, g, torch.ones((), dtype=dtype)).view(ity))


def test_training_parameters_that_require_grad_builds_no_torch_graph():
    from einsum_ad import nn, optim
    mlp = nn.MLP([4, 5, 3])
    params = ea.tree_map(lambda p: torch.as_tensor(p).requires_grad_(), mlp.init(0))
    x = torch.randn(6, 4, dtype=torch.float64)
    opt = optim.adamw(0.01)
    state = opt.init(params)
    for _ in range(3):
        g = ea.grad(lambda p: nn.softmax_cross_entropy(mlp(p, x), [0, 1, 2, 0, 1, 2]))(params)
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
    for leaf in ea.tree_leaves((params, state, g)):
        if isinstance(leaf, torch.Tensor):
            assert leaf.grad_fn is None, leaf
