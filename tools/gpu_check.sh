#!/usr/bin/env bash
# mmsr's GPU checks, prepared on a machine with a package index and run on a GPU machine that
# has Python, a CUDA build of torch, Triton and nvcc but no package index (docs/testing.md,
# "GPU checks"). Each GPU step is one command of at most about 8 minutes and writes at most
# seven files into OUTDIR (default: $OUT, else /tmp/mmsr-gpu-check).
#
#   bash tools/gpu_check.sh prepare          # here: .gpu-carry/ = wheels for Python 3.12 of
#                                            # requirements/gpu-carry.txt + mmcv's source
#   bash tools/gpu_check.sh build [OUTDIR]   # GPU: full mmcv with CUDA ops for the visible GPU
#       (timed; returned as parts of at most 15 MiB), and meanwhile on 4 cores the Triton
#       kernel's GPU tests and the 1024x2048 Cityscapes-layout data for `measure`
#   bash tools/gpu_check.sh tests [OUTDIR]   # GPU: every gpu-marked test, then the SR block's
#       share of ResNet50 inference (batch 1, 5, 32; fp32, bf16; eager and Triton kernel)
#   bash tools/gpu_check.sh measure [OUTDIR] # GPU: DeepLabV3 and DeepLabV3 + SR at the full
#       512x1024 crop with dist_train.sh 1 GPU: s/iter and memory (fp32, --amp), --resume,
#       the stock mmseg test.py whole-image and --tta
#
# `tests` and `measure` take mmcv from the same warm machine, else from returned parts copied
# into .gpu-carry/ (joined there), else they build it first (about 6 minutes). Without a CUDA
# device each GPU step stops, after installing the carried packages, with one line and exit
# status 3.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
STEP=${1:?usage: tools/gpu_check.sh prepare|build|tests|measure [OUTDIR]}
OUTDIR=${2:-${OUT:-/tmp/mmsr-gpu-check}}
CARRY=${MMSR_GPU_CARRY:-.gpu-carry}
SITE=${MMSR_GPU_SITE:-/tmp/mmsr-gpu-site}
CACHE=${MMSR_GPU_CACHE:-/tmp/mmsr-gpu-cache}
PY=${PYTHON:-python3}

