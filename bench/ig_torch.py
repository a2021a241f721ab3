#!/usr/bin/env python3
"""PyTorch peer for one Inverting Gradients step (Geiping et al. 2020), for `fedleak bench --only ig --torch`.

Same setting as fedleak's ig bench: lenet-zhu (sigmoid, weights U(-0.5, 0.5)) on 28x28x1, 10 classes;
fedsgd: the gradient of one batch of 4; fedavg: 2 local SGD steps x batch 2 at client lr 0.01, unrolled.
One step = value and gradient w.r.t. the dummy images of (1 - cosine similarity of the flattened
updates) + 1e-4 * TV (mean absolute neighbour differences), then Adam on the signed gradient and a
clamp to [0, 1], as fedleak's attack does. Images are random here: speed does not depend on content.

Install PyTorch from Debian:  apt-get install -y python3-torch
Run:  python3 ig_torch.py --mode fedsgd|fedavg [--threads 1] [--steps 50] [--warmup 10] [--json]
Prints ms per step (median of 3 timed runs of --steps steps each).
"""
import argparse, json, statistics, time
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--mode', choices=['fedsgd', 'fedavg'], default='fedsgd')
p.add_argument('--threads', type=int, default=1)
p.add_argument('--steps', type=int, default=50)
p.add_argument('--warmup', type=int, default=10)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--json', action='store_true')
a = p.parse_args()
torch.manual_seed(a.seed)
torch.set_num_threads(a.threads)
K = 10

# lenet-zhu as explicit tensors, so the fedavg unroll can run the model at updated weights.
shapes = [(12, 1, 5, 5), (12,), (12, 12, 5, 5), (12,), (12, 12, 5, 5), (12,), (K, 12 * 7 * 7), (K,)]
params = [torch.empty(s).uniform_(-0.5, 0.5) for s in shapes]
for q in params:
    q.requires_grad_(True)


def forward(x, w):
    h = torch.sigmoid(F.conv2d(x, w[0], w[1], stride=2, padding=2))
    h = torch.sigmoid(F.conv2d(h, w[2], w[3], stride=2, padding=2))
    h = torch.sigmoid(F.conv2d(h, w[4], w[5], stride=1, padding=2))
    return F.linear(h.flatten(1), w[6], w[7])


steps, batch, lr = (1, 4, 1.0) if a.mode == 'fedsgd' else (2, 2, 0.01)
n = steps * batch
labels = torch.randint(0, K, (n,))


def update(x, create_graph):
    """fedsgd: the batch gradient; fedavg: sum over the unrolled steps of -lr * gradient."""
    w = params
    total = None
    for s in range(steps):
        xs, ys = x[s * batch:(s + 1) * batch], labels[s * batch:(s + 1) * batch]
        g = torch.autograd.grad(F.cross_entropy(forward(xs, w), ys), w, create_graph=create_graph)
        d = [gi if a.mode == 'fedsgd' else -lr * gi for gi in g]
        total = d if total is None else [t + di for t, di in zip(total, d)]
        w = [wi + di for wi, di in zip(w, d)]
    return torch.cat([t.flatten() for t in total])


target = update(torch.rand(n, 1, 28, 28), False).detach()


def tv(x):
    return (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean() + (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean()


x = torch.randn(n, 1, 28, 28).requires_grad_(True)
opt = torch.optim.Adam([x], lr=0.03)


def step():
    opt.zero_grad()
    loss = 1 - F.cosine_similarity(update(x, True), target, dim=0, eps=0) + 1e-4 * tv(x)
    (gx,) = torch.autograd.grad(loss, [x])
    x.grad = gx.sign()
    opt.step()
    with torch.no_grad():
        x.clamp_(0, 1)
    return loss.item()


for _ in range(a.warmup):
    step()
runs = []
for _ in range(3):
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    runs.append((time.perf_counter() - t) / a.steps * 1000)
result = {'mode': a.mode, 'msPerStep': statistics.median(runs), 'runsMs': runs, 'threads': a.threads, 'torch': torch.__version__}
print(json.dumps(result) if a.json else f"{a.mode}: {result['msPerStep']:.2f} ms per step (torch {torch.__version__}, {a.threads} thread)")
