#!/usr/bin/env python3
"""The natural alternative to lmc-merge's dual learning step: the same step in PyTorch eager.

Two random-weight GPT-NeoX models (Pythia shape, canonical form: norms without affine), each
transformed by its own symmetry element (residual rotation by Cayley fixing the all-ones
direction, residual scale, head and FFN permutations fixed as gathers, per-head QK maps that
commute with RoPE, per-head VO maps in polar form), interpolated at alpha, then forward, mean
next-token loss and backward to the continuous parameters of both sides (A's rotation anchored),
as one autograd graph (memory is no concern at this size). Prints one JSON line with the median
step time. Used by bench/run's `reference` benchmark; not part of the product.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn.functional as F


def householder(n, dtype):
    """w with H = I - w w^T mapping e_1 to the unit all-ones direction (as symmetry.MatrixFunctions)."""
    u = 1.0 / math.sqrt(n)
    w = torch.full((n, 1), -u, dtype=dtype)
    w[0, 0] = 1 - u
    return w * math.sqrt(2.0 / (2 - 2 * u))


def rotation(s, w):
    """Cayley rotation of skew(S) embedded to fix the all-ones direction: H diag(1, O') H^T."""
    a = s - s.T
    eye = torch.eye(a.shape[0], dtype=a.dtype)
    inner = (eye - a) @ torch.linalg.inv(eye + a)
    b = torch.block_diag(torch.ones(1, 1, dtype=a.dtype), inner)
    wt = w.T
    wb = wt @ b
    bw = b @ w
    return b - w @ wb - bw @ wt + (w * (wb @ w)) @ wt


def polar(p, sign):
    """U exp(sign * Sym) for a batch p [G, 2, n, n]; returns (U, E)."""
    p1, p2 = p[:, 0], p[:, 1]
    u = torch.linalg.matrix_exp(p1 - p1.transpose(1, 2))
    sym = 0.5 * (p2 + p2.transpose(1, 2))
    return u, torch.linalg.matrix_exp(sign * sym)


def rope_map(p, hd, r, inverse_transpose):
    """The per-head QK map (A, or A^{-T}) for a batch p [G, r + 2 f^2]."""
    g = p.shape[0]
    half, f = r // 2, hd - r
    a, phi = p[:, :half], p[:, half:r]
    rho = torch.exp(-a) if inverse_transpose else torch.exp(a)
    c, s = torch.diag_embed(rho * torch.cos(phi)), torch.diag_embed(rho * torch.sin(phi))
    rot = torch.cat([torch.cat([c, -s], 2), torch.cat([s, c], 2)], 1)
    u, e = polar(p[:, r:].reshape(g, 2, f, f), -1 if inverse_transpose else 1)
    free = u @ e
    out = torch.zeros(g, hd, hd, dtype=p.dtype)
    out[:, :r, :r] = rot
    out[:, r:, r:] = free
    return out


class Side:
    """One model: canonical weights, fixed permutations and learnable continuous parameters."""

    def __init__(self, cfg, gen, learn_rotation, random_element):
        d, L, H, ffn, V = cfg["d"], cfg["layers"], cfg["heads"], cfg["ffn"], cfg["vocab"]
        hd, r = d // H, cfg["rotary"]
        f = hd - r
        rnd = lambda *s: torch.randn(*s, generator=gen) * 0.02
        self.embed, self.unembed = rnd(V, d), rnd(V, d)
        self.layers = [dict(qkv=rnd(3 * d, d), qkv_b=torch.zeros(3 * d), o=rnd(d, d), o_b=torch.zeros(d),
                            up=rnd(ffn, d), up_b=torch.zeros(ffn), down=rnd(d, ffn), down_b=torch.zeros(d))
                       for _ in range(L)]
        scale = 0.3 if random_element else 0.0
        noise = lambda *s: (torch.randn(*s, generator=gen) * scale).requires_grad_(True)
        self.rot = (torch.randn(d - 1, d - 1, generator=gen) * scale / math.sqrt(d)).requires_grad_(learn_rotation)
        self.scale = noise(1)
        self.qk = [noise(H, r + 2 * f * f) for _ in range(L)]
        self.vo = [noise(H, 2, hd, hd) for _ in range(L)]
        perm = (lambda n: torch.randperm(n, generator=gen)) if random_element else torch.arange
        self.head_perm = [perm(H) for _ in range(L)]
        self.ffn_perm = [perm(ffn) for _ in range(L)]
        self.w = householder(d, torch.float32)

    def learned(self):
        out = [self.scale] + self.qk + self.vo
        return out + [self.rot] if self.rot.requires_grad else out

    def transformed(self, cfg):
        """Every weight after the transform (the engine's T_out W T_in^{-1}), differentiable."""
        d, H = cfg["d"], cfg["heads"]
        hd, r = d // H, cfg["rotary"]
        o = rotation(self.rot, self.w)
        c = torch.exp(self.scale)
        out = dict(embed=(self.embed @ o) * c, unembed=self.unembed @ o, layers=[])
        for l, lw in enumerate(self.layers):
            a = rope_map(self.qk[l], hd, r, False)
            a_it = rope_map(self.qk[l], hd, r, True)
            u, e = polar(self.vo[l], 1)
            cmap = u @ e
            u2, e2 = polar(self.vo[l], -1)
            c_it = u2 @ e2  # C^{-T}
            hp = self.head_perm[l]
            # qkv rows: [H, 3, hd, d] per head [q | k | v]; heads permuted, then the head maps
            qkv = (lw["qkv"] @ o).reshape(H, 3, hd, d)[hp]
            qkv_b = lw["qkv_b"].reshape(H, 3, hd)[hp]
            q = a @ qkv[:, 0]
            k = a_it @ qkv[:, 1]
            v = cmap @ qkv[:, 2]
            qkv = torch.stack([q, k, v], 1).reshape(3 * d, d)
            qb = torch.stack([(a @ qkv_b[:, 0, :, None])[..., 0], (a_it @ qkv_b[:, 1, :, None])[..., 0],
                              (cmap @ qkv_b[:, 2, :, None])[..., 0]], 1).reshape(3 * d)
            # output projection: rows are residual (writer), columns heads then C^{-1}
            ow = (o.T @ lw["o"]) * c
            ocols = ow.T.reshape(H, hd, d)[hp]
            ow = (c_it @ ocols).reshape(d, d).T
            fp = self.ffn_perm[l]
            up = (lw["up"] @ o)[fp]
            down = ((o.T @ lw["down"]) * c)[:, fp]
            out["layers"].append(dict(qkv=qkv, qkv_b=qb, o=ow, o_b=(lw["o_b"] @ o) * c, up=up, up_b=lw["up_b"][fp],
                                      down=down, down_b=(lw["down_b"] @ o) * c))
        return out, c


def lerp(x, y, alpha):
    if isinstance(x, dict):
        return {k: lerp(x[k], y[k], alpha) for k in x}
    if isinstance(x, list):
        return [lerp(a, b, alpha) for a, b in zip(x, y)]
    return (1 - alpha) * x + alpha * y


def rope(x, cos, sin, r):
    xr, xp = x[..., :r], x[..., r:]
    x1, x2 = xr[..., : r // 2], xr[..., r // 2:]
    return torch.cat([xr * cos + torch.cat([-x2, x1], -1) * sin, xp], -1)


def forward(cfg, w, ids, eps):
    d, H = cfg["d"], cfg["heads"]
    hd, r = d // H, cfg["rotary"]
    b, t = ids.shape
    inv = 1.0 / (10000 ** (torch.arange(0, r, 2, dtype=torch.float32) / r))
    freqs = torch.outer(torch.arange(t, dtype=torch.float32), inv)
    emb = torch.cat([freqs, freqs], -1)
    cos, sin = emb.cos(), emb.sin()
    x = F.embedding(ids, w["embed"])
    for lw in w["layers"]:
        h = F.layer_norm(x, (d,), eps=eps)
        qkv = F.linear(h, lw["qkv"], lw["qkv_b"]).view(b, t, H, 3 * hd).transpose(1, 2)
        q, k, v = qkv[..., :hd], qkv[..., hd:2 * hd], qkv[..., 2 * hd:]
        q, k = rope(q, cos, sin, r), rope(k, cos, sin, r)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
        attn = F.linear(a, lw["o"], lw["o_b"])
        m = F.linear(F.gelu(F.linear(h, lw["up"], lw["up_b"])), lw["down"], lw["down_b"])
        x = x + attn + m  # parallel residual (both norms see x; without affine they are equal)
    logits = F.linear(F.layer_norm(x, (d,), eps=eps), w["unembed"])
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    for k, v in dict(d=768, layers=12, heads=12, ffn=3072, vocab=50304, batch=1, seq=256, threads=2, reps=2).items():
        ap.add_argument("--" + k, type=int, default=v)
    ap.add_argument("--rotary-pct", type=float, default=0.25)
    ap.add_argument("--alpha", type=float, default=0.5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = dict(d=args.d, layers=args.layers, heads=args.heads, ffn=args.ffn, vocab=args.vocab,
               rotary=int(args.d // args.heads * args.rotary_pct))
    gen = torch.Generator().manual_seed(0)
    a = Side(cfg, gen, learn_rotation=False, random_element=False)
    b = Side(cfg, gen, learn_rotation=True, random_element=True)
    ids = torch.randint(0, args.vocab, (args.batch, args.seq), generator=gen)
    params = a.learned() + b.learned()

    def step():
        for p in params:
            p.grad = None
        wa, ca = a.transformed(cfg)
        wb, cb = b.transformed(cfg)
        c = (1 - args.alpha) * ca + args.alpha * cb
        loss = forward(cfg, lerp(wa, wb, args.alpha), ids, 1e-5 * float(c.detach()) ** 2)
        loss.backward()
        return float(loss.detach())

    step()
    times = []
    for _ in range(args.reps):
        s = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - s)
    print(json.dumps(dict(seconds=statistics.median(times), times=times, loss=loss, threads=torch.get_num_threads(),
                          torch=torch.__version__)))


if __name__ == "__main__":
    main()
