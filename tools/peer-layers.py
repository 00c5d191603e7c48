#!/usr/bin/python3
"""tools/peer-layers.py: the PyTorch peer's convolutions one by one, next to
`clunet bench`'s per-layer table, to show which layers lose and by how much.

For (S, c) at batch B it takes the peer's own U-Net (../shared/peer/
unet_torch.py, imported, not changed), records each Conv2d's input shape
with a forward hook, and times every layer alone with the peer's threads
(UNET_THREADS, default 2):
  forward   relu(conv2d(x, w, b)) under no_grad (clunet's layer forward:
            convolution + bias + ReLU; the last 1x1 layer has no ReLU in
            either, timed with it here: a negligible difference)
  backward  aten.convolution_backward: dx (not for the first layer), dW, db
            (clunet's cu_conv_backward; neither includes the ReLU backward)
each the median (--stat min: the minimum) of --steps runs after --warmup;
on a shared machine the minimum, the least disturbed run, is the closer
to a quiet machine's figure, for clunet's side too. It also times the peer's
whole training step and inference as the peer's own `bench` does
(unet_torch.bench_one: forward, BCE with logits, backward, Adam; then
forward under no_grad in eval mode), so that the time outside the
convolutions can be compared too; --net-only times only that.

--cpu-time: every time in CPU-seconds of the process (time.process_time,
all threads) instead of wall-clock, as `clunet bench --cpu-time`; on a
shared machine, run with one thread (UNET_THREADS=1) so that no OpenMP
thread spins while waiting for a descheduled one.

With --clunet BIN (or --clunet-json FILE, a `clunet bench --json` output
with layers) it prints both side by side, clunet's time / peer's time per
layer (> 1: clunet slower). --json prints one JSON object instead.

    tools/peer-layers.py [--config S,c] [--batch 16] [--steps 3] [--warmup 1]
                         [--clunet build/src/clunet | --clunet-json FILE]
                         [--device cpu] [--stat median|min] [--cpu-time] [--net-only]
                         [--json] [--markdown]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "..", "shared", "peer")


def conv_layers(unet_torch, S, c):
    """(name, Cin, Cout, k, side) of each Conv2d in forward order, clunet's names."""
    import torch
    import torch.nn as nn
    model = unet_torch.UNet(c)
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, i[0].shape)))
             for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, S, S))
    for h in hooks:
        h.remove()
    names = [f"enc{k}.conv{j}" for k in range(1, 5) for j in (1, 2)] + ["mid.conv1", "mid.conv2"]
    names += [f"dec{k}.conv{j}" for k in range(4, 0, -1) for j in (1, 2)] + ["head.conv", "head.out"]
    assert len(seen) == len(names), "the peer's network has another layer list"
    return [(n, m.in_channels, m.out_channels, m.kernel_size[0], shape[2]) for n, (m, shape) in zip(names, seen)]


STAT = statistics.median  # or min (--stat)
CLOCK = time.perf_counter  # or time.process_time (--cpu-time)


def median_time(fn, steps, warmup):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(steps):
        t0 = CLOCK()
        fn()
        t.append(CLOCK() - t0)
    return STAT(t)


def time_layer(torch, B, cin, cout, k, side, first, steps, warmup):
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(1)
    x = torch.rand(B, cin, side, side, generator=g)
    w = torch.rand(cout, cin, k, k, generator=g) * 0.1
    b = torch.rand(cout, generator=g) * 0.1
    dy = torch.rand(B, cout, side, side, generator=g)
    p = k // 2

    def fwd():
        with torch.no_grad():
            F.relu(F.conv2d(x, w, b, padding=p))

    def bwd():
        torch.ops.aten.convolution_backward(dy, x, w, [cout], [1, 1], [p, p], [1, 1], False, [0, 0], 1,
                                            [not first, True, True])

    return median_time(fwd, steps, warmup), median_time(bwd, steps, warmup)


def peer_net(unet_torch, torch, S, c, B, steps, warmup):
    """The peer's training step and inference, as unet_torch.bench_one times them, with CLOCK and STAT."""
    import torch.nn.functional as F
    torch.manual_seed(0)
    model = unet_torch.UNet(c)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    x = torch.rand(B, 3, S, S)
    y = (torch.rand(B, 1, S, S) > 0.5).float()

    def step():
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def inf():
        with torch.no_grad():
            model(x)

    model.train()
    ts = median_time(step, steps, warmup)
    model.eval()
    ti = median_time(inf, steps, warmup)
    return ts, ti


def peer_profile(S, c, B, steps, warmup, net_only):
    sys.path.insert(0, PEER)
    import resource
    import unet_torch  # sets torch's threads (UNET_THREADS, default 2)
    import torch
    ts, ti = peer_net(unet_torch, torch, S, c, B, steps, warmup)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    layers = []
    for i, (name, cin, cout, k, side) in enumerate([] if net_only else conv_layers(unet_torch, S, c)):
        tf, tb = time_layer(torch, B, cin, cout, k, side, i == 0, steps, warmup)
        flop = 2.0 * B * cin * cout * k * k * side * side
        layers.append(dict(name=name, cin=cin, cout=cout, k=k, side=side, forward_s=tf, backward_s=tb,
                           forward_gflops=flop / tf * 1e-9, backward_gflops=(1 if i == 0 else 2) * flop / tb * 1e-9))
    fl = unet_torch.forward_flops(c, S)
    return dict(S=S, c=c, batch=B, threads=torch.get_num_threads(), torch=torch.__version__, layers=layers,
                clock="cpu" if CLOCK is time.process_time else "wall", train_step_s=ts, infer_s=ti,
                train_img_per_s=B / ts, infer_img_per_s=B / ti, train_gflops=3 * fl * B / ts * 1e-9,
                peak_rss_mib=rss, conv_s=sum(l["forward_s"] + l["backward_s"] for l in layers))


