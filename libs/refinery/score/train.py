"""Training and inference loops of the scorer on feature bags (numpy in, numpy out).

One epoch visits every training document once, in a seeded random order, in mini-batches of
``batch_size`` bags. The embedding table learns with sparse Adam (only the rows a batch
touches move), the output layer with Adam; the learning rate decays linearly to zero over
all epochs, as fastText's does. On CUDA the forward pass runs under bf16 autocast (mixed
precision: half the memory traffic, no loss scaling needed with bf16's range).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.nn import functional as F

from refinery.score.features import Bags, mix64
from refinery.score.model import FastTextClassifier
from refinery.score.options import TrainOptions


class Trainer:
    """A model with its optimisers and schedule, trained epoch by epoch so that the caller
    can score held-out documents between epochs (:mod:`refinery.score.crossfit`)."""

    def __init__(
        self,
        buckets: int,
        num_classes: int,
        options: TrainOptions,
        device: torch.device,
        steps_per_epoch: int,
        seed: int,
        idf: np.ndarray | None = None,
    ) -> None:
        self.options, self.device = options, device
        self.generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            idf_tensor = None if idf is None else torch.as_tensor(idf)
            self.model = FastTextClassifier(buckets, options.dim, num_classes, idf_tensor).to(device)
        self.sparse = torch.optim.SparseAdam([self.model.embedding.weight], lr=options.lr)
        self.dense = torch.optim.Adam(self.model.output.parameters(), lr=options.lr)
        total = max(1, options.epochs * steps_per_epoch)
        self.schedules = [
            torch.optim.lr_scheduler.LambdaLR(opt, lambda step: max(0.0, 1.0 - step / total))
            for opt in (self.sparse, self.dense)
        ]

    def train_epoch(
        self, bags: Bags, labels: np.ndarray, keys: np.ndarray | None = None, rows: np.ndarray | None = None
    ) -> float:
        """One pass over the bags ``rows`` of ``bags`` (all of them by default; ``labels`` and
        ``keys`` are indexed like ``bags``) in a seeded random order; the mean training loss.

        ``keys`` (uint64 per row, e.g. a hash of its id) make the order a function of the
        rows themselves: sorted by ``mix64(key ^ salt)`` with a fresh seeded salt per epoch, so
        the same rows stored in another order train the same model. Each mini-batch is cut
        out of ``bags`` when it is trained on, so the training rows are never copied whole
        (``bags`` may be memory-mapped)."""
        self.model.train()
        salt = int(torch.randint(0, 1 << 62, (1,), generator=self.generator))
        if rows is None:
            rows = np.arange(len(bags), dtype=np.int64)
        if keys is None:
            keys = np.arange(len(bags), dtype=np.uint64)
        order = rows[np.argsort(mix64(keys[rows] ^ np.uint64(salt)), kind="stable")]
        total, seen = 0.0, 0
        for ids, offsets, batch in _batches(bags, order, self.options.batch_size, self.device):
            target = torch.as_tensor(np.asarray(labels[batch], dtype=np.int64), device=self.device)
            with _autocast(self.device, self.options.amp):
                logits = self.model(ids, offsets)
            loss = F.cross_entropy(logits.float(), target, label_smoothing=self.options.label_smoothing)
            self.sparse.zero_grad(set_to_none=True)
            self.dense.zero_grad(set_to_none=True)
            loss.backward()
            self.sparse.step()
            self.dense.step()
            for schedule in self.schedules:
                schedule.step()
            total += float(loss.detach()) * len(batch)
            seen += len(batch)
        return total / max(seen, 1)

    def predict_proba(self, bags: Bags, batch_size: int = 4096, rows: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities (float32, one row per bag of ``rows``, all bags by default)."""
        return predict_proba(self.model, bags, self.device, batch_size, self.options.amp, rows)


def _autocast(device: torch.device, amp: bool) -> torch.autocast:
    """bf16 autocast on CUDA when ``amp``; a no-op context elsewhere."""
    return torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp and device.type == "cuda")


@torch.no_grad()
def predict_proba(
    model: FastTextClassifier,
    bags: Bags,
    device: torch.device,
    batch_size: int = 4096,
    amp: bool = True,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """``softmax(model(bags))`` of the bags ``rows`` (all by default, in that order), computed in
    batches of ``batch_size`` bags."""
    model.eval()
    order = np.arange(len(bags), dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    out = np.empty((len(order), model.output.out_features), dtype=np.float32)
    done = 0
    for ids, offsets, batch in _batches(bags, order, batch_size, device):
        with _autocast(device, amp):
            logits = model(ids, offsets)
        out[done : done + len(batch)] = torch.softmax(logits.float(), dim=1).cpu().numpy()
        done += len(batch)
    return out


def _batches(
    bags: Bags, order: np.ndarray, batch_size: int, device: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor, np.ndarray]]:
    """``(ids, offsets, rows)`` tensors of consecutive slices of ``order``.

    On CPU each batch's bags are cut out with numpy (the ids may be memory-mapped). On a
    GPU the ids go to the device once per pass and each batch is gathered there: for batch
    rows ``r`` with bag starts ``s_r`` and lengths ``l_r``, the new offsets are the exclusive
    cumulative sum ``o_r`` of ``l_r``, and position ``o_r + j`` takes id ``s_r + j``."""
    if device.type != "cuda":
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = bags.take(rows)
            yield torch.as_tensor(batch.ids), torch.as_tensor(batch.offsets[:-1]), rows
        return
    ids = torch.as_tensor(np.ascontiguousarray(bags.ids), device=device)
    offsets = torch.as_tensor(bags.offsets, device=device)
    order_on_device = torch.as_tensor(order, device=device)
    for start in range(0, len(order), batch_size):
        picked = order_on_device[start : start + batch_size]
        starts = offsets[picked]
        lengths = offsets[picked + 1] - starts
        new_offsets = torch.cumsum(lengths, 0) - lengths
        total = int(lengths.sum())
        shift = torch.repeat_interleave(starts - new_offsets, lengths, output_size=total)
        positions = shift + torch.arange(total, device=device)
        yield ids[positions], new_offsets, order[start : start + batch_size]
