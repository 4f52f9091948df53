"""Cross-fitting on several processes, GPUs or machines (Spark's ``TorchDistributor``).

Data parallelism with periodic model averaging (local SGD): each of the ``W`` processes
trains the fold's model on its own shard of the training rows (``key >> 32 mod W``, so the
shards are fixed by the row ids), and after every epoch the processes replace their weights
by the mean over all processes (one ``all_reduce`` of the parameters):

    θ ← (1 / W) Σ_w θ_w

A linear model over sparse features is close to convex, where averaging after local steps
converges like synchronous SGD (Zinkevich et al. 2010, "Parallelized Stochastic Gradient
Descent"), and it sends the parameters once per epoch instead of (sparse) gradients every
step, which NCCL cannot all-reduce. Held-out rows are scored in shards as well; a sum
``all_reduce`` of the zero-filled probability matrices gives every process all of them.

:func:`crossfit_on_workers` is the function ``TorchDistributor.run`` starts on every
process: it reads the group folder the executors' shards were gathered into
(:func:`refinery.score.dataset.gather_group`; shared storage when the processes run on
executors) and rank 0 writes the results back.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from refinery.score.crossfit import CrossFit, crossfit, folds_of_keys, mapped_output
from refinery.score.dataset import load_group
from refinery.score.model import resolve_device

RESULT_FILE = "crossfit.pkl"


def save_meta(folder: Path, **meta) -> None:
    """Store the arguments of :func:`crossfit_on_workers` other than the data, which it reads
    from the group folder itself (:func:`refinery.score.dataset.gather_group`)."""
    (folder / "meta.pkl").write_bytes(pickle.dumps(meta))


def crossfit_on_workers(folder: str) -> str:
    """Run on every process by ``TorchDistributor``: join the process group, cross-fit the
    stored inputs on this process's shard, and (rank 0) write the result; returns its path."""
    path = Path(folder)
    meta = pickle.loads((path / "meta.pkl").read_bytes())
    use_cuda = meta["device"] == "cuda"
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if use_cuda else "gloo")
    try:
        group = load_group(path)
        keys = np.asarray(group.keys)
        rank = dist.get_rank()
        fit = crossfit(
            group.bags,
            group.labels,
            meta["num_classes"],
            folds_of_keys(keys, meta["options"].folds),
            meta["buckets"],
            meta["options"],
            resolve_device("cuda" if use_cuda else "cpu"),
            keys=keys,
            scratch=rank_scratch(path, rank),
        )
        out = path / RESULT_FILE
        if rank == 0:  # the probabilities stay in rank 0's scratch files: read_result maps them
            out.write_bytes(pickle.dumps(replace(fit, ema=None, final=None)))  # type: ignore[arg-type]  # mapped back by read_result
        dist.barrier()
        return str(out)
    finally:
        dist.destroy_process_group()


def rank_scratch(folder: Path, rank: int) -> Path:
    """Where process ``rank`` keeps its probability matrices (every process computes the same)."""
    return folder / f"fit-rank{rank}"


def read_result(path: Path) -> CrossFit:
    """The :class:`~refinery.score.crossfit.CrossFit` :func:`crossfit_on_workers` wrote to
    ``path``, its ``ema`` and ``final`` memory-mapped from rank 0's scratch files."""
    fit = pickle.loads(path.read_bytes())
    scratch = rank_scratch(path.parent, 0)
    return replace(fit, ema=mapped_output(scratch, "ema"), final=mapped_output(scratch, "final"))
