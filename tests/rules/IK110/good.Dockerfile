FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
# CUDA's forward-compatibility libraries and link-time stubs are not the driver
RUN apt-get update && apt-get install -y --no-install-recommends cuda-compat-12-4=550.54.15-1 && rm -rf /var/lib/apt/lists/*
COPY compat/libcuda.so.550.54.15 /usr/local/cuda-12.4/compat/
COPY --from=nvidia/cuda:12.4.1-devel-ubuntu22.04 /usr/local/cuda/lib64/stubs/libcuda.so /usr/local/cuda/lib64/stubs/libcuda.so
