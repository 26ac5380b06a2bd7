"""Execution: contraction plans made once and cached, and the kernels of their steps.

Forward only: nothing here calls back into a rule. ``plan.py`` builds and caches a
:class:`Plan` per (canonical spec, shapes, dtypes, optimizer, backend); ``lowering.py``
turns each pairwise step into a callable on the backend's BLAS (``matmul``), broadcast
multiplies and views.
"""

from .lowering import Nary, Pairwise, Spread, Unary, lower
from .plan import (
    OPTIMIZER_NAMES,
    Plan,
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

__all__ = ["Plan", "Step", "StepAdjoint", "plan", "run", "contract", "plan_cache_info",
           "clear_plan_cache", "set_plan_cache_size", "spread_lowering", "lower", "Unary",
           "Pairwise", "Nary", "Spread", "optimize_key", "OPTIMIZER_NAMES"]
