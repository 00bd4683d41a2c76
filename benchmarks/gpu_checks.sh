#!/usr/bin/env bash
# Issue 12's GPU checks as one prepared command for a lent GPU machine (about 9 minutes in all):
#   OUT=$OUT bash benchmarks/gpu_checks.sh
# Writes under $OUT (at most 2 folders down, as the device tool brings back): nvidia-smi.txt, suite/suite.json,
# suite/suite.md (every card's fp32/AMP forward, GPU busy %, peak memory, end-to-end clips/s with 2 and 8 workers,
# fp32 predictions against a CPU run of the same evaluation), nla_slr.log (ours from frames and keypoints, heatmaps
# on the GPU, against the official forward) and videomae.log, where the official checkouts were carried in
# .official/ (an ignored folder: CorrNet, SlowFastSign, VideoMAEv2, signVLM, SLRT/NLA-SLR; missing ones skipped).
# DEVICE=cpu runs the same steps with the suite's reduced cards (a smoke test of this script on a CPU machine).
set -u
OUT=${OUT:-/tmp/gpu-checks}
DEVICE=${DEVICE:-cuda}
quick=(); [ "$DEVICE" = cpu ] && quick=(--quick --workers 2)
mkdir -p "$OUT/suite"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
official=()
for pair in corrnet=CorrNet slowfastsign=SlowFastSign signnet=VideoMAEv2 signvlm=signVLM evl_vitb16_8f_k400=signVLM; do
  [ -d ".official/${pair#*=}" ] && official+=(--official "${pair%%=*}=.official/${pair#*=}")
done
timeout 400 python benchmarks/gpu_suite.py --device "$DEVICE" --out "$OUT/suite" --workers 2 8 --e2e-clips 24 \
  "${quick[@]}" "${official[@]}" 2>&1 | tee "$OUT/suite/suite.log"
if [ -d .official/SLRT/NLA-SLR ]; then
  timeout 90 python benchmarks/bench_nla_slr.py --device "$DEVICE" --nla-slr-repo .official/SLRT/NLA-SLR --repeats 3 \
    --impls ours ours_raw official 2>&1 | tee "$OUT/nla_slr.log"
fi
if [ -d .official/VideoMAEv2 ]; then
  timeout 60 python benchmarks/bench_videomae.py --device "$DEVICE" --videomae-repo .official/VideoMAEv2 --frames 32 \
    --batch 4 --iters 3 2>&1 | tee "$OUT/videomae.log"
  timeout 40 python benchmarks/bench_videomae.py --device "$DEVICE" --amp --videomae-repo .official/VideoMAEv2 \
    --frames 32 --batch 4 --iters 3 2>&1 | tee -a "$OUT/videomae.log"
fi