def side_by_side(cl, pe, markdown, key):
    """Rows: layer, clunet fwd/bwd ms, peer fwd/bwd ms, ratios (clunet / peer)."""
    cll = {l["name"]: l for l in cl["layers"]}
    head = ["layer", "Cin", "Cout", "side", "fwd ms clunet", "peer", "ratio", "bwd ms clunet", "peer", "ratio",
            "fwd+bwd lost ms"]
    rows = []
    tot = dict(cf=0.0, pf=0.0, cb=0.0, pb=0.0)
    for p in pe["layers"]:
        c = cll.get(p["name"])
        if not c:
            continue
        cf, cb = c["forward"][key], c["backward"][key]
        pf, pb = p["forward_s"], p["backward_s"]
        tot["cf"] += cf; tot["pf"] += pf; tot["cb"] += cb; tot["pb"] += pb
        rows.append([p["name"], p["cin"], p["cout"], p["side"], f"{1e3 * cf:.1f}", f"{1e3 * pf:.1f}",
                     f"{cf / pf:.2f}", f"{1e3 * cb:.1f}", f"{1e3 * pb:.1f}", f"{cb / pb:.2f}",
                     f"{1e3 * (cf + cb - pf - pb):+.1f}"])
    rows.append(["all convs", "", "", "", f"{1e3 * tot['cf']:.1f}", f"{1e3 * tot['pf']:.1f}",
                 f"{tot['cf'] / tot['pf']:.2f}", f"{1e3 * tot['cb']:.1f}", f"{1e3 * tot['pb']:.1f}",
                 f"{tot['cb'] / tot['pb']:.2f}", f"{1e3 * (tot['cf'] + tot['cb'] - tot['pf'] - tot['pb']):+.1f}"])
    cstep, pstep = cl["train_step"][key], pe["train_step_s"]
    cconv, pconv = tot["cf"] + tot["cb"], tot["pf"] + tot["pb"]
    summary = (f"training step: clunet {1e3 * cstep:.0f} ms, peer {1e3 * pstep:.0f} ms; convolutions timed alone "
               f"(forward + backward): clunet {1e3 * cconv:.0f} ms, peer {1e3 * pconv:.0f} ms; the rest of the step "
               f"(pooling, up-sampling, concat, ReLU backward, loss, optimiser, framework): clunet "
               f"{1e3 * (cstep - cconv):.0f} ms, peer {1e3 * (pstep - pconv):.0f} ms")
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    else:
        fmt = "{:<12} {:>4} {:>4} {:>4} | {:>13} {:>8} {:>5} | {:>13} {:>8} {:>5} | {:>15}"
        lines = [fmt.format(*head)] + [fmt.format(*r) for r in rows]
    return "\n".join(lines) + "\n\n" + summary + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="128,0.5", help="S,c")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--clunet", help="clunet binary: run `clunet bench --json` with the same options")
    p.add_argument("--clunet-json", help="a `clunet bench --json` output (with layers) to compare with")
    p.add_argument("--device", default="cpu")
    p.add_argument("--stat", choices=["median", "min"], default="median",
                   help="per figure: the median of the runs, or the minimum (shared machines)")
    p.add_argument("--cpu-time", action="store_true", help="CPU-seconds of the process, not wall-clock")
    p.add_argument("--net-only", action="store_true", help="only the whole training step and inference")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true", help="the side-by-side table in Markdown")
    a = p.parse_args()
    S, c = a.config.split(",")
    S, c = int(S), float(c)
    global STAT, CLOCK
    STAT = min if a.stat == "min" else statistics.median
    CLOCK = time.process_time if a.cpu_time else time.perf_counter
    cl = None
    if a.clunet_json:
        with open(a.clunet_json) as fh:
            cl = json.load(fh)
    elif a.clunet:
        cmd = [a.clunet, "bench", "--device", a.device, "-s", str(S), "-c", str(c), "--batch", str(a.batch),
               "--steps", str(a.steps), "--warmup", str(a.warmup), "--no-gemm", "--no-startup", "--json"]
        if a.cpu_time:
            cmd.insert(-1, "--cpu-time")
        cl = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    pe = peer_profile(S, c, a.batch, a.steps, a.warmup, a.net_only)
    if a.json or a.net_only:
        print(json.dumps(dict(peer=pe, clunet=cl)))
    elif cl:
        print(side_by_side(cl, pe, a.markdown, "min_s" if a.stat == "min" else "median_s"))
    else:
        for l in pe["layers"]:
            print(f"{l['name']:<12} fwd {1e3 * l['forward_s']:8.2f} ms {l['forward_gflops']:6.1f} GFLOP/s   "
                  f"bwd {1e3 * l['backward_s']:8.2f} ms {l['backward_gflops']:6.1f} GFLOP/s")
        print(f"convolutions {1e3 * pe['conv_s']:.0f} ms; training step {1e3 * pe['train_step_s']:.0f} ms; "
              f"inference {1e3 * pe['infer_s']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
