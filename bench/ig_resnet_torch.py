#!/usr/bin/env python3
"""PyTorch peer for one Inverting Gradients step (Geiping et al. 2020) on a real network, for
`fedleak bench --only ig-resnet --torch`.

Networks (--net):
  resnet        fedleak's built-in `resnet` on 32x32x3, 10 classes. --depth 8, 14, 20 (6n+2, n blocks
                per stage): stem Conv3x3(3->16) -> BN -> ReLU, three stages of 16, 32, 64 channels, the
                first block of stages 2 and 3 with stride 2. --depth 18: the CIFAR ResNet-18 (stem
                Conv3x3 to 64 channels, four stages of 2 blocks, 64/128/256/512 channels, strides
                1, 2, 2, 2). --width multiplies every channel count. BasicBlock: Conv3x3(stride s) ->
                BN -> ReLU -> Conv3x3 -> BN, plus the identity or, when the shape changes,
                Conv1x1(stride s) -> BN; ReLU of the sum. Convs have no bias; then global average
                pooling and Linear(channels -> 10). BN: eps 1e-5, momentum 0.1, affine, in training
                mode (batch statistics) during the step, as breaching runs it.
  residual-cnn  the small functional tfjs model the bench saves and imports (bench/ig-resnet.ts):
                Conv3x3(3->16, same, ReLU) -> MaxPool 2x2 -> Conv3x3(16->16, same, ReLU) -> Add(pool,
                conv2) -> Flatten -> Dense(10).

Step, fedsgd: the client's gradient of the cross-entropy of one batch (--batch) of random images at
fixed weights; one step = value and gradient w.r.t. the dummy images of (1 - cosine similarity of the
flattened parameter gradients) + 1e-4 * TV (mean absolute neighbour differences), then Adam on the
signed gradient and a clamp to [0, 1], as fedleak's attack and bench/ig_torch.py do. Images are
random: speed does not depend on content.

Install PyTorch from Debian:  apt-get install -y python3-torch
Run:  python3 ig_resnet_torch.py [--net resnet|residual-cnn] [--depth 8] [--width 1] [--batch 1]
      [--threads 1] [--steps 20] [--warmup 5] [--params-only] [--json]
Prints the trainable parameter count (BN's scale and shift included, its running statistics not)
and ms per step, wall and this process's CPU time (medians of 3 timed runs of --steps steps each;
on a loaded machine the CPU figure is the steadier one).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES = 10
SHAPE = (3, 32, 32)


def parse_args():
    p = argparse.ArgumentParser(description='PyTorch peer of one Inverting Gradients step on a ResNet or a small residual CNN.')
    p.add_argument('--net', choices=['resnet', 'residual-cnn'], default='resnet')
    p.add_argument('--depth', type=int, choices=[8, 14, 18, 20], default=8)
    p.add_argument('--width', type=int, default=1, help='channel multiplier (resnet)')
    p.add_argument('--batch', type=int, default=1)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--steps', type=int, default=20, help='steps per timed run')
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--params-only', action='store_true', help='print the parameter count and stop (no timing)')
    p.add_argument('--json', action='store_true')
    return p.parse_args()


def conv3x3(cin, cout, stride):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def batch_norm(channels):
    return nn.BatchNorm2d(channels, eps=1e-5, momentum=0.1, affine=True)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, cout, stride), batch_norm(cout)
        self.conv2, self.bn2 = conv3x3(cout, cout, 1), batch_norm(cout)
        reshaped = stride != 1 or cin != cout
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), batch_norm(cout))
                         if reshaped else nn.Identity())

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, depth, width):
        super().__init__()
        if depth == 18:
            stem, stages, blocks, strides = 64, [64, 128, 256, 512], [2, 2, 2, 2], [1, 2, 2, 2]
        else:
            n = (depth - 2) // 6
            stem, stages, blocks, strides = 16, [16, 32, 64], [n, n, n], [1, 2, 2]
        stem, stages = stem * width, [c * width for c in stages]
        self.stem = nn.Sequential(conv3x3(SHAPE[0], stem, 1), batch_norm(stem), nn.ReLU())
        layers, cin = [], stem
        for cout, count, stride in zip(stages, blocks, strides):
            for b in range(count):
                layers.append(BasicBlock(cin, cout, stride if b == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*layers)
        self.head = nn.Linear(cin, CLASSES)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


class ResidualCnn(nn.Module):
    """The bench's imported tfjs model (bench/ig-resnet.ts, importedModel)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(SHAPE[0], 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)
        self.dense = nn.Linear(16 * (SHAPE[1] // 2) * (SHAPE[2] // 2), CLASSES)

    def forward(self, x):
        pooled = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return self.dense((pooled + F.relu(self.conv2(pooled))).flatten(1))


def total_variation(x):
    return (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean() + (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean()


def make_step(net, batch):
    params = list(net.parameters())
    labels = torch.randint(0, CLASSES, (batch,))

    def flat_gradient(x, create_graph):
        grads = torch.autograd.grad(F.cross_entropy(net(x), labels), params, create_graph=create_graph)
        return torch.cat([g.flatten() for g in grads])

    target = flat_gradient(torch.rand(batch, *SHAPE), False).detach()
    x = torch.randn(batch, *SHAPE).requires_grad_(True)
    adam = torch.optim.Adam([x], lr=0.03)

    def step():
        adam.zero_grad()
        loss = 1 - F.cosine_similarity(flat_gradient(x, True), target, dim=0, eps=0) + 1e-4 * total_variation(x)
        (gx,) = torch.autograd.grad(loss, [x])
        x.grad = gx.sign()
        adam.step()
        with torch.no_grad():
            x.clamp_(0, 1)
        return loss.item()

    return step


def main():
    a = parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    net = CifarResNet(a.depth, a.width) if a.net == 'resnet' else ResidualCnn()
    params = sum(p.numel() for p in net.parameters())
    if a.params_only:
        print(json.dumps({'net': a.net, 'params': params}) if a.json else params)
        return
    net.train()  # batch statistics in every forward, as in breaching's attack on a training client
    step = make_step(net, a.batch)
    for _ in range(a.warmup):
        step()
    runs, cpu_runs = [], []
    for _ in range(3):
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(a.steps):
            step()
        runs.append((time.perf_counter() - started) / a.steps * 1000)
        cpu_runs.append((time.process_time() - cpu_started) / a.steps * 1000)
    result = {
        'net': a.net,
        'depth': a.depth if a.net == 'resnet' else None,
        'width': a.width if a.net == 'resnet' else None,
        'batch': a.batch,
        'params': params,
        'msPerStep': round(statistics.median(runs), 3),
        'runsMs': [round(r, 3) for r in runs],
        'cpuMsPerStep': round(statistics.median(cpu_runs), 3),
        'threads': a.threads,
        'torch': torch.__version__,
    }
    label = f"{a.net}{'-%d x%d' % (a.depth, a.width) if a.net == 'resnet' else ''}"
    print(json.dumps(result) if a.json else
          f"{label}, batch {a.batch}, {result['params']} parameters: {result['msPerStep']:.2f} ms per step "
          f"(torch {torch.__version__}, {a.threads} thread)")


if __name__ == '__main__':
    main()
