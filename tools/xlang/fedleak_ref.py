#!/usr/bin/env python3
"""An independent reimplementation of fedleak's seeded pieces, written from the docs alone.

Sources: docs/protocol.md "Reproducing a client exactly" (generator, streams, batch schedule),
docs/data.md "Reproducing the data in another language" (MNIST order, synthetic data, split,
partitions), docs/defenses.md "Exact formulas" (client defences), docs/models.md "Reproducing the
initial parameters". Standard library only.

Usage: a JSON request {"tasks": [...]} on stdin, a JSON answer {"results": [...]} on stdout, one result
per task. test/xlang.test.ts drives it and compares every result with fedleak's TypeScript functions.
Float32 arrays travel as base64 of their little-endian bytes; doubles as JSON numbers (repr round-trips).
"""
import base64
import hashlib
import json
import math
import os
import struct
import sys
from array import array

M32 = 0xFFFFFFFF


def f32(x):
    """x rounded to the nearest float32 (ties to even), as a double."""
    try:
        return struct.unpack('<f', struct.pack('<f', x))[0]
    except OverflowError:
        # struct refuses values beyond float32's range; a Float32Array store gives ±inf.
        return math.copysign(math.inf, x)


def round_half_up(x):
    """JavaScript's Math.round: halves towards +inf; -0 for inputs in [-0.5, 0) and for -0."""
    if x != x or math.isinf(x):
        return x
    fl = math.floor(x)
    r = float(fl + 1 if x - fl >= 0.5 else fl)
    if r == 0 and (x < 0 or math.copysign(1.0, x) < 0):
        return -0.0
    return r


# --- the generator (docs/protocol.md "The seeded generator") ---------------------------------------


def fnv1a(label):
    h = 0x811C9DC5
    units = label.encode('utf-16-le')
    for i in range(0, len(units), 2):
        u = units[i] | (units[i + 1] << 8)
        h = ((h ^ u) * 0x01000193) & M32
    return h


class Rng:
    def __init__(self, seed):
        self.seed = int(seed) % (1 << 32)
        state = self.seed

        def mix():
            nonlocal state
            state = (state + 0x9E3779B9) & M32
            z = state
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            return z ^ (z >> 16)

        self.a = mix()
        self.b = mix()
        self.c = mix()
        self.d = mix()
        self.spare = None

    def fork(self, label):
        return Rng(fnv1a(label) ^ ((self.seed * 0x9E3779B1) & M32))

    def next_uint32(self):
        a, b, c, d = self.a, self.b, self.c, self.d
        t = (((a + b) & M32) + d) & M32
        self.d = (d + 1) & M32
        self.a = b ^ (b >> 9)
        self.b = (c + ((c << 3) & M32)) & M32
        rot = ((c << 21) & M32) | (c >> 11)
        self.c = (rot + t) & M32
        return t

    def next(self):
        return self.next_uint32() / 4294967296

    def uniform(self, lo, hi):
        return lo + (hi - lo) * self.next()

    def int(self, n):
        return math.floor(self.next() * n)

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.int(i + 1)
            items[i], items[j] = items[j], items[i]
        return items

    def sample(self, n, k):
        if k > n:
            raise ValueError(f'cannot sample {k} of {n}')
        return self.shuffle(list(range(n)))[:k]

    def normal(self, mean=0.0, std=1.0):
        if self.spare is not None:
            z = self.spare
            self.spare = None
            return mean + std * z
        u = self.next()
        while u == 0:
            u = self.next()
        v = self.next()
        r = math.sqrt(-2 * math.log(u))
        self.spare = r * math.sin(2 * math.pi * v)
        return mean + std * r * math.cos(2 * math.pi * v)

    def laplace(self, b):
        u = self.next() - 0.5
        while u == -0.5:
            u = self.next() - 0.5
        sign = 1.0 if u > 0 else (-1.0 if u < 0 else 0.0)
        return (-b * sign) * math.log(1 - 2 * abs(u))

    def gamma(self, shape):
        if shape < 1:
            u = self.next()
            return self.gamma(shape + 1) * math.pow(5e-324 if u == 0 else u, 1 / shape)
        d = shape - 1 / 3
        c = 1 / math.sqrt(9 * d)
        while True:
            while True:
                x = self.normal(0, 1)
                v = 1 + c * x
                if not v <= 0:
                    break
            v = v * v * v
            u = self.next()
            if u < 1 - 0.0331 * x * x * x * x:
                return d * v
            if math.log(u) < 0.5 * x * x + d * (1 - v + math.log(v)):
                return d * v


