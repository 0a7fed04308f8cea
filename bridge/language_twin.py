"""The engine's transformer (engine/language/models.py) as PyTorch nn.Modules, number for number.

    torch_transformer(model)         a TorchGPT holding copies of the engine model's weights
    compare(model, ids, targets)     one batch through both: the largest |difference| of the logits,
                                     the loss and every weight's gradient
    train_both(model, ids, settings, steps)   both train on the same windows from the same weights
                                     with AdamW, the same schedule and clipping: two loss curves, two times

Layouts need no conversion: the engine's Dense keeps W as (out, in), as nn.Linear; the fused
q, k, v projection is one Linear of C -> 3C split in the same order (q, then k, then v; each
head's D numbers side by side). Attention is F.scaled_dot_product_attention(is_causal=True),
LayerNorm's eps is 1e-5 as the engine's, GELU the tanh form. torch is imported inside the
functions, so this module loads without it.
"""
import time
from dataclasses import dataclass, field

import numpy as np

from engine.language.models import Transformer
from engine.language.trainer import LMTrainer, learning_rate


def _modules():
    """The nn.Module classes (made on first use: torch is imported only then)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Block(nn.Module):
        def __init__(self, C, H):
            super().__init__()
            self.H = H
            self.ln1, self.ln2 = nn.LayerNorm(C, eps=1e-5), nn.LayerNorm(C, eps=1e-5)
            self.qkv, self.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
            self.fc, self.out = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

        def attention(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(x).view(B, T, 3, self.H, C // self.H).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)     # (B, H, T, D)
            return self.proj(a.transpose(1, 2).reshape(B, T, C))

        def forward(self, x):
            x = x + self.attention(self.ln1(x))
            return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

        def engine_order(self):
            return [self.ln1.weight, self.ln1.bias, self.qkv.weight, self.qkv.bias, self.proj.weight, self.proj.bias,
                    self.ln2.weight, self.ln2.bias, self.fc.weight, self.fc.bias, self.out.weight, self.out.bias]

    class TorchGPT(nn.Module):
        def __init__(self, V, T, C, L, H):
            super().__init__()
            self.tok = nn.Embedding(V, C)
            self.pos = nn.Parameter(torch.zeros(T, C))
            self.blocks = nn.ModuleList([Block(C, H) for _ in range(L)])
            self.ln_f = nn.LayerNorm(C, eps=1e-5)
            self.head = nn.Linear(C, V)

        def forward(self, ids):
            x = self.tok(ids) + self.pos[:ids.shape[1]]
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

        def engine_order(self):
            """The parameters in the engine model's params() order."""
            return ([self.tok.weight, self.pos] + [p for b in self.blocks for p in b.engine_order()]
                    + [self.ln_f.weight, self.ln_f.bias, self.head.weight, self.head.bias])

    return TorchGPT


def torch_transformer(model, dtype=None):
    """A TorchGPT with copies of the engine Transformer's weights (float32, or dtype, e.g. torch.float64)."""
    import torch
    if not isinstance(model, Transformer):
        raise ValueError(f"only the transformer has a PyTorch twin here, not the {model.kind}")
    s = model.spec()
    twin = _modules()(s["vocab"], s["context"], s["width"], s["blocks"], s["heads"])
    if dtype is not None:
        twin = twin.to(dtype)
    with torch.no_grad():
        for p, w in zip(twin.engine_order(), model.params(), strict=True):
            if tuple(p.shape) != w.shape:
                raise ValueError(f"shape {tuple(p.shape)} in PyTorch, {w.shape} in the engine")
            p.copy_(torch.from_numpy(np.array(w)).to(p.dtype))
    return twin


@dataclass
class LMComparison:
    logits: float              # largest |difference| of the logits
    loss: float                # |difference| of the losses
    grads: list = field(default_factory=list)    # largest |difference| of each weight array's gradient

    @property
    def worst(self):
        return max([self.logits, self.loss] + self.grads)


def compare(model, ids, targets, float64=False):
    """One batch (ids, targets: (B, T) ints) through the engine model and its twin; returns an LMComparison.
    float64: both in float64 (the engine model is copied, the original stays as it is)."""
    import torch
    import torch.nn.functional as F
    engine = model.copy().astype(np.float64) if float64 else model
    twin = torch_transformer(engine, torch.float64 if float64 else torch.float32)
    loss, grads = engine.gradients(ids, targets)
    z = engine.forward(ids)
    tz = twin(torch.from_numpy(np.asarray(ids, dtype=np.int64)))
    tloss = F.cross_entropy(tz.reshape(-1, tz.shape[-1]), torch.from_numpy(np.asarray(targets, dtype=np.int64)).reshape(-1))
    tloss.backward()
    return LMComparison(logits=float(np.abs(z - tz.detach().numpy()).max()), loss=abs(loss - float(tloss.detach())),
                        grads=[float(np.abs(g - p.grad.numpy()).max()) for g, p in zip(grads, twin.engine_order())])


def torch_adamw(twin, settings):
    """nanoGPT's optimiser for the twin: AdamW, decay on the matrices and embeddings only (as
    LanguageModel.decays()), betas (0.9, 0.99)."""
    import torch
    params = twin.engine_order()
    decay = [p for p in params if p.dim() >= 2]
    rest = [p for p in params if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": settings.weight_decay},
                              {"params": rest, "weight_decay": 0.0}], lr=settings.lr, betas=(0.9, 0.99), eps=1e-8)


def torch_step(twin, opt, x, y, lr, clip):
    """One training step of the twin on windows x, y (torch int64 tensors). Returns the loss (float)."""
    import torch
    import torch.nn.functional as F
    for group in opt.param_groups:
        group["lr"] = lr
    z = twin(x)
    loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip:
        torch.nn.utils.clip_grad_norm_(twin.parameters(), clip)
    opt.step()
    return loss.item()


def train_both(model, ids, settings, steps=50):
    """The engine model (a copy: the original is untouched) and its twin train `steps` steps on the same
    windows with the same schedule. Returns (engine losses, torch losses, engine seconds, torch seconds)."""
    import torch
    engine = model.copy()
    run = LMTrainer(engine, ids, settings)
    twin = torch_transformer(engine)
    opt = torch_adamw(twin, settings)
    rng = np.random.default_rng(settings.seed + 1)
    ours, theirs, t_ours, t_theirs = [], [], 0.0, 0.0
    for step in range(steps):
        x, y = run.batch(run.train_ids, settings.batch_size, rng)
        start = time.perf_counter()
        ours.append(run.train_batch(x, y))
        run.step += 1
        t_ours += time.perf_counter() - start
        start = time.perf_counter()
        theirs.append(torch_step(twin, opt, torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64)),
                                 learning_rate(settings, step), settings.grad_clip))
        t_theirs += time.perf_counter() - start
    return ours, theirs, t_ours, t_theirs
