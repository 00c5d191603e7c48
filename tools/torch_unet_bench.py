"""tools/torch_unet_bench.py: the DSB2018 U-Net in PyTorch, timed on any torch
device (CUDA on a GPU machine: the peer of `tools/gpu-check`).

    python3 tools/torch_unet_bench.py [--device cuda] [-s 128] [-c 0.5] [--steps 20]

Same network as clunet (4 levels of two 3x3 ReLU convolutions, 2x2 max-pool,
bilinear 2x up-sampling with half-pixel centres, concat [skip, up], 3x3 conv to
2 channels, 1x1 conv + sigmoid), batch 16, BCE, Adam lr 1e-3, synthetic input.
A training step is forward + loss + backward + Adam; timings are the median of
--steps after 3 warm-ups, with the device synchronised around each step.
Prints one JSON line.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = [int(n * c) for n in (32, 64, 128, 256, 512)]
        self.enc = nn.ModuleList([block(3, w[0])] + [block(w[i - 1], w[i]) for i in range(1, 4)])
        self.mid = block(w[3], w[4])
        self.dec = nn.ModuleList([block(w[i] + w[i + 1], w[i]) for i in (3, 2, 1, 0)])
        self.pre = nn.Conv2d(w[0], 2, 3, padding=1)
        self.out = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        skips = []
        for e in self.enc:
            x = e(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.mid(x)
        for d, s in zip(self.dec, reversed(skips)):
            up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = d(torch.cat([s, up], 1))
        return self.out(F.relu(self.pre(x)))


def median_time(step, n, sync):
    ts = []
    for _ in range(n):
        sync()
        t0 = time.perf_counter()
        step()
        sync()
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("-s", type=int, default=128)
    p.add_argument("-c", type=float, default=0.5)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=20)
    a = p.parse_args()
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    net = UNet(a.c).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    x = torch.rand(a.batch, 3, a.s, a.s, device=dev)
    y = (torch.rand(a.batch, 1, a.s, a.s, device=dev) > 0.7).float()

    def train_step():
        opt.zero_grad(set_to_none=True)
        F.binary_cross_entropy_with_logits(net(x), y).backward()
        opt.step()

    def infer_step():
        with torch.no_grad():
            torch.sigmoid(net(x))

    for _ in range(3):
        train_step()
    t_train = median_time(train_step, a.steps, sync)
    for _ in range(3):
        infer_step()
    t_infer = median_time(infer_step, a.steps, sync)
    print(json.dumps({"S": a.s, "c": a.c, "batch": a.batch, "device": str(dev),
                      "name": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
                      "torch": torch.__version__,
                      "params": sum(p.numel() for p in net.parameters()),
                      "train_img_per_s": a.batch / t_train, "infer_img_per_s": a.batch / t_infer}))


if __name__ == "__main__":
    main()
