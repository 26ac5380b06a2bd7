"""Execution: contraction plans made once and cached, and the kernels of their steps.

Forward only: nothing here calls back into a rule. ``plan.py`` builds and caches a
:class:`Plan` per (canonical spec, shapes, dtypes, optimizer, backend); ``lowering.py``
turns each pairwise step into a callable on the backend's BLAS (``matmul``), broadcast
multiplies and views; ``slicing.py`` splits a contraction over a few labels so that each
slice fits a memory limit (``memory_limit=``), and maps slices over an executor.
"""

from .lowering import Nary, Pairwise, Spread, Unary, lower
from .plan import (
    OPTIMIZER_NAMES,
    Plan,
    Sliced,
    Step,
    StepAdjoint,
    clear_plan_cache,
    contract,
    optimize_key,
    plan,
    plan_cache_info,
    run,
    set_plan_cache_size,
    spread_lowering,
)
from .slicing import (
    SlicedPlan,
    Slicing,
    backward_slicing,
    limit_key,
    sliced_key,
    sliced_plan,
)

__all__ = ["Plan", "Step", "StepAdjoint", "plan", "run", "contract", "plan_cache_info",
           "clear_plan_cache", "set_plan_cache_size", "spread_lowering", "lower", "Unary",
           "Pairwise", "Nary", "Spread", "optimize_key", "OPTIMIZER_NAMES", "Sliced",
           "SlicedPlan", "Slicing", "sliced_plan", "sliced_key", "limit_key", "backward_slicing"]
