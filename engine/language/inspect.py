"""What is inside a trained language model, as plain arrays for the pages to draw (no Streamlit here).

    attention(model, ids)        every block's and head's queries, keys, values, scores, causal mask,
                                 attention weights and weighted sums for one sentence
    embedding_map(model)         each character's embedding projected on its 2 main directions (PCA)
    sizes(model, tokens)         weights and arithmetic (the engine's own count) next to GPT-2 small's
"""
from dataclasses import dataclass

import numpy as np

from ..network import softmax
from .layers import causal_mask
from .models import MLP, Bigram, Transformer


@dataclass
class HeadMaps:
    """One block's attention for one sentence of T characters, H heads of D numbers (all float64 copies).

    q, k, v      (H, T, D)  queries, keys, values
    scores       (H, T, T)  q k^T / sqrt(D), before the mask (row i: query i against every key j)
    mask         (T, T)     0 where j <= i, -inf where j > i (the future)
    weights      (H, T, T)  softmax(scores + mask) along j: each row sums to 1, zero above the diagonal
    out          (H, T, D)  weights @ v, what each head hands on
    """
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    scores: np.ndarray
    mask: np.ndarray
    weights: np.ndarray
    out: np.ndarray


def attention(model, ids):
    """[HeadMaps of block 1, block 2, ...] for one sentence `ids` (1-D, at most model.context characters),
    through the model's own weights (forward only; the model is not changed). The blocks' outputs are
    the model's own forward, so the maps are exactly what the model computes."""
    if not isinstance(model, Transformer):
        raise ValueError(f"only a transformer has attention; this model is a {model.kind}")
    ids = np.asarray(ids).reshape(1, -1)
    T = ids.shape[1]
    if not 1 <= T <= model.context:
        raise ValueError(f"the sentence must have 1 to {model.context} characters (got {T})")
    x = model.pos.forward(model.tok.forward(ids, keep=False), keep=False)
    maps = []
    for block in model.blocks:
        attn = block.attn
        attn._keep = False
        q, k, v = attn._heads(block.ln1.forward(x, keep=False))
        scores = (q @ k.transpose(0, 1, 3, 2)) * attn.scale
        mask = causal_mask(T, scores.dtype)
        weights = softmax(scores + mask)
        maps.append(HeadMaps(*(a[0].astype(np.float64) for a in (q, k, v, scores)), mask.astype(np.float64),
                             weights[0].astype(np.float64), (weights @ v)[0].astype(np.float64)))
        x = block.forward(x, keep=False)
    return maps


def embeddings(model):
    """The characters' embedding vectors (V, E): the transformer's token table, the MLP's table without
    its "nothing yet" row, the bigram's rows of logits."""
    if isinstance(model, Transformer):
        return model.tok.W[:model.V]
    if isinstance(model, MLP):
        return model.embed.W[:model.V]
    if isinstance(model, Bigram):
        return model.table.W
    raise ValueError(f"no embeddings in a {model.kind}")


def embedding_map(model):
    """(coordinates (V, 2), share of the variance each direction explains (2,)): the embeddings centred
    and projected on their two principal directions (SVD), so characters used alike land close."""
    E = embeddings(model).astype(np.float64)
    E = E - E.mean(axis=0)
    _, s, Vt = np.linalg.svd(E, full_matrices=False)
    k = min(2, len(s))
    coords = np.zeros((len(E), 2))
    coords[:, :k] = E @ Vt[:k].T
    share = np.zeros(2)
    total = float((s ** 2).sum())
    share[:k] = (s[:k] ** 2) / total if total else 0
    return coords, share


GPT2_SMALL_WEIGHTS = 124_439_808       # GPT-2 small (OpenAI 2019; its token table shared with the output layer)
GPT2_SMALL_CONTEXT = 1024              # tokens it reads at once
NANOGPT_GPT2_TOKENS = 300_000_000_000  # nanoGPT's reproduction of GPT-2 small trains on about 300 billion tokens


def sizes(model, tokens=None):
    """Weights and arithmetic of `model`, for the Inside page's table:
        weights          n_params()
        forward_ops      operations to read one character (model.flops_per_token(backward=False))
        train_ops        operations to train on one character, forward and backward (flops_per_token())
        six_n            6 x weights: the usual estimate of train_ops (2 forward + 4 backward per weight)
        run_ops          train_ops x tokens, when tokens (characters trained on) is given
    and GPT-2 small's weights and 6 x weights per token, and 6 x weights x nanoGPT's 300 billion tokens."""
    train = model.flops_per_token(backward=True)
    out = {"weights": model.n_params(), "forward_ops": model.flops_per_token(backward=False), "train_ops": train,
           "six_n": 6 * model.n_params(), "run_ops": None if tokens is None else train * int(tokens),
           "gpt2_weights": GPT2_SMALL_WEIGHTS, "gpt2_train_ops": 6 * GPT2_SMALL_WEIGHTS,
           "gpt2_run_ops": 6 * GPT2_SMALL_WEIGHTS * NANOGPT_GPT2_TOKENS}
    return out
