#!/usr/bin/env python3
"""PyTorch peer for Deep Leakage from Gradients (Zhu et al., NeurIPS 2019), for `fedleak bench --torch`.

Same setting as fedleak's DLG bench (bench/dlg-eval.ts) and the paper: lenet-zhu (three 5x5 sigmoid
convs with stride 2, 2, 1 and padding 2, then a dense layer to the classes), every weight and bias
U(-0.5, 0.5); one random [0, 1] image with label seed % classes; the client's gradient of the soft
cross-entropy; the attacker matches it by the squared distance of the gradients, optimising a dummy
image and dummy label logits (softmax-ed into a soft label) jointly.

Two measurements:
  msPerEval  one objective evaluation: value and gradient w.r.t. the dummy image and label, each
             followed by a small gradient step (so no evaluation repeats the last one), after 5
             untimed ones; the mean over --evals;
  the run    the paper's attack: torch.optim.LBFGS with its defaults (lr 1, 20 evaluations per step)
             for --steps steps; its seconds, evaluation count, final pixel MSE and whether the
             arg-max of the dummy label is the true label.

Install PyTorch from Debian:  apt-get install -y python3-torch
Run:  python3 dlg_torch.py [--threads 1] [--size 32] [--channels 3] [--classes 10]
      [--steps 300] [--evals 50] [--seed 0] [--json]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def parse_args():
    p = argparse.ArgumentParser(description='PyTorch peer of the DLG objective (lenet-zhu).')
    p.add_argument('--threads', type=int, default=1, help='torch intra-op threads')
    p.add_argument('--size', type=int, default=32, help='image height and width')
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--classes', type=int, default=10)
    p.add_argument('--steps', type=int, default=300, help='L-BFGS steps of the full attack')
    p.add_argument('--evals', type=int, default=50, help='timed objective evaluations')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', action='store_true', help='one JSON line instead of key: value lines')
    return p.parse_args()


def lenet_zhu(channels, size, classes):
    """lenet-zhu with every weight and bias redrawn U(-0.5, 0.5).

    Built from nn layers, whose own init draws first: seed k then gives the same weights, image
    and dummies as the DLG reference runs quoted in docs/kernels.md.
    """
    side = (size + 3) // 4  # after the two stride-2 convs with padding 2
    net = nn.Sequential(
        nn.Conv2d(channels, 12, 5, stride=2, padding=2), nn.Sigmoid(),
        nn.Conv2d(12, 12, 5, stride=2, padding=2), nn.Sigmoid(),
        nn.Conv2d(12, 12, 5, stride=1, padding=2), nn.Sigmoid(),
        nn.Flatten(), nn.Linear(12 * side * side, classes))
    with torch.no_grad():
        for q in net.parameters():
            q.uniform_(-0.5, 0.5)
    return net


def soft_cross_entropy(logits, soft_labels):
    return (-soft_labels * F.log_softmax(logits, dim=-1)).sum(1).mean()


def main():
    a = parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    shape = (1, a.channels, a.size, a.size)
    net = lenet_zhu(a.channels, a.size, a.classes)
    params = list(net.parameters())

    image = torch.rand(shape)
    label = a.seed % a.classes
    one_hot = F.one_hot(torch.tensor([label]), a.classes).float()
    client_grads = [g.detach() for g in torch.autograd.grad(soft_cross_entropy(net(image), one_hot), params)]

    def objective(dummy_x, dummy_y):
        """Squared distance between the dummy's parameter gradient and the client's (differentiable again)."""
        loss = soft_cross_entropy(net(dummy_x), F.softmax(dummy_y, dim=-1))
        grads = torch.autograd.grad(loss, params, create_graph=True)
        return sum(((g - c) ** 2).sum() for g, c in zip(grads, client_grads))

    def fresh_dummies():
        return torch.randn(shape).requires_grad_(True), torch.randn(1, a.classes).requires_grad_(True)

    # 1) single evaluations
    dummy_x, dummy_y = fresh_dummies()

    def evaluate_and_nudge():
        gx, gy = torch.autograd.grad(objective(dummy_x, dummy_y), [dummy_x, dummy_y])
        with torch.no_grad():
            dummy_x.sub_(0.1 * gx)
            dummy_y.sub_(0.1 * gy)

    for _ in range(5):
        evaluate_and_nudge()
    started = time.perf_counter()
    for _ in range(a.evals):
        evaluate_and_nudge()
    ms_per_eval = (time.perf_counter() - started) / a.evals * 1000

    # 2) the full attack, L-BFGS with PyTorch's defaults as in the paper's code
    dummy_x, dummy_y = fresh_dummies()
    lbfgs = torch.optim.LBFGS([dummy_x, dummy_y])
    evaluations = 0

    def closure():
        nonlocal evaluations
        lbfgs.zero_grad()
        value = objective(dummy_x, dummy_y)
        value.backward()
        evaluations += 1
        return value

    started = time.perf_counter()
    for _ in range(a.steps):
        lbfgs.step(closure)
    seconds = time.perf_counter() - started

    out = {
        'threads': a.threads,
        'shape': [a.channels, a.size, a.size],
        'classes': a.classes,
        'msPerEval': round(ms_per_eval, 3),
        'lbfgsSteps': a.steps,
        'evals': evaluations,
        'seconds': round(seconds, 2),
        'mse': float(((dummy_x.detach() - image) ** 2).mean()),
        'labelRecovered': int(dummy_y.argmax()) == label,
        'torch': torch.__version__,
    }
    print(json.dumps(out) if a.json else '\n'.join(f'{k}: {v}' for k, v in out.items()))


if __name__ == '__main__':
    main()
