"""The torch process group as cross-fitting sees it: this process's rank, the shard of rows it
trains, and the two collective steps of local SGD (parameter averaging, summing score
matrices). Alone (no process group), each is the identity: ``world() == (0, 1)``.

:mod:`refinery.score.crossfit` calls these on every process; :mod:`refinery.score.distributed`
starts those processes.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """``(rank, world size)`` of this process; ``(0, 1)`` outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard_of(keys: np.ndarray, world_size: int) -> np.ndarray:
    """The process (``0 … world_size-1``) that trains each row: bits 32-63 of its key (the
    low bits pick the fold, so shards and folds are independent)."""
    return ((keys >> np.uint64(32)) % np.uint64(world_size)).astype(np.int64)


def average_parameters(model: torch.nn.Module) -> None:
    """Replace every parameter by its mean over the process group (no-op alone)."""
    _, size = world()
    if size == 1:
        return
    for parameter in model.parameters():
        dist.all_reduce(parameter.data, op=dist.ReduceOp.SUM)
        parameter.data /= size


def sum_over_processes(values: np.ndarray, device: torch.device) -> np.ndarray:
    """Element-wise sum of ``values`` over the process group (itself alone)."""
    _, size = world()
    if size == 1:
        return values
    tensor = torch.as_tensor(values, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.cpu().numpy()
