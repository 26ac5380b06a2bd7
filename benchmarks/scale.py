"""Beyond one machine's memory (issue 12): sliced contraction and differentiation at scale.

Three measurements, printed as markdown tables and written as JSON under
``benchmarks/results/`` (``scale.json``):

1. **network**: a closed tensor network on a random 3-regular graph (bond 4) whose best
   contraction order found by cotengra's hyper-optimizer (minimising the largest
   intermediate) needs an intermediate of at least 8 GiB in float64, contracted and
   differentiated (every operand) with ``memory_limit="1GiB"``: time, peak memory
   (tracemalloc, which NumPy reports its allocations to, and the process's peak RSS over
   its baseline), against the unsliced order's requirement. The gradient is checked
   against an unsliced run on a smaller network of the same kind.
2. **peers**: the forward against cotengra's own sliced contraction
   (``ContractionTree.contract`` on the same path sliced by cotengra to the same size) on
   the same network; forward+backward against JAX differentiating cotengra's sliced
   contraction (``jax.grad`` of ``tree.contract(..., backend="jax")``) on a smaller
   network that JAX's tape (every slice's intermediates) can hold. JAX's peak is the
   process's peak RSS (Linux ``VmHWM`` reset through ``/proc/self/clear_refs`` before the
   measured call), as is einsum_ad's in the same table.
3. **dask**: forward+backward of a contraction of Dask operands of 4 GiB in all on a
   ``LocalCluster`` of 2 workers with a 1 GiB memory limit each, against
   ``dask.array.einsum``'s forward alone; whether any worker restarted.

Every measurement runs in a fresh subprocess (its peak RSS is its own) whose address space
is capped (``RLIMIT_AS``) a little above what the sliced plan may use, so that an
accidental unsliced intermediate fails with MemoryError instead of taking the machine.
The paths found by cotengra are cached in ``benchmarks/results/scale_paths.json``.

Run: ``python benchmarks/scale.py [--quick] [--only network,peers,dask] [--threads N]``
(``--quick``: networks a hundredth the size, for checking the script, ~2 minutes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, HERE)

import _util  # noqa: E402

GiB = 1 << 30
JAX_CAP = 16 * GiB  # the address space of JAX's run (a MemoryError past it, not the OOM killer)

# (name, vertices, degree, bond, seed, memory limit): the big network and its smaller kin
NETWORKS = {
    "big": dict(n=100, degree=3, bond=4, seed=0, limit="1GiB"),
    "mid": dict(n=80, degree=3, bond=4, seed=0, limit="8MiB"),
    "small": dict(n=36, degree=3, bond=4, seed=0, limit=None),
}
QUICK = {
    "big": dict(n=64, degree=3, bond=4, seed=0, limit="256KiB"),
    "mid": dict(n=56, degree=3, bond=4, seed=0, limit="256KiB"),
    "small": dict(n=30, degree=3, bond=4, seed=0, limit=None),
}


# ----------------------------------------------------------------------------- networks


def regular_graph(n, degree, seed):
    """The edges of a random ``degree``-regular graph on ``n`` vertices (no loops, no
    multi-edges), by the pairing model with rejection."""
    import numpy as np

    rng = np.random.default_rng(seed)
    while True:
        stubs = rng.permutation(np.repeat(np.arange(n), degree)).reshape(-1, 2)
        edges = {tuple(sorted(map(int, p))) for p in stubs}
        if all(a != b for a, b in stubs) and len(edges) == len(stubs):
            return sorted(edges)


def network(n, degree, bond, seed, **_):
    """Sublists (integer labels, one per edge) and shapes of the closed network: one
    tensor per vertex, one bond of size ``bond`` per edge."""
    legs = [[] for _ in range(n)]
    for e, (a, b) in enumerate(regular_graph(n, degree, seed)):
        legs[a].append(e)
        legs[b].append(e)
    return legs, [(bond,) * len(lg) for lg in legs]


def operands(shapes, seed=1):
    import numpy as np

    rng = np.random.default_rng(seed)
    # entries of about 1/sqrt(bond): the network's value stays within float64's range
    return [rng.standard_normal(s) / math.sqrt(s[0]) for s in shapes]


def _ctg_inputs(legs):
    from opt_einsum import get_symbol

    inputs = [tuple(get_symbol(i) for i in lg) for lg in legs]
    return inputs, {ix: None for t in inputs for ix in t}


def find_paths(net, trials, cache):
    """cotengra's best order for FLOPs (the path every system contracts) and its best
    for the largest intermediate (the unsliced requirement), cached per network."""
    graph = {k: v for k, v in net.items() if k != "limit"}  # the path ignores the limit
    key = json.dumps(graph, sort_keys=True) + f"/{trials}"
    if key in cache:
        return cache[key]
    import cotengra as ctg

    legs, shapes = network(**net)
    inputs, sizes = _ctg_inputs(legs)
    sizes = {ix: net["bond"] for ix in sizes}
    found = {}
    for minimize in ("flops", "size"):
        t0 = time.perf_counter()
        opt = ctg.HyperOptimizer(minimize=minimize, max_repeats=trials, progbar=False,
                                 methods=["greedy", "labels", "random-greedy"],
                                 parallel=False, optlib="random")
        tree = opt.search(inputs, (), sizes)
        found[minimize] = {"path": [list(p) for p in tree.get_path()],
                           "largest": int(tree.max_size()),
                           "flops": float(tree.total_flops()),
                           "seconds": time.perf_counter() - t0}
    cache[key] = found
    return found


# ----------------------------------------------------------------------------- memory


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


def reset_peak_rss():
    """Reset the kernel's peak RSS of this process (``VmHWM``) to its current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Peak:
    """Peak memory of a block: tracemalloc (when ``trace``) and peak RSS over the RSS
    before it."""

    def __init__(self, trace=True):
        self.trace = trace

    def __enter__(self):
        import gc
        import tracemalloc

        gc.collect()
        self.rss0 = _status("VmRSS")
        self.reset = reset_peak_rss()
        if self.trace:
            tracemalloc.start()
        self.cpu0 = _util._cpu_snapshot()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        import tracemalloc

        self.seconds = time.perf_counter() - self.t0
        self.others = _util._others_load(self.cpu0, _util._cpu_snapshot())
        self.traced = tracemalloc.get_traced_memory()[1] if self.trace else None
        if self.trace:
            tracemalloc.stop()
        hwm = _status("VmHWM")
        self.rss = (hwm - self.rss0) if (self.reset and hwm is not None) else None
        return False

    def figures(self):
        return {"seconds": self.seconds, "tracemalloc_peak": self.traced,
                "rss_peak_over_base": self.rss, "others_load": round(self.others, 2)}


