#!/usr/bin/env python3
"""PyTorch anchor for `label-leak bench`: the same models, batch sizes and steps, in
Debian's python3-torch (1.13, CPU), on the same machine. Run by hand, not in CI:

    /usr/bin/python3 bench/pytorch_anchor.py [--threads N] [--repeats R] [--out FILE]

It reads the workloads from bench/cases.json (shared with the TypeScript bench), prints
images/second per workload and writes a JSON record that `label-leak bench --anchor FILE`
puts beside its own numbers.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
CASES = json.loads((ROOT / "bench" / "cases.json").read_text())


def mlp(hidden, inp, classes):
    widths = [inp["height"] * inp["width"] * inp["channels"], *hidden]
    layers = [nn.Flatten()]
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(widths[-1], classes))
    return nn.Sequential(*layers)


def cnn(channels, dense, inp, classes):
    layers, c, h, w = [], inp["channels"], inp["height"], inp["width"]
    for out in channels:
        # Stride 2, 'same'-sized output as in src/models/cnn.ts.
        layers += [nn.Conv2d(c, out, 3, stride=2, padding=1), nn.ReLU()]
        c, h, w = out, (h + 1) // 2, (w + 1) // 2
    layers.append(nn.Flatten())
    flat = c * h * w
    if dense:
        layers += [nn.Linear(flat, dense), nn.ReLU()]
        flat = dense
    layers.append(nn.Linear(flat, classes))
    return nn.Sequential(*layers)


class Block(nn.Module):
    """He et al. (2016) CIFAR block; option-A shortcut (subsample, zero channels), as src/models/resnet.ts."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, momentum=0.1)  # PyTorch's 0.1 = our momentum 0.9
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.1)
        self.stride, self.extra = stride, cout - cin

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.extra:
            s = F.pad(s, (0, 0, 0, 0, 0, self.extra))
        return F.relu(y + s)


class ResNet(nn.Module):
    def __init__(self, depth, width, inp, classes):
        super().__init__()
        k = (depth - 2) // 6
        c = 16 * width
        self.stem = nn.Conv2d(inp["channels"], c, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(c, momentum=0.1)
        blocks = []
        for s, base in enumerate([16, 32, 64]):
            for b in range(k):
                out = base * width
                blocks.append(Block(c, out, 2 if s > 0 and b == 0 else 1))
                c = out
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        y = self.blocks(F.relu(self.bn(self.stem(x))))
        return self.fc(y.mean(dim=(2, 3)))


class Fastnet(nn.Module):
    """src/models/fastnet.ts: a 3×3 stem, then per width conv → max-pool 2 → BN → ReLU → conv →
    BN → ReLU; a global max pool, a bias-free linear layer, the logits scaled."""

    def __init__(self, stem, widths, scale, inp, classes):
        super().__init__()
        bn = lambda c: nn.BatchNorm2d(c, momentum=0.1)  # PyTorch's 0.1 = our momentum 0.9
        conv = lambda a, b: nn.Conv2d(a, b, 3, 1, 1, bias=False)
        layers, c = [conv(inp["channels"], stem), bn(stem), nn.ReLU()], stem
        for out in widths:
            layers += [conv(c, out), nn.MaxPool2d(2), bn(out), nn.ReLU(), conv(out, out), bn(out), nn.ReLU()]
            c = out
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c, classes, bias=False)
        self.scale = scale

    def forward(self, x):
        return self.head(self.body(x).amax(dim=(2, 3))) * self.scale


def build(spec, inp, classes=10):
    if spec["kind"] == "mlp":
        return mlp(spec["hidden"], inp, classes)
    if spec["kind"] == "cnn":
        return cnn(spec["channels"], spec.get("dense"), inp, classes)
    if spec["kind"] == "fastnet":
        # Defaults as src/models/fastnet.ts's FASTNET_DEFAULTS.
        return Fastnet(spec.get("stem", 32), spec.get("widths", [64, 256, 256]), spec.get("scale", 0.125), inp, classes)
    return ResNet(spec["depth"], spec.get("width", 1), inp, classes)


def batch(case):
    inp = case["input"]
    x = torch.rand(case["batch"], inp["channels"], inp["height"], inp["width"])
    y = torch.randint(0, 10, (case["batch"],))
    return x, y


def grad_sign(model, x, y):
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    (g,) = torch.autograd.grad(loss, x)
    return g.sign()


def fgsm(model, x, y, eps):
    return (x + eps * grad_sign(model, x, y)).clamp(0, 1)


def bim(model, x, y, eps, steps, alpha=1 / 255):
    lo, hi = (x - eps).clamp(min=0), (x + eps).clamp(max=1)
    cur = x
    for _ in range(steps):
        cur = torch.min(torch.max(cur + alpha * grad_sign(model, cur, y), lo), hi)
    return cur


def train_step_fn(case):
    o = CASES["optimizer"]
    model = build(case["model"], case["input"])
    opt = torch.optim.SGD(model.parameters(), lr=o["learningRate"], momentum=o["momentum"],
                          nesterov=o["nesterov"], weight_decay=o["weightDecay"])
    x, y = batch(case)
    adv = case["adversarial"]

    def step():
        inputs = x
        if adv:
            k = round(adv["fraction"] * x.shape[0])
            if adv.get("epsDist") == "fixed":
                eps = torch.full((k,), adv["eps"] / 255).view(k, 1, 1, 1)
            else:
                eps = (torch.randn(k).abs() * adv["epsSigma"] / 255).view(k, 1, 1, 1)
            model.eval()  # crafted in inference mode, as src/train/step.ts
            xa = fgsm(model, x[:k], y[:k], eps).detach()
            inputs = torch.cat([xa, x[k:]]) if k < x.shape[0] else xa
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(inputs), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def attack_fn(case):
    model = build(case["model"], case["input"]).eval()
    x, y = batch(case)
    eps = case["eps"] / 255
    if case["attack"] == "fgsm":
        return lambda: fgsm(model, x, y, eps).sum().item()
    return lambda: bim(model, x, y, eps, case["steps"]).sum().item()


def measure(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own choice)")
    p.add_argument("--warmup", type=int, default=CASES["timing"]["warmup"])
    p.add_argument("--repeats", type=int, default=CASES["timing"]["repeats"])
    p.add_argument("--only", default=None, help="comma-separated case ids")
    p.add_argument("--out", default=None, help="JSON output (default results/bench/pytorch-<timestamp>.json)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    only = set(a.only.split(",")) if a.only else None
    rows = []
    for kind, cases, make in (("train", CASES["train"], train_step_fn), ("attack", CASES["attack"], attack_fn)):
        for case in cases:
            if only and case["id"] not in only:
                continue
            times = measure(make(case), a.warmup, a.repeats)
            med = statistics.median(times)
            rows.append({
                "case": case["id"], "kind": kind, "batch": case["batch"],
                "imagesPerSecond": case["batch"] / med,
                "stepSeconds": {"median": med, "min": min(times), "max": max(times), "all": times},
            })
            r = rows[-1]
            print(f"{case['id']:<22} {r['imagesPerSecond']:>9.1f} img/s   step {med*1000:8.1f} ms "
                  f"(min {min(times)*1000:.1f}, max {max(times)*1000:.1f}, n={len(times)})", flush=True)
    record = {
        "tool": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()},
        "timing": {"warmup": a.warmup, "repeats": a.repeats},
        "results": rows,
    }
    out = Path(a.out) if a.out else ROOT / "results" / "bench" / (
        "pytorch-" + datetime.datetime.now().strftime("%Y%m%dT%H%M%S") + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
