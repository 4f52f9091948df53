"""The scorer's model: a fastText-style linear classifier over hashed n-gram bags.

    h(d) = (1 / |d|) Σ_{f ∈ d} E[f]          (EmbeddingBag, mean over the document's features)
    p(y | d) = softmax(W h(d) + b)

``E`` is a ``buckets × dim`` table of feature embeddings (sparse gradients: a step touches
only the rows of the features in its batch), ``W`` a ``classes × dim`` matrix. It is the
model of Joulin et al. 2017 ("Bag of Tricks for Efficient Text Classification"): as accurate
as far deeper networks on topic and sentiment classification, and fast enough that K-fold
cross-fitting over millions of rows costs minutes on one GPU.
"""

from __future__ import annotations

import io
import os
import random

import numpy as np
import torch
from torch import nn


class FastTextClassifier(nn.Module):
    """Mean of hashed-feature embeddings, then one linear layer to class logits.

    With ``idf`` (one weight per bucket, e.g. :func:`refinery.score.features.idf_weights`)
    the mean is weighted, ``h(d) = Σ_f w_f E[f] / Σ_f w_f`` with ``w_f = idf[f]``: a word
    in every document counts little, a rare one much, as in TF-IDF. The weights are a
    buffer of the model (saved and broadcast with it), not trained."""

    def __init__(self, buckets: int, dim: int, num_classes: int, idf: torch.Tensor | None = None) -> None:
        super().__init__()
        self.embedding = nn.EmbeddingBag(buckets, dim, mode="sum" if idf is not None else "mean", sparse=True)
        self.output = nn.Linear(dim, num_classes)
        self.register_buffer("idf", None if idf is None else torch.as_tensor(idf, dtype=torch.float32))
        # fastText's initialisation: small uniform embeddings, a zero output layer (every
        # class starts equally likely)
        nn.init.uniform_(self.embedding.weight, -1.0 / dim, 1.0 / dim)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    idf: torch.Tensor | None  # a registered buffer

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Class logits, one row per bag (``ids`` and ``offsets`` as EmbeddingBag takes them)."""
        if self.idf is None:
            return self.output(self.embedding(ids, offsets))
        weights = self.idf[ids]
        lengths = torch.diff(offsets, append=offsets.new_tensor([len(ids)]))
        bag = torch.repeat_interleave(torch.arange(len(offsets), device=ids.device), lengths, output_size=len(ids))
        totals = torch.zeros(len(offsets), device=ids.device).index_add_(0, bag, weights)
        weights = weights / totals.clamp_min(1e-12)[bag]
        return self.output(self.embedding(ids, offsets, per_sample_weights=weights))


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when a GPU is visible, else CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("score.device is 'cuda' but torch sees no CUDA GPU; set score.device to auto or cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Fix every random source a training run reads (Python, numpy, torch on CPU and GPU) and
    ask for deterministic kernels, so the same input gives the same scores."""
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)


def serialize_model(model: FastTextClassifier) -> bytes:
    """The model's weights as bytes (embedding in float16)."""
    state = {k: (v.half() if k.startswith("embedding") else v).cpu() for k, v in model.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def load_model(blob: bytes, buckets: int, dim: int, num_classes: int) -> FastTextClassifier:
    """The model whose weights :func:`serialize_model` wrote."""
    state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    model = FastTextClassifier(buckets, dim, num_classes, idf=state.get("idf"))
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.eval()
