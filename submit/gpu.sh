#!/usr/bin/env bash
# Submits the lmc-merge job to GPU executors: YARN (default), Kubernetes or Spark standalone, with
# Spark's GPU resource scheduling. Each executor gets LMC_GPUS_PER_EXECUTOR GPUs, found by a
# discovery script (on YARN submit/getGpusResources.sh, shipped with --files; see lmc_gpu_conf in
# submit/common.sh for the others), and each task one GPU; the job computes on the GPU Spark
# assigned to the task (lmc.compute.device = auto).
#
#   submit/gpu.sh [--dry-run] [--s3] [--conf spark.key=value ...] JOB.conf [key=value ...]
#   e.g. LMC_LIBTORCH_DIR=/opt/libtorch/lib submit/gpu.sh --s3 conf/llama-1b-s3-gpu.conf
#
# The GPU nodes need libtorch 2.7.1 for CUDA 12.8 (docs/cluster.md, "GPU executors"); the app jar
# is the same as for CPUs. Variables: see submit/common.sh, plus
#   LMC_LIBTORCH_DIR          libtorch's lib folder on every GPU node [/opt/libtorch-2.7.1-cu128/lib],
#                             or "bundled" for a jar built with CUDA natives (mvn -Pgpu package)
#   LMC_GPU_CLUSTER           yarn | k8s | standalone [yarn] (each takes that wrapper's variables;
#                             standalone needs LMC_MASTER=spark://HOST:7077)
#   LMC_GPUS_PER_EXECUTOR     GPUs per executor [1]
#   LMC_GPUS_PER_TASK         GPUs per task [1]
#   LMC_GPU_DISCOVERY_SCRIPT  a discovery script already on every executor node
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

lmc_parse_args "$@"
cluster="${LMC_GPU_CLUSTER:-yarn}"
case "$cluster" in
  yarn) lmc_setup_yarn 8 ;;
  k8s)
    lmc_setup_k8s 8
    lmc_conf spark.executor.resource.gpu.vendor "nvidia.com" ;;
  standalone) lmc_setup_standalone 8 ;;
  *) lmc_die "LMC_GPU_CLUSTER=${LMC_GPU_CLUSTER}: expected yarn, k8s or standalone" ;;
esac
lmc_gpu_conf "$cluster"
lmc_submit