# --- data (docs/data.md "Reproducing the data in another language") --------------------------------


class Dataset:
    def __init__(self, shape, num_classes, images, labels):
        self.shape = list(shape)
        self.num_classes = num_classes
        self.images = images  # array('f'), NHWC flat
        self.labels = labels  # list of int

    def example_size(self):
        return self.shape[0] * self.shape[1] * self.shape[2]

    def subset(self, indices):
        size = self.example_size()
        out = array('f')
        for i in indices:
            out.extend(self.images[i * size:(i + 1) * size])
        return Dataset(self.shape, self.num_classes, out, [self.labels[i] for i in indices])


_mnist_cache = {}


def load_mnist(digits_dir):
    if digits_dir not in _mnist_cache:
        _mnist_cache[digits_dir] = read_mnist(digits_dir)
    return _mnist_cache[digits_dir]


def read_mnist(digits_dir):
    per_class = []
    for d in range(10):
        with open(os.path.join(digits_dir, f'{d}.json'), encoding='utf8') as fh:
            per_class.append(array('f', json.load(fh)['data']))
    counts = [len(a) // 784 for a in per_class]
    images = array('f')
    labels = []
    nxt = [0] * 10
    while len(labels) < sum(counts):
        for d in range(10):
            if nxt[d] < counts[d]:
                k = nxt[d]
                images.extend(per_class[d][k * 784:(k + 1) * 784])
                labels.append(d)
                nxt[d] += 1
    return Dataset([28, 28, 1], 10, images, labels)


def make_synthetic(shape, classes, size, seed2, noise=0.1):
    h, w, c = shape
    root = Rng(seed2)
    proto_rng = root.fork('synthetic-prototypes')
    ex = root.fork('synthetic-examples')
    protos = []
    for _ in range(classes):
        p = [0.0] * (h * w * c)
        for _blob in range(3):
            cy = proto_rng.uniform(0, h)
            cx = proto_rng.uniform(0, w)
            sigma = proto_rng.uniform(0.12, 0.3) * max(h, w)
            weight = [proto_rng.uniform(0.3, 1) for _ in range(c)]
            for y in range(h):
                for x in range(w):
                    dy = y - cy
                    dx = x - cx
                    g = math.exp(-(dy * dy + dx * dx) / (2 * sigma * sigma))
                    for ch in range(c):
                        i = (y * w + x) * c + ch
                        p[i] = f32(p[i] + g * weight[ch])
        m = max(p)
        if m > 0:
            p = [f32(v / m) for v in p]
        protos.append(p)
    pixels = h * w * c
    images = array('f')
    labels = []
    for i in range(size):
        label = i % classes
        labels.append(label)
        proto = protos[label]
        contrast = ex.uniform(0.7, 1)
        for px in range(pixels):
            v = proto[px] * contrast + ex.normal(0, noise)
            images.append(min(1.0, max(0.0, v)))
    return Dataset(shape, classes, images, labels)


def load_dataset(data, seed, mnist_dir):
    if data['dataset'] == 'mnist':
        return load_mnist(mnist_dir)
    if data['dataset'] == 'synthetic':
        return make_synthetic(data['shape'], data['classes'], data['size'], Rng(seed).fork('synthetic').seed)
    raise ValueError(f"dataset {data['dataset']} is not supported by this reference")


def split_indices(n, test_fraction, limit, rng):
    order = rng.shuffle(list(range(n)))
    used = order[:min(limit, n)] if limit > 0 else order
    m = len(used)
    if m < 2:
        raise ValueError('a split needs at least 2 examples')
    t = int(min(m - 1, max(1, round_half_up(m * test_fraction))))
    return used[:m - t], used[m - t:]


def partition_iid(n, clients, rng):
    if n < clients:
        raise ValueError('fewer examples than clients')
    order = rng.shuffle(list(range(n)))
    return [sorted(order[(c * n) // clients:((c + 1) * n) // clients]) for c in range(clients)]


def by_label(labels, num_classes, rng):
    lists = [[] for _ in range(num_classes)]
    for i, y in enumerate(labels):
        lists[y].append(i)
    return [rng.shuffle(lst) for lst in lists]


def split_proportionally(items, weights):
    total = 0.0
    for w in weights:
        total += w
    exact = [(len(items) * w) / total for w in weights]
    sizes = [math.floor(e) for e in exact]
    left = len(items) - sum(sizes)
    k = len(weights)
    rank = sorted(range(k), key=lambda j: (-(exact[j] - sizes[j]), j))
    t = 0
    while left > 0:
        sizes[rank[t % k]] += 1
        t += 1
        left -= 1
    pieces = []
    start = 0
    for s in sizes:
        pieces.append(items[start:start + s])
        start += s
    return pieces


def partition_dirichlet(labels, num_classes, clients, alpha, rng):
    if not alpha > 0 or len(labels) < clients:
        raise ValueError('bad dirichlet partition')
    class_lists = by_label(labels, num_classes, rng)
    shards = []
    for _attempt in range(100):
        shards = [[] for _ in range(clients)]
        for lst in class_lists:
            if not lst:
                continue
            g = [rng.gamma(alpha) for _ in range(clients)]
            total = 0.0
            for v in g:
                total += v
            if total > 0:
                p = [v / total for v in g]
            else:
                p = [0.0] * clients
                p[rng.int(clients)] = 1.0
            for j, piece in enumerate(split_proportionally(lst, p)):
                shards[j].extend(piece)
        if all(shards):
            break
    for s in shards:
        if s:
            continue
        longest = max(len(x) for x in shards)
        donor = next(x for x in shards if len(x) == longest)
        s.append(donor.pop(rng.int(len(donor))))
    return [sorted(s) for s in shards]


def partition_by_class(labels, num_classes, clients, k, rng):
    perm = rng.shuffle(list(range(num_classes)))
    holders = [[] for _ in range(num_classes)]
    for c in range(clients):
        for j in range(k):
            holders[perm[(c * k + j) % num_classes]].append(c)
    class_lists = by_label(labels, num_classes, rng)
    shards = [[] for _ in range(clients)]
    for y in range(num_classes):
        owners = holders[y]
        if not owners:
            continue
        if len(class_lists[y]) < len(owners):
            raise ValueError(f'class {y} has too few examples')
        for j, piece in enumerate(split_proportionally(class_lists[y], [1] * len(owners))):
            shards[owners[j]].extend(piece)
    return [sorted(s) for s in shards]


def federated(data, clients, seed, mnist_dir):
    full = load_dataset(data, seed, mnist_dir)
    root = Rng(seed).fork('data')
    train_idx, test_idx = split_indices(len(full.labels), data['testFraction'], data['limit'], root.fork('split'))
    train = full.subset(train_idx)
    part = root.fork('partition')
    kind = data['partition']
    if kind == 'iid':
        shards = partition_iid(len(train.labels), clients, part)
    elif kind == 'dirichlet':
        shards = partition_dirichlet(train.labels, full.num_classes, clients, data['alpha'], part)
    else:
        shards = partition_by_class(train.labels, full.num_classes, clients, data['classesPerClient'], part)
    return full, train, train_idx, test_idx, shards


# --- the client's round (docs/protocol.md "The batch schedule", "Local training") -------------------


def epoch_batches(n, batch_size, seed, client, rnd, epoch):
    order = Rng(seed).fork(f'batches/client-{client}/round-{rnd}/epoch-{epoch}').shuffle(list(range(n)))
    return [order[s:s + batch_size] for s in range(0, n, batch_size)]


def round_batches(n, plan, seed, client, rnd):
    def epoch(e):
        return epoch_batches(n, plan['batchSize'], seed, client, rnd, e)

    if plan['algorithm'] == 'fedsgd':
        return [epoch(0)[0]]
    if plan['localEpochs'] > 0:
        out = []
        for e in range(plan['localEpochs']):
            out.extend(epoch(e))
        return out
    out = []
    e = 0
    while len(out) < plan['localSteps']:
        for b in epoch(e):
            if len(out) == plan['localSteps']:
                break
            out.append(b)
        e += 1
    return out


def distinct_in_order(batches):
    seen = set()
    out = []
    for b in batches:
        for i in b:
            if i not in seen:
                seen.add(i)
                out.append(i)
    return out


def max_frame_bytes(federation, params, pixels, largest_shard):
    if federation['algorithm'] == 'fedsgd':
        used = federation['batchSize']
    elif federation['localEpochs'] > 0:
        used = largest_shard
    else:
        used = federation['localSteps'] * federation['batchSize']
    e = min(used, largest_shard)
    return 4 * max(params, e * (pixels + 1)) + 65536


def select(connected, k, seed, rnd):
    if connected <= k:
        return list(range(connected))
    picked = set(Rng(seed).fork(f'select/round-{rnd}').sample(connected, k))
    return [i for i in range(connected) if i in picked]


# --- defences (docs/defenses.md "Exact formulas") ----------------------------------------------------


def segments(n, shapes):
    if shapes is None:
        return [(0, n)]
    out = []
    off = 0
    for s in shapes:
        size = math.prod(s)
        out.append((off, off + size))
        off += size
    if off != n:
        raise ValueError('shapes do not add up to the update length')
    return out


def clip(u, norm):
    total = 0.0
    for v in u:
        total += v * v
    big_n = math.sqrt(total)
    if big_n > norm:
        s = norm / big_n
        for i in range(len(u)):
            u[i] = f32(u[i] * s)


def add_noise(u, cfg, rng):
    if cfg.get('mechanism', 'gaussian') == 'gaussian':
        std = math.sqrt(cfg['variance'])
        for i in range(len(u)):
            u[i] = f32(u[i] + rng.normal(0, std))
    else:
        b = math.sqrt(cfg['variance'] / 2)
        for i in range(len(u)):
            u[i] = f32(u[i] + rng.laplace(b))


def prune(u, fraction, shapes):
    for lo, hi in segments(len(u), shapes):
        n = hi - lo
        k = round_half_up(fraction * n)
        if k <= 0:
            continue
        if k >= n:
            for i in range(lo, hi):
                u[i] = 0.0
            continue
        k = int(k)
        threshold = sorted(abs(u[i]) for i in range(lo, hi))[k - 1]
        zeroed = 0
        for i in range(lo, hi):
            if abs(u[i]) < threshold:
                u[i] = 0.0
                zeroed += 1
        for i in range(lo, hi):
            if zeroed >= k:
                break
            if abs(u[i]) == threshold:
                u[i] = 0.0
                zeroed += 1


def round_half_even(v):
    fl = math.floor(v)
    d = v - fl
    if d > 0.5:
        return fl + 1
    if d < 0.5:
        return fl
    return fl if fl % 2 == 0 else fl + 1


def fp16(x):
    if math.isnan(x) or math.isinf(x):
        return x
    a = abs(x)
    negative = math.copysign(1.0, x) < 0
    if a >= 65520:
        r = math.inf
    elif a < 2.0 ** -14:
        r = round_half_even(a / 2.0 ** -24) * 2.0 ** -24
    else:
        e = math.frexp(a)[1] - 1  # a = m * 2^(e+1), m in [0.5, 1): 2^e <= a < 2^(e+1)
        q = 2.0 ** (e - 10)
        r = round_half_even(a / q) * q
    r = float(r)
    return -r if negative else r


def int8(u, shapes):
    for lo, hi in segments(len(u), shapes):
        m = 0.0
        for i in range(lo, hi):
            m = max(m, abs(u[i]))
        s = m / 127
        for i in range(lo, hi):
            if s == 0:
                u[i] = 0.0
            else:
                q = min(127.0, max(-127.0, round_half_up(u[i] / s)))
                u[i] = f32(q * s)


def defend(update, defenses, seed, client, rnd, shapes):
    u = list(update)
    rng = Rng(seed).fork(f'defenses/client-{client}/round-{rnd}')
    for name in defenses['order']:
        cfg = defenses.get(name)
        if cfg is None:
            continue
        if name == 'clipping':
            clip(u, cfg['norm'])
        elif name == 'noise':
            add_noise(u, cfg, rng)
        elif name == 'pruning':
            prune(u, cfg['fraction'], shapes)
        elif name == 'quantization':
            if cfg['bits'] == 16:
                u = [fp16(v) for v in u]
            else:
                int8(u, shapes)
    return u


def init_params(shapes, scheme, seed):
    rng = Rng(seed).fork('model-init')
    out = array('f')
    last_kernel = None
    for s in shapes:
        if len(s) > 1:
            last_kernel = s
        k = last_kernel if last_kernel is not None else s
        fan_in = k[0] * k[1] * k[2] if len(k) == 4 else k[0]
        bound = scheme['range'] if scheme['kind'] == 'uniform' else 1 / math.sqrt(fan_in)
        for _ in range(math.prod(s)):
            out.append(-bound + (bound - (-bound)) * rng.next())
    return out


# --- the request/answer loop ---------------------------------------------------------------------------


def f32_b64(values):
    return base64.b64encode(array('f', values).tobytes()).decode('ascii')


def b64_f32(text):
    a = array('f')
    a.frombytes(base64.b64decode(text))
    return list(a)


def sha256_f32(values):
    return hashlib.sha256(array('f', values).tobytes()).hexdigest()


def run_rng(task):
    rng = Rng(task['seed'])
    for label in task.get('forks', []):
        rng = rng.fork(label)
    out = []
    for op, *args in task['draws']:
        if op == 'uint32':
            out.append([rng.next_uint32() for _ in range(args[0])])
        elif op == 'next':
            out.append([rng.next() for _ in range(args[0])])
        elif op == 'uniform':
            out.append([rng.uniform(args[0], args[1]) for _ in range(args[2])])
        elif op == 'int':
            out.append([rng.int(args[0]) for _ in range(args[1])])
        elif op == 'normal':
            out.append([rng.normal(args[0], args[1]) for _ in range(args[2])])
        elif op == 'laplace':
            out.append([rng.laplace(args[0]) for _ in range(args[1])])
        elif op == 'gamma':
            out.append([rng.gamma(args[0]) for _ in range(args[1])])
        elif op == 'shuffle':
            out.append(rng.shuffle(list(range(args[0]))))
        elif op == 'sample':
            out.append(rng.sample(args[0], args[1]))
        else:
            raise ValueError(f'unknown draw {op}')
    return {'seed': rng.seed, 'draws': out}


def run_federated(task, mnist_dir):
    data = task['data']
    full, train, train_idx, test_idx, shards = federated(data, task['clients'], task['seed'], mnist_dir)
    result = {'trainIdx': train_idx, 'testIdx': test_idx, 'shards': shards, 'clients': []}
    if task.get('fullImages'):
        result['fullImages'] = f32_b64(full.images)
        result['fullLabels'] = full.labels
    else:
        result['fullSha256'] = sha256_f32(full.images)
        result['fullLabels'] = full.labels
    plan = task.get('plan')
    for c, shard in enumerate(shards):
        mine = train.subset(shard)
        entry = {'labels': mine.labels, 'imagesSha256': sha256_f32(mine.images)}
        if plan:
            entry['rounds'] = []
            for rnd in task['rounds']:
                batches = round_batches(len(shard), plan, task['seed'], c, rnd)
                used = distinct_in_order(batches)
                truth = mine.subset(used)
                entry['rounds'].append({'batches': batches, 'used': used, 'usedLabels': truth.labels, 'usedImagesSha256': sha256_f32(truth.images)})
        result['clients'].append(entry)
    largest = max(len(s) for s in shards)
    if 'federation' in task:
        result['maxFrameBytes'] = max_frame_bytes(task['federation'], task['paramCount'], full.example_size(), largest)
    return result


def handle(task, mnist_dir):
    op = task['op']
    if op == 'rng':
        return run_rng(task)
    if op == 'federated':
        return run_federated(task, mnist_dir)
    if op == 'schedule':
        return round_batches(task['n'], task['plan'], task['seed'], task['client'], task['round'])
    if op == 'select':
        return select(task['connected'], task['k'], task['seed'], task['round'])
    if op == 'defend':
        out = defend(b64_f32(task['update']), task['defenses'], task['seed'], task['client'], task['round'], task.get('shapes'))
        return f32_b64(out)
    if op == 'fp16':
        return f32_b64([fp16(v) for v in b64_f32(task['values'])])
    if op == 'init':
        return base64.b64encode(init_params(task['shapes'], task['scheme'], task['seed']).tobytes()).decode('ascii')
    raise ValueError(f'unknown op {op}')


def main():
    request = json.load(sys.stdin)
    mnist_dir = request.get('mnistDir', '')
    results = [handle(t, mnist_dir) for t in request['tasks']]
    json.dump({'results': results}, sys.stdout)


if __name__ == '__main__':
    main()