def cap_address_space(nbytes):
    import resource

    nbytes = int(nbytes)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        nbytes = min(nbytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (nbytes, hard))
    return nbytes


# ----------------------------------------------------------------------------- tasks
#
# Each runs in its own process: ``scale.py --task NAME --job FILE`` prints one JSON line.


def _limit_bytes(limit):
    from einsum_ad.execute import limit_key

    key = limit_key(limit)
    return key[1] if isinstance(key, tuple) else key * 8


def _args(legs, ops):
    return [x for pair in zip(ops, legs) for x in pair] + [[]]


def task_ours(job):
    """einsum_ad: forward, then forward+backward (every operand), sliced under the limit;
    each timed (no tracing) and measured (tracemalloc) in separate calls."""
    import numpy as np

    import einsum_ad as ea
    from einsum_ad.execute import backward_slicing, sliced_key, sliced_plan
    from einsum_ad.spec import normalize

    net, path, limit = job["net"], job["path"], job["limit"]
    legs, shapes = network(**net)
    ops = operands(shapes)
    opt = [tuple(p) for p in path]

    def fwd():
        return ea.einsum(*_args(legs, ops), optimize=opt, memory_limit=limit)

    def both():
        return ea.value_and_grad(lambda *o: ea.einsum(*_args(legs, o), optimize=opt,
                                                      memory_limit=limit),
                                 argnums=tuple(range(len(ops))))(*ops)

    out = {"operands_bytes": int(sum(o.nbytes for o in ops))}
    t0 = time.perf_counter()
    value = fwd()  # plans made (and the finder run) here
    out["first_forward_seconds"] = time.perf_counter() - t0
    # the plan the call above made (what ``ea.explain`` reports; its string form has too
    # few letters for this network)
    spec = normalize([tuple(lg) for lg in legs], (), shapes)
    sp = sliced_plan(spec, shapes, [o.dtype for o in ops], sliced_key(opt, limit))
    for name, s in (("slicing", sp.forward), ("backward_slicing", backward_slicing(sp))):
        c = s.cost
        out[name] = {"limit": sp.limit, "slices": c.count, "labels": len(s.labels),
                     "flops": c.flops, "flops_unsliced": sp.unsliced.flops, "peak": c.peak,
                     "peak_unsliced": sp.unsliced.peak, "live": c.live, "held": c.held,
                     "finder": s.finder}
    with Peak(trace=False) as p:
        fwd()
    out["forward"] = p.figures()
    with Peak() as p:
        fwd()
    out["forward"]["tracemalloc_peak"] = p.traced
    with Peak(trace=False) as p:
        v, grads = both()
    out["both"] = p.figures()
    if job.get("trace_both", True):
        with Peak() as p:
            v, grads = both()
        out["both"]["tracemalloc_peak"] = p.traced
    out["value"] = float(value)
    out["grad_norms"] = [float(np.linalg.norm(g)) for g in grads[:4]]
    out["cotangents_bytes"] = int(sum(g.nbytes for g in grads))
    return out


