#!/usr/bin/env bash
# Submits the lmc-merge job to Kubernetes (cluster deploy mode: the driver runs in a pod).
#
#   submit/k8s.sh [--dry-run] [--s3] [--conf spark.key=value ...] JOB.conf [key=value ...]
#   e.g. LMC_K8S_MASTER=k8s://https://k8s.example.com:443 LMC_K8S_IMAGE=registry.example.com/spark:4.1.3-java17 \
#        LMC_K8S_UPLOAD_PATH=s3a://my-bucket/spark-upload submit/k8s.sh --s3 conf/llama-1b-s3-gpu.conf
#
# Variables: see submit/common.sh, plus LMC_K8S_MASTER and LMC_K8S_IMAGE (required),
# LMC_K8S_NAMESPACE [default], LMC_K8S_SERVICE_ACCOUNT [spark], LMC_K8S_UPLOAD_PATH (needed when the
# jar or the job file is local: spark-submit uploads them there for the driver pod).
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

lmc_parse_args "$@"
lmc_setup_k8s 4
lmc_submit
