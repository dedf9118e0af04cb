#!/usr/bin/env bash
# Compiles gonka-worker with its `cuda` feature on a machine without a GPU, so the CUDA
# path cannot silently stop building (docs/worker.md). Not part of the default test
# command: ~17 minutes cold on 2 cores (most of it nvcc on candle's quantized kernels).
#
# The CUDA toolkit comes from PyPI (NVIDIA's wheels, pinned; nothing is installed
# system-wide): nvcc, its crt headers, the runtime headers and NVVM (cicc, libdevice), all
# 13.0.88 — 13.0 matches the driver of the GPUs this project may get — and CCCL 13.0.85
# (libcu++'s `nv/target`, which `cuda_fp16.h` includes; CUDA 13.0's CCCL release). candle's kernels are
# compiled to PTX for compute capability 9.0 (H100); set CUDA_COMPUTE_CAP to change it.
# Everything is compiled (candle's CUDA kernels by nvcc, every Rust target of the worker
# type-checked with the feature on); nothing is linked: the binary links against the
# driver's libcuda and the toolkit's cuBLAS, cuRAND and NVRTC, which a GPU host has and
# these wheels do not (`cargo build --release -p gonka-worker --features cuda` there).
#   scripts/cuda-check.sh [extra cargo args...]
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$GONKA_ROOT"

cuda_version="13.0.88"
cccl_version="13.0.85"
cuda_dir="$HOME/.cache/gonka/cuda-$cuda_version"
cuda_root="$cuda_dir/root/nvidia/cu13"
if [ ! -x "$cuda_root/bin/nvcc" ] || [ ! -e "$cuda_root/include/nv/target" ]; then
	echo "==> fetching the CUDA $cuda_version toolkit wheels from PyPI" >&2
	rm -rf "$cuda_dir"
	mkdir -p "$cuda_dir/wheels"
	python3 -m pip download --no-deps --dest "$cuda_dir/wheels" \
		"nvidia-cuda-nvcc==$cuda_version" "nvidia-cuda-crt==$cuda_version" \
		"nvidia-cuda-runtime==$cuda_version" "nvidia-nvvm==$cuda_version" \
		"nvidia-cuda-cccl==$cccl_version" >&2
	for wheel in "$cuda_dir"/wheels/*.whl; do
		python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
			"$wheel" "$cuda_dir/root"
	done
	chmod +x "$cuda_root"/bin/* "$cuda_root"/nvvm/bin/*
	# The wheel ships the runtime's soname only; the linker's `-lcudart` wants the plain name.
	ln -sf libcudart.so.13 "$cuda_root/lib/libcudart.so"
fi

# nvcc finds cicc, libdevice and the headers relative to its own directory.
export CUDA_ROOT="$cuda_root"
export CUDA_PATH="$cuda_root"
export PATH="$cuda_root/bin:$PATH"
export LIBRARY_PATH="$cuda_root/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
# cudarc picks its CUDA API version at build time; without a driver it cannot ask one.
export CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-13000}"
nvcc --version | tail -n 2 >&2

gonka_cargo check --locked -p gonka-worker --features cuda --all-targets "$@"
echo "gonka-worker compiles with the cuda feature (CUDA $cuda_version, compute capability $CUDA_COMPUTE_CAP)"