def _cotengra_tree(legs, bond, path, limit_elements):
    import cotengra as ctg

    inputs, sizes = _ctg_inputs(legs)
    sizes = {ix: bond for ix in sizes}
    tree = ctg.ContractionTree.from_path(inputs, (), sizes, path=[tuple(p) for p in path])
    return tree.slice(target_size=limit_elements, seed=0) if limit_elements else tree


def task_cotengra(job):
    """cotengra's own sliced forward: the same path, sliced by cotengra to the limit."""
    net, path = job["net"], job["path"]
    legs, shapes = network(**net)
    ops = operands(shapes)
    tree = _cotengra_tree(legs, net["bond"], path, _limit_bytes(job["limit"]) // 8)
    out = {"slices": int(tree.nslices), "largest": int(tree.max_size()),
           "flops": float(tree.total_flops())}
    tree.contract(ops, backend="numpy")  # warm: cotengra's expressions made
    with Peak(trace=False) as p:
        value = tree.contract(ops, backend="numpy")
    out["forward"] = p.figures()
    with Peak() as p:
        tree.contract(ops, backend="numpy")
    out["forward"]["tracemalloc_peak"] = p.traced
    out["value"] = float(value)
    return out


def task_jax(job):
    """JAX differentiating cotengra's sliced contraction (its tape holds every slice)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np

    net, path = job["net"], job["path"]
    legs, shapes = network(**net)
    ops = [jnp.asarray(o) for o in operands(shapes)]
    tree = _cotengra_tree(legs, net["bond"], path, _limit_bytes(job["limit"]) // 8)

    def f(arrays):
        return tree.contract(arrays, backend="jax")

    grad = jax.value_and_grad(f)
    out = {"slices": int(tree.nslices), "jax": jax.__version__,
           "devices": [str(d) for d in jax.devices()]}
    t0 = time.perf_counter()
    v, g = grad(ops)
    jax.block_until_ready(g)
    out["first_call_seconds"] = time.perf_counter() - t0
    with Peak(trace=False) as p:
        v, g = grad(ops)
        jax.block_until_ready(g)
    out["both"] = p.figures()
    out["value"] = float(v)
    out["grad_norms"] = [float(np.linalg.norm(np.asarray(x))) for x in g[:4]]
    if job.get("jit") and tree.nslices <= 64:  # XLA compiles every slice, unrolled
        jitted = jax.jit(grad)
        t0 = time.perf_counter()
        jax.block_until_ready(jitted(ops))
        out["jit_first_call_seconds"] = time.perf_counter() - t0
        with Peak(trace=False) as p:
            jax.block_until_ready(jitted(ops))
        out["jit_both"] = p.figures()
    return out


def task_gradcheck(job):
    """The gradient of the sliced contraction against the unsliced one (small network)."""
    import numpy as np

    import einsum_ad as ea
    from einsum_ad.execute import sliced_key, sliced_plan
    from einsum_ad.spec import normalize

    net, path = job["net"], [tuple(p) for p in job["path"]]
    legs, shapes = network(**net)
    ops = operands(shapes)
    spec = normalize([tuple(lg) for lg in legs], (), shapes)
    dts = [ops[0].dtype] * len(ops)
    unsliced = sliced_plan(spec, shapes, dts, sliced_key(path, None)).unsliced
    limit = max(1, unsliced.peak // 16)
    sp = sliced_plan(spec, shapes, dts, sliced_key(path, limit))

    def grads(limit):
        return ea.value_and_grad(lambda *o: ea.einsum(*_args(legs, o), optimize=path,
                                                      memory_limit=limit),
                                 argnums=tuple(range(len(ops))))(*ops)

    v1, g1 = grads(limit)
    v0, g0 = grads(None)
    err = max(float(np.abs(a - b).max()) for a, b in zip(g1, g0))
    scale = max(float(np.abs(b).max()) for b in g0)
    return {"limit": limit, "unsliced_peak": unsliced.peak, "slices": sp.forward.count,
            "value_rel_error": abs(float(v1) - float(v0)) / abs(float(v0)),
            "grad_max_rel_error": err / scale}


TASKS = {"ours": task_ours, "cotengra": task_cotengra, "jax": task_jax,
         "gradcheck": task_gradcheck}


def run_task(name, job, cap=None, timeout=3600):
    """Run task ``name`` in a fresh process; its JSON answer (or {"error": ...})."""
    path = os.path.join(RESULTS, f".job-{os.getpid()}-{name}.json")
    with open(path, "w") as f:
        json.dump(job, f)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, os.path.abspath(__file__), "--task", name, "--job", path,
           "--threads", str(job["threads"])]
    if cap:
        cmd += ["--cap", str(int(cap))]
    _util.wait_idle(max_wait=120, threshold=0.5)  # the machine may be shared
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    finally:
        os.remove(path)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-3:]}
    return json.loads(lines[-1])


# ----------------------------------------------------------------------------- dask


def _worker_memory():
    """This worker process's pid and peak RSS (``VmHWM``) in bytes."""
    return os.getpid(), _status("VmHWM")


def dask_part(args, threads):
    """Forward+backward on Dask operands larger than the workers' memory, on a cluster:
    ``sum(einsum("bij,bjk->bik", a, b))`` and both cotangents (each as large as its
    operand), computed on a LocalCluster of 2 workers with 1 GiB each; against
    ``dask.array.einsum``'s forward alone."""
    sys.path.insert(0, ROOT)
    try:
        import dask
        import dask.array as da
        import distributed
    except ImportError as exc:
        return {"error": f"dask/distributed not installed: {exc}"}
    import numpy as np

    import einsum_ad as ea
    from einsum_ad import backend as _backend

    try:
        _backend.get("dask")
    except (ValueError, ImportError) as exc:
        return {"error": f"einsum_ad has no Dask backend here: {exc}"}
    total = (1 if args.quick else 4) * GiB  # the two operands together
    m = 64
    batch = total // 2 // 8 // (m * m)
    chunk = 2048
    out = {"subscripts": "bij,bjk->bik", "shape": [batch, m, m], "chunks": [chunk, m, m],
           "operands_bytes": 2 * batch * m * m * 8, "workers": 2, "worker_memory": "1GiB",
           "threads_per_worker": max(1, threads // 2), "dask": dask.__version__}
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=out["threads_per_worker"],
                                       memory_limit="1GiB", dashboard_address=":0",
                                       processes=True, silence_logs=40)
    client = distributed.Client(cluster)
    try:
        def operands():  # made on the workers, chunk by chunk (never on this process)
            a = da.random.default_rng(0).standard_normal((batch, m, m), chunks=(chunk, m, m))
            b = da.random.default_rng(1).standard_normal((batch, m, m), chunks=(chunk, m, m))
            return a / 8, b / 8

        def loss(a, b):
            return ea.sum(ea.einsum("bij,bjk->bik", a, b))

        before = dict(client.run(_worker_memory))  # worker address -> (pid, peak RSS)
        a, b = operands()
        t0 = time.perf_counter()
        want = float(da.einsum("bij,bjk->bik", a, b).sum().compute())
        out["dask_einsum_forward_seconds"] = time.perf_counter() - t0
        a, b = operands()
        t0 = time.perf_counter()
        got = float(loss(a, b).compute())
        out["einsum_ad_forward_seconds"] = time.perf_counter() - t0
        a, b = operands()
        t0 = time.perf_counter()
        value, (ga, gb) = ea.value_and_grad(loss, argnums=(0, 1))(a, b)
        out["graph_seconds"] = time.perf_counter() - t0  # lazy: nothing computed yet
        value, sa, sb = da.compute(value, ga.sum(), gb.sum())
        out["einsum_ad_forward_backward_seconds"] = time.perf_counter() - t0
        # the cotangents' sums: g = 1, so ga = sum_k b[b, j, k] and gb = sum_i a[b, i, j]
        ref_a, ref_b = da.compute(b.sum(axis=2).sum() * m, a.sum(axis=1).sum() * m)
        out["values_match"] = bool(np.isclose(float(value), want, rtol=1e-9)
                                   and np.isclose(got, want, rtol=1e-9)
                                   and np.isclose(float(sa), float(ref_a), rtol=1e-9)
                                   and np.isclose(float(sb), float(ref_b), rtol=1e-9))
        after = dict(client.run(_worker_memory))
        # a restarted worker has a new process (and address): pids not seen before
        out["worker_restarts"] = len({pid for pid, _ in after.values()}
                                     - {pid for pid, _ in before.values()})
        out["worker_peak_rss"] = [hwm for _, hwm in after.values()]
    finally:
        client.close()
        cluster.close()
    return out


# ----------------------------------------------------------------------------- report


def _b(n):
    if n is None:
        return "–"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return str(n)


def report(res) -> str:
    lines = []
    env = res["environment"]
    lines += [f"# Sliced contractions at scale (issue 12){' (quick)' if res['quick'] else ''}",
              ""] + _util.header_lines(env) + [""]
    net = res.get("network")
    if net:
        big = net["big"]
        o = net.get("ours", {})
        lines += [f"## 1. Network: random 3-regular graph, {big['n']} tensors, bond "
                  f"{big['bond']}, float64, memory_limit={big['limit']}", ""]
        req = net["paths"]
        lines.append(f"- unsliced requirement: the FLOP-best order cotengra finds needs a "
                     f"largest intermediate of {_b(req['flops']['largest'] * 8)} "
                     f"({req['flops']['flops']:.3g} FLOPs); its size-minimising search's "
                     f"best order needs {_b(req['size']['largest'] * 8)}")
        if "error" in o:
            lines.append(f"- einsum_ad: error {o['error']}")
        else:
            s = o["slicing"]
            lines.append(f"- einsum_ad's forward slicing: {s['slices']} slices over "
                         f"{s['labels']} labels ({s['finder']}), FLOP overhead "
                         f"{s['flops'] / s['flops_unsliced']:.3f}x, largest intermediate "
                         f"{_b(s['peak_unsliced'] * 8)} -> {_b(s['peak'] * 8)}")
            b = o["backward_slicing"]
            if b["slices"] != s["slices"]:
                lines.append(f"- its backward slicing: {b['slices']} slices, FLOP overhead "
                             f"{b['flops'] / s['flops_unsliced']:.3f}x (what one slice's "
                             f"backward holds must fit {4} limits)")
            lim = _limit_bytes_plain(big["limit"])
            rows = []
            for what, key, extra in (("forward", "forward", 0),
                                     ("forward+backward", "both", o["cotangents_bytes"])):
                r = o[key]
                rows.append([what, _util.fmt_time(r["seconds"]), _b(r["tracemalloc_peak"]),
                             _b(r["rss_peak_over_base"]),
                             f"{r['tracemalloc_peak'] / lim:.2f}",
                             f"{(r['tracemalloc_peak'] - extra) / lim:.2f}"])
            lines += ["", _util.markdown_table(
                ["einsum_ad", "time", "peak (tracemalloc)", "peak RSS over base",
                 "peak / limit", "(peak - cotangents) / limit"], rows)]
        c = net.get("cotengra", {})
        if c and "error" not in c and "error" not in o:
            lines += ["", _util.markdown_table(
                ["forward, same network", "slices", "time", "peak (tracemalloc)",
                 "peak RSS over base", "time / cotengra"],
                [["einsum_ad", o["slicing"]["slices"], _util.fmt_time(o["forward"]["seconds"]),
                  _b(o["forward"]["tracemalloc_peak"]), _b(o["forward"]["rss_peak_over_base"]),
                  f"{o['forward']['seconds'] / c['forward']['seconds']:.2f}"],
                 ["cotengra tree.contract (numpy)", c["slices"],
                  _util.fmt_time(c["forward"]["seconds"]), _b(c["forward"]["tracemalloc_peak"]),
                  _b(c["forward"]["rss_peak_over_base"]), "1.00"]])]
        elif c:
            lines.append(f"- cotengra: {c.get('error')}")
        g = net.get("gradcheck", {})
        if g and "error" not in g:
            lines.append(f"\n- gradient check ({net['small']['n']} tensors, limit "
                         f"{g['limit']} elements = unsliced/16, {g['slices']} slices): max "
                         f"|sliced - unsliced| / max |unsliced| = {g['grad_max_rel_error']:.2e}; "
                         f"value {g['value_rel_error']:.2e}")
        elif g:
            lines.append(f"- gradient check: {g.get('error')}")
    peers = res.get("peers")
    if peers:
        mid = peers["mid"]
        lines += ["", f"## 2. Forward+backward against JAX differentiating cotengra's sliced "
                      f"contraction ({mid['n']} tensors, bond {mid['bond']}, "
                      f"memory_limit={mid['limit']})", ""]
        o, j = peers.get("ours", {}), peers.get("jax", {})
        rows = []
        if "error" not in o:
            rows.append(["einsum_ad", o["slicing"]["slices"], _util.fmt_time(o["both"]["seconds"]),
                         _b(o["both"]["rss_peak_over_base"]), _b(o["both"]["tracemalloc_peak"])])
        if j and "error" not in j:
            rows.append([f"jax {j['jax']} grad of cotengra (eager, cotengra's per-slice jit)",
                         j["slices"], _util.fmt_time(j["both"]["seconds"]),
                         _b(j["both"]["rss_peak_over_base"]), "–"])
            if "jit_both" in j:
                rows.append(["jax.jit(grad) of cotengra", j["slices"],
                             _util.fmt_time(j["jit_both"]["seconds"]),
                             _b(j["jit_both"]["rss_peak_over_base"]), "–"])
        lines.append(_util.markdown_table(["system", "slices", "time", "peak RSS over base",
                                           "peak (tracemalloc)"], rows))
        if rows and j and "error" not in j and "error" not in o:
            lim = _limit_bytes_plain(mid["limit"])
            ours, theirs = o["both"], j["both"]
            lines.append(f"\n- einsum_ad / JAX time: {ours['seconds'] / theirs['seconds']:.2f} "
                         f"(target <= 1.5); peak RSS: einsum_ad "
                         f"{_b(ours['rss_peak_over_base'])} "
                         f"({ours['rss_peak_over_base'] / lim:.1f} limits), JAX "
                         f"{_b(theirs['rss_peak_over_base'])} "
                         f"({theirs['rss_peak_over_base'] / lim:.1f} limits)")
        for name, r in (("einsum_ad", o), ("jax", j)):
            if r and "error" in r:
                lines.append(f"- {name}: {r['error']}")
    d = res.get("dask")
    if d:
        lines += ["", "## 3. Dask operands on a LocalCluster (2 workers x 1 GiB)", ""]
        if "error" in d:
            lines.append(f"- {d['error']}")
        else:
            lines.append(f"`sum(einsum(\"{d['subscripts']}\", a, b))`, a and b of shape "
                         f"{tuple(d['shape'])} in chunks of {tuple(d['chunks'])}, float64 "
                         f"(dask {d['dask']}, {d['threads_per_worker']} thread(s) per worker)")
            lines.append("")
            lines.append(_util.markdown_table(
                ["operands", "dask.array.einsum forward", "einsum_ad forward",
                 "einsum_ad forward+backward (both cotangents)", "worker restarts",
                 "workers' peak RSS", "values match"],
                [[_b(d["operands_bytes"]), _util.fmt_time(d["dask_einsum_forward_seconds"]),
                  _util.fmt_time(d["einsum_ad_forward_seconds"]),
                  _util.fmt_time(d["einsum_ad_forward_backward_seconds"]),
                  d["worker_restarts"], ", ".join(_b(x) for x in d["worker_peak_rss"]),
                  d["values_match"]]]))
    return "\n".join(lines)


def _limit_bytes_plain(limit):
    sys.path.insert(0, ROOT)
    return _limit_bytes(limit)


# ----------------------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small networks (checks the script)")
    ap.add_argument("--only", default="network,peers,dask",
                    help="comma-separated parts: network, peers, dask")
    ap.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    ap.add_argument("--trials", type=int, default=None,
                    help="cotengra hyper-optimizer trials per path search (default 128)")
    ap.add_argument("--repeat", type=int, default=2,
                    help="alternated runs of einsum_ad and JAX in the peers part (default 2)")
    ap.add_argument("--json", default=None, help="default: benchmarks/results/scale.json")
    ap.add_argument("--task", help=argparse.SUPPRESS)
    ap.add_argument("--job", help=argparse.SUPPRESS)
    ap.add_argument("--cap", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    threads = _util.pin_threads(args.threads)
    if args.task:
        if args.cap:
            cap_address_space(args.cap)
        sys.path.insert(0, ROOT)
        with open(args.job) as f:
            job = json.load(f)
        _util.limit_loaded_pools(threads)
        print(json.dumps(TASKS[args.task](job)))
        return 0
    import numpy as np  # noqa: F401  (after pinning: the environment header reads it)

    sys.path.insert(0, ROOT)
    os.makedirs(RESULTS, exist_ok=True)
    nets = QUICK if args.quick else NETWORKS
    trials = args.trials or (16 if args.quick else 128)
    cache_path = os.path.join(RESULTS, "scale_paths.json")
    cache = json.load(open(cache_path)) if os.path.exists(cache_path) else {}
    parts = set(args.only.split(","))
    res = {"quick": args.quick, "environment": _util.environment(
        threads, _util.limit_loaded_pools(threads)), "threads": threads}
    import einsum_ad.execute.slicing as slicing

    def guard(limit):
        """The address space a task may use: what the sliced plan holds and a step's copies
        (WORKING_FACTOR + 2 limits), and 3 GiB for the interpreter, the libraries and the
        operands and cotangents: far below the unsliced intermediate for the big network."""
        return (slicing.WORKING_FACTOR + 2) * _limit_bytes(limit) + 3 * GiB

    if "network" in parts:
        big, small = nets["big"], nets["small"]
        found = find_paths(big, trials, cache)
        json.dump(cache, open(cache_path, "w"), indent=1)
        job = {"net": big, "path": found["flops"]["path"], "limit": big["limit"],
               "threads": threads}
        net = {"big": big, "small": small,
               "paths": {k: {kk: vv for kk, vv in v.items() if kk != "path"}
                         for k, v in found.items()}}
        print(f"network: {big}; unsliced largest intermediate (FLOP-best order) "
              f"{_b(found['flops']['largest'] * 8)}, size-best {_b(found['size']['largest'] * 8)}",
              flush=True)
        net["ours"] = run_task("ours", job, cap=guard(big["limit"]))
        print("einsum_ad:", json.dumps(net["ours"])[:400], flush=True)
        net["cotengra"] = run_task("cotengra", job, cap=guard(big["limit"]))
        print("cotengra:", json.dumps(net["cotengra"])[:400], flush=True)
        sfound = find_paths(small, trials, cache)
        json.dump(cache, open(cache_path, "w"), indent=1)
        net["gradcheck"] = run_task("gradcheck", {"net": small, "path": sfound["flops"]["path"],
                                                  "threads": threads})
        print("gradcheck:", net["gradcheck"], flush=True)
        res["network"] = net
    if "peers" in parts:
        mid = nets["mid"]
        found = find_paths(mid, trials, cache)
        json.dump(cache, open(cache_path, "w"), indent=1)
        job = {"net": mid, "path": found["flops"]["path"], "limit": mid["limit"],
               "threads": threads, "jit": True}
        peers = {"mid": mid, "paths": {k: {kk: vv for kk, vv in v.items() if kk != "path"}
                                       for k, v in found.items()}}
        runs = {"ours": [], "jax": []}
        for _ in range(args.repeat):  # alternated: a shared machine's load hits both
            runs["ours"].append(run_task("ours", dict(job, trace_both=False),
                                         cap=guard(mid["limit"])))
            print("einsum_ad:", json.dumps(runs["ours"][-1])[:300], flush=True)
            # capped too: JAX's tape holds every slice, and past the machine's memory the
            # kernel's OOM killer would end it (or another process) without a word
            runs["jax"].append(run_task("jax", job, cap=JAX_CAP))
            print("jax:", json.dumps(runs["jax"][-1])[:300], flush=True)
        for name, rs in runs.items():  # the fastest run of each
            good = [r for r in rs if "error" not in r]
            peers[name] = min(good, key=lambda r: r["both"]["seconds"]) if good else rs[-1]
        peers["runs"] = runs
        res["peers"] = peers
    if "dask" in parts:
        res["dask"] = dask_part(args, threads)
        print("dask:", res["dask"], flush=True)
    text = report(res)
    print()
    print(text)
    out = args.json or os.path.join(RESULTS, "scale-quick.json" if args.quick
                                    else "scale.json")
    _util.write_json(out, res)
    with open(os.path.splitext(out)[0] + ".md", "w") as f:
        f.write(text + "\n")
    print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
