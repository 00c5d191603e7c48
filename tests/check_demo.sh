#!/usr/bin/env bash
# check_demo.sh CLUNET: the README's first run (tools/demo) end to end with
# this build's clunet, in a fresh folder; the held-aside synthetic images
# (16, never trained on) must score DSB >= 0.5 and Dice >= 0.9 (issue: the
# demo reached DSB 0.26 with one foreground output). Seeds 1-3 of the
# demo's recipe gave 0.64/0.54/0.63, Dice 0.99: 0.5 leaves room for another
# CPU's rounding, not for a regression in training or post-processing.
set -euo pipefail
clunet=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! DEMO_CLUNET="$clunet" "$CLUNET_SOURCE_ROOT/tools/demo" "$work/demo" >"$work/log" 2>&1; then
  tail -30 "$work/log"; echo "not ok tools/demo failed"; exit 1
fi
grep -E "images: Dice" "$work/log" || true
/usr/bin/python3 - "$work/demo" <<'PY'
import json, os, sys
w = sys.argv[1]
e = json.load(open(os.path.join(w, "eval", "eval.json")))
ok = e["images"] == 16 and e["dsb_score"] >= 0.5 and e["dice"] >= 0.9
print("%s demo held-aside: %d images, DSB %.3f (want >= 0.5), Dice %.3f (want >= 0.9)"
      % ("ok  " if ok else "not ok", e["images"], e["dsb_score"], e["dice"]))
samples = sorted(f for f in os.listdir(os.path.join(w, "samples")) if f.endswith("_overlay.png"))
ok2 = len(samples) == 6
print("%s demo samples: %d overlays of the shipped model (want 6)" % ("ok  " if ok2 else "not ok", len(samples)))
sys.exit(0 if ok and ok2 else 1)
PY