if [ "$STEP" = prepare ]; then
  set -e
  mkdir -p "$CARRY/wheels"
  rm -f "$CARRY"/wheels/*.whl
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$CARRY/wheels" -r requirements/gpu-carry.txt
  python3 tools/install_mmcv.py --source-only --cache-dir "$CARRY"
  echo "gpu_check: $CARRY ready ($(du -sh "$CARRY" | cut -f1)); copy it to the GPU machine" \
       "with the repository (it is git-ignored)"
  exit 0
fi
case "$STEP" in build|tests|measure) ;; *) echo "gpu_check: unknown step $STEP" >&2; exit 2 ;; esac

mkdir -p "$OUTDIR"
export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
NPROC=$(nproc)
say() { echo "gpu_check: $*"; }

# --- the carried packages ---------------------------------------------------------------
if [ ! -d "$SITE/mmengine" ]; then
  ls "$CARRY"/wheels/*.whl >/dev/null 2>&1 || {
    say "no wheels in $CARRY/wheels: run 'bash tools/gpu_check.sh prepare' and carry $CARRY"; exit 2; }
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" "$CARRY"/wheels/*.whl || { say "installing the carried wheels failed"; exit 2; }
  rm -rf "$SITE/tests"  # some wheels ship a top-level tests package
fi
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)'
case $? in
  0) ;;
  3) say "no CUDA device visible: stopping before the GPU steps (carried packages in $SITE)"
     exit 3 ;;
  *) say "torch does not import with $PY"; exit 2 ;;
esac

# --- full mmcv with CUDA ops: installed, carried, or built (in the background) --------------
MMCV_CHECK='import mmcv.ops, torch; from mmcv.ops import nms; b = torch.rand(4, 4).cuda(); b[:, 2:] += 1; nms(b, torch.rand(4).cuda(), 0.5)'
BUILD_PID=
start_mmcv() {  # $1: CPUs to build on (a taskset list)
  if "$PY" -c "$MMCV_CHECK" 2>/dev/null; then say "mmcv with CUDA ops already installed"; return; fi
  if ls "$CARRY"/mmcv-*.whl.part-* >/dev/null 2>&1; then
    local parts wheel
    parts=$(ls "$CARRY"/mmcv-*.whl.part-* | head -n 1)
    wheel=$CACHE/${parts##*/}; wheel=${wheel%.part-*}
    mkdir -p "$CACHE" && cat "$CARRY"/mmcv-*.whl.part-* > "$wheel"
    "$PY" -m pip install -q --no-index --no-deps --upgrade --target "$SITE" "$wheel" &&
      "$PY" -c "$MMCV_CHECK" && { say "installed the carried ${wheel##*/}"; return; }
    say "the carried ${wheel##*/} does not run here: building"
  fi
  mkdir -p "$CACHE/sdist" && cp "$CARRY"/sdist/mmcv-*.tar.gz "$CACHE/sdist/"
  local jobs
  jobs=$(taskset -c "$1" nproc)
  say "building mmcv with CUDA ops on $jobs cores (log: mmcv_build.log)"
  ( set -o pipefail; start=$(date +%s)
    taskset -c "$1" "$PY" tools/install_mmcv.py --offline --cuda 1 --jobs "$jobs" \
      --cache-dir "$CACHE" --target "$SITE" || {
        echo "gpu_check: CUDA build failed; building CPU ops only so that mmseg imports"
        taskset -c "$1" "$PY" tools/install_mmcv.py --offline --cuda 0 --jobs "$jobs" \
          --cache-dir "$CACHE" --target "$SITE"; exit 1; }
    echo "gpu_check: mmcv build and install took $(( $(date +%s) - start )) s"
  ) > "$OUTDIR/mmcv_build.log" 2>&1 &
  BUILD_PID=$!
}
finish_mmcv() {  # waits for a build; returns its wheel in parts of at most 15 MiB
  [ -n "$BUILD_PID" ] || return 0
  wait "$BUILD_PID"; local rc=$?
  tail -n 3 "$OUTDIR/mmcv_build.log"
  local wheel
  wheel=$(ls "$CACHE"/mmcv-*-cu*/mmcv-*.whl 2>/dev/null | head -n 1)
  if [ $rc -eq 0 ] && [ -n "$wheel" ]; then
    split -b 15M -d "$wheel" "$OUTDIR/${wheel##*/}.part-"
    say "returned ${wheel##*/} ($(du -h "$wheel" | cut -f1)) as $(ls "$OUTDIR"/*.part-* | wc -l)" \
        "parts: copy them into $CARRY/ for the next machine"
  fi
  return $rc
}

# Cityscapes-layout data at the full 1024x2048 (made while the `tests` step waits for its build).
DATA=/tmp/mmsr-cityscapes WORK=/tmp/mmsr-work
make_data() {  # [CPUs]
  rm -rf "$DATA"
  taskset -c "${1:-0-$((NPROC - 1))}" "$PY" -c "from mmsr.datasets import make_cityscapes_layout
make_cityscapes_layout('$DATA', num_train=4, num_val=2, size=(1024, 2048))" && touch "$DATA/done"
}

gpu_env() {
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$PY" -c 'import sys, torch, triton, mmengine; print("python", sys.version.split()[0], "| torch", torch.__version__, "| CUDA", torch.version.cuda, "| triton", triton.__version__, "| mmengine", mmengine.__version__)'
}

if [ "$STEP" = build ]; then
  LOG=$OUTDIR/kernel_tests.log
  gpu_env | tee "$LOG"
  # The build takes all cores but four; the Triton kernel's GPU tests (torch, Triton and
  # mmengine only) and the data run on those four meanwhile. No timing runs beside a build.
  start_mmcv "4-$((NPROC - 1))"
  taskset -c 0-3 "$PY" -m pytest -p no:cacheprovider -q -rA -m gpu \
    tests/models/layers/test_sr_recall_kernel.py >> "$LOG" 2>&1
  say "kernel tests: $(tail -n 1 "$LOG")"
  [ -f "$DATA/done" ] || make_data 0-3
  finish_mmcv || say "mmcv: the CUDA build failed (mmcv_build.log)"
  exit 0
fi

start_mmcv "0-$((NPROC - 1))"
finish_mmcv > /dev/null || say "mmcv: the CUDA build failed (mmcv_build.log)"

