#!/usr/bin/env bash
# Installs NVRTC (the CUDA C++ -> PTX compiler; no GPU needed) and the CUDA headers from NVIDIA's
# pip wheels into <repo>/.nvrtc/site, once. Idempotent: a second run only checks a stamp file.
#
# stdout carries only the env exports, so both work:
#   bash scripts/install-nvrtc.sh            # install, show the exports
#   eval "$(bash scripts/install-nvrtc.sh)"  # install and apply them to this shell
# The exports are optional for RingKernel itself: NvrtcCompiler::discover() finds .nvrtc/site by
# walking up from the current dir / CARGO_MANIFEST_DIR and preloads libnvrtc from there. They are
# for other tools (and for an explicit, reproducible environment).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NVRTC_DIR="$ROOT/.nvrtc"
SITE="$NVRTC_DIR/site"
CU="$SITE/nvidia/cu13"
# Pinned: NVRTC 13.0 matches the GPU machine's CUDA 13.0 toolkit and cudarc's `cuda-13000` bindings.
PINS=("nvidia-cuda-nvrtc==13.0.88" "nvidia-cuda-runtime==13.0.*" "nvidia-cuda-cccl==13.0.*")
STAMP="$NVRTC_DIR/installed"
PYTHON="${PYTHON:-python3}"

complete() {
    [[ -f "$CU/lib/libnvrtc.so.13" && -f "$CU/include/cooperative_groups.h" &&
       -f "$CU/include/cccl/cuda/atomic" && -f "$STAMP" ]] &&
        [[ "$(cat "$STAMP")" == "${PINS[*]}" ]]
}

if complete; then
    echo "install-nvrtc: already installed in $SITE" >&2
else
    echo "install-nvrtc: installing ${PINS[*]} into $SITE" >&2
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        echo "install-nvrtc: '$PYTHON -m pip' is not available; install pip (e.g. apt-get install python3-pip)" >&2
        exit 1
    fi
    mkdir -p "$NVRTC_DIR"
    # Install into a fresh temp dir and swap it in, so an interrupted run never leaves a
    # half-installed site that looks complete.
    TMP="$(mktemp -d "$NVRTC_DIR/site.tmp.XXXXXX")"
    trap 'rm -rf "$TMP"' EXIT
    # (Containers often run as root; pip's warning about that is noise here: we install into
    # a private --target dir, not the system site.)
    PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
        --no-compile --target "$TMP" "${PINS[@]}" >&2
    rm -rf "$SITE"
    mv "$TMP" "$SITE"
    trap - EXIT
    printf '%s' "${PINS[*]}" >"$STAMP"
    if ! complete; then
        echo "install-nvrtc: the wheels did not produce the expected layout under $CU" >&2
        exit 1
    fi
    echo "install-nvrtc: done" >&2
fi

# libnvrtc.so.13 and libnvrtc-builtins.so.13.0 live in the same dir; NVRTC opens the builtins
# itself during a compile, so both need to be findable by a plain loader search.
echo "export LD_LIBRARY_PATH=\"$CU/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
echo "export RINGKERNEL_CUDA_INCLUDE=\"$CU/include:$CU/include/cccl\""
