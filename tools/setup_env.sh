#!/usr/bin/env bash
# Create (or reuse) a virtual environment with one pinned stack: by default .venv/ with the
# main stack (requirements/stack.txt), full mmcv built by tools/install_mmcv.py, and mmsr
# installed editable. Used by `make test` (for each test lane) and `make demo`; safe to run
# again: an up-to-date environment is kept.
#   MMSR_VENV   where to create it (default: .venv)       PYTHON   interpreter (default: python3)
#   MMSR_STACK  the pin file (default: requirements/stack.txt; the test lanes use
#               requirements/stack-torch2.1.txt and requirements/stack-torch-newest.txt)
#   MMSR_CACHE_DIR  where the built mmcv wheel is cached (default: $XDG_CACHE_HOME/mmsr or
#               ~/.cache/mmsr, as tools/install_mmcv.py), and uv's cache (<MMSR_CACHE_DIR>/uv)
#               unless UV_CACHE_DIR is set
# Packages are installed by uv (pinned below, itself installed into the environment by pip):
# it links them from its cache, so an environment is made again in seconds instead of minutes.
# Where uv cannot be installed, pip installs them (same pins, slower). MMSR_INSTALLER=pip
# chooses pip.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MMSR_VENV:-.venv}
export MMSR_STACK=${MMSR_STACK:-requirements/stack.txt}
STACK=$MMSR_STACK
stamp="$VENV/.mmsr-env"
want=$(cat "$STACK" setup.py tools/install_mmcv.py tools/setup_env.sh | sha256sum | cut -d' ' -f1)

# What the stack must import: mmsr, plus full mmcv and the codebases it pins.
imports=mmsr
pins() { grep -q "^$1==" "$STACK"; }
pins mmcv && imports+=,mmcv.ops
pins mmsegmentation && imports+=,mmseg
pins mmpretrain && imports+=,mmpretrain

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   "$VENV/bin/python" -c "import $imports" 2>/dev/null; then
  echo "setup_env: $VENV is up to date ($STACK)."
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV" || {
    echo "setup_env: error: could not create $VENV; install Python >= 3.9 with venv" \
         "(Debian/Ubuntu: apt-get install python3-venv)." >&2; exit 2; }
fi
# The stack's own pins are the constraints; a machine-wide pip constraint file (a cap on the
# torch versions a machine keeps on disk) does not apply to a stack that pins another torch.
export PIP_CONSTRAINT=/dev/null
UV_VERSION=0.13.9
pip=("$VENV/bin/python" -m pip install -q -c "$STACK")
if [ "${MMSR_INSTALLER:-uv}" = uv ]; then
  if "$VENV/bin/python" -m pip install -q "uv==$UV_VERSION"; then
    export UV_CACHE_DIR=${UV_CACHE_DIR:-${MMSR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mmsr}/uv}
    # --compile-bytecode: as pip does; where Python may not write .pyc files itself
    # (PYTHONDONTWRITEBYTECODE), every process would otherwise compile torch on import.
    pip=("$VENV/bin/uv" pip install -q --compile-bytecode --python "$VENV/bin/python" -c "$STACK")
  else
    echo "setup_env: uv $UV_VERSION could not be installed; installing with pip instead" >&2
  fi
fi
# mmengine here too: it brings what the mmcv wheel needs, so tools/install_mmcv.py (pip) finds
# its requirements installed.
echo "setup_env: [1/4] torch, torchvision, mmengine and build tools ($STACK)"
"${pip[@]}" torch torchvision mmengine setuptools packaging wheel
if pins mmcv; then
  echo "setup_env: [2/4] full mmcv (cached wheel, or built from source)"
  "${pip[@]}" ninja
  "$VENV/bin/python" tools/install_mmcv.py
else
  echo "setup_env: [2/4] no full mmcv in this stack"
fi
echo "setup_env: [3/4] the rest of the stack (OpenMMLab packages, test tools)"
"${pip[@]}" -r "$STACK"
# mmsr itself with pip, as a user's `pip install -e .` installs it (setup.py develop: nothing of
# mmsr's lands in site-packages but a link, which tests/test_install.py relies on).
# It builds in the repository itself (build/, mmsr.egg-info): under a lock on setup.py, which
# the install tests take too (tests/install_envs.py), as `make test` sets environments up while
# other lanes run.
echo "setup_env: [4/4] mmsr (editable)"
lock=()
if command -v flock >/dev/null; then lock=(flock setup.py); fi
${lock[@]+"${lock[@]}"} "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
echo "$want" > "$stamp"
"$VENV/bin/python" -c "import $imports"'
import importlib.metadata as md
names = ("torch", "mmengine", "mmcv", "mmcv-lite", "mmsegmentation", "mmpretrain", "mmsr")
found = []
for name in names:
    try:
        found.append(f"{name} {md.version(name)}")
    except md.PackageNotFoundError:
        pass
print("setup_env: ready:", " | ".join(found))'