if [ "$STEP" = tests ]; then
  LOG=$OUTDIR/tests.log BENCH=$OUTDIR/bench.log
  gpu_env | tee "$LOG"
  # One pytest run per file, each with its own time limit (the resume test alone starts
  # dist_train.sh four times).
  for file in $(grep -rl --include='test_*.py' 'mark.gpu' tests | sort); do
    timeout 240 "$PY" -m pytest -p no:cacheprovider -q -rA -m gpu "$file" >> "$LOG" 2>&1
    say "GPU tests, $file: $(tail -n 1 "$LOG")"
  done
  grep -E '^(PASSED|FAILED|ERROR|SKIPPED)|cuda resume:' "$LOG" | cut -c1-200
  gpu_env > "$BENCH"
  for amp in '' --amp; do
    for kernel in '' --triton-recall; do
      timeout 100 "$PY" tools/analysis_tools/benchmark.py --torchvision-resnet50 --device cuda \
        --batch-size 1 5 32 --modes inference --repeats 50 --warmup 10 $amp $kernel \
        >> "$BENCH" 2>&1 || say "benchmark $amp $kernel failed (bench.log)"
    done
  done
  grep -E '^inference' "$BENCH" | cut -c1-200
  exit 0
fi

# --- measure: DeepLabV3 and DeepLabV3 + SR at the full crop ------------------------------
LOG=$OUTDIR/measure.log
gpu_env | tee "$LOG"
[ -f "$DATA/done" ] || make_data
DATA_OPTS=()
for loader in train val test; do DATA_OPTS+=("${loader}_dataloader.dataset.data_root=$DATA"); done
OPTS=("${DATA_OPTS[@]}" model.pretrained=None train_dataloader.num_workers=8
      train_cfg.val_interval=100000 default_hooks.logger.interval=1
      default_hooks.checkpoint.interval=20)
train() {  # NAME CONFIG ITERS [train.py options]
  local name=$1 config=$2 iters=$3; shift 3
  local start=$(date +%s)
  timeout 240 bash tools/dist_train.sh "$config" 1 --work-dir "$WORK/$name" "$@" \
    --cfg-options "${OPTS[@]}" train_cfg.max_iters="$iters" > "$WORK/$name.log" 2>&1
  local rc=$?
  echo "gpu_check: train $name ($config, $iters iterations $*): rc $rc, $(( $(date +%s) - start )) s" | tee -a "$LOG"
  grep -E 'Iter\(train\) \[ *'"$iters"'/' "$WORK/$name.log" | tail -n 1 | cut -c1-300 >> "$LOG"
  [ $rc -eq 0 ] || tail -n 30 "$WORK/$name.log" >> "$LOG"
}
mkdir -p "$WORK"
export PYTHON=$PY
train dlv3 configs/deeplabv3_r50_cityscapes.py 40
train dlv3_sr configs/deeplabv3_r50_sr_cityscapes.py 40
"$PY" tools/analysis_tools/train_time.py "$WORK/dlv3" "$WORK/dlv3_sr" --skip 10 \
  --json "$OUTDIR/train_time.json" 2>&1 | tee -a "$LOG"
train dlv3_sr configs/deeplabv3_r50_sr_cityscapes.py 50 --resume
grep -iE 'resumed|Load checkpoint' "$WORK/dlv3_sr.log" | tail -n 2 | cut -c1-200 >> "$LOG"
train dlv3_amp configs/deeplabv3_r50_cityscapes.py 30 --amp
train dlv3_sr_amp configs/deeplabv3_r50_sr_cityscapes.py 30 --amp
"$PY" tools/analysis_tools/train_time.py "$WORK/dlv3_amp" "$WORK/dlv3_sr_amp" --skip 10 \
  --json "$OUTDIR/train_time_amp.json" 2>&1 | tee -a "$LOG"
MMSEG_TEST=$("$PY" -c 'import mmseg, os; print(os.path.join(os.path.dirname(mmseg.__file__), ".mim", "tools", "test.py"))')
for tta in '' --tta; do
  start=$(date +%s)
  timeout 180 "$PY" "$MMSEG_TEST" configs/deeplabv3_r50_sr_cityscapes.py \
    "$WORK/dlv3_sr/iter_50.pth" --work-dir "$WORK/test$tta" $tta \
    --cfg-options "${DATA_OPTS[@]}" model.pretrained=None > "$WORK/test$tta.log" 2>&1
  echo "gpu_check: stock mmseg test.py ${tta:-whole-image}: rc $?, $(( $(date +%s) - start )) s" | tee -a "$LOG"
  grep -E 'mIoU|Error' "$WORK/test$tta.log" | tail -n 2 | cut -c1-300 | tee -a "$LOG"
done
exit 0
