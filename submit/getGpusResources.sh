#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript): prints the GPUs of this
# node as Spark's ResourceInformation JSON, e.g. {"name":"gpu","addresses":["0","1"]}.
#
# The addresses are the indices nvidia-smi reports; when CUDA_VISIBLE_DEVICES restricts the
# container to some GPUs, nvidia-smi lists only those. NVIDIA_SMI overrides the command (tests).
set -euo pipefail

smi="${NVIDIA_SMI:-nvidia-smi}"
if ! indices="$("$smi" --query-gpu=index --format=csv,noheader 2>&1)"; then
  printf 'getGpusResources.sh: %s failed: %s\n' "$smi" "$indices" >&2
  exit 1
fi

addresses=""
while IFS= read -r line; do
  line="${line//[[:space:]]/}"
  [ -n "$line" ] || continue
  if ! [[ "$line" =~ ^[0-9]+$ ]]; then
    printf 'getGpusResources.sh: unexpected line from %s: %s\n' "$smi" "$line" >&2
    exit 1
  fi
  addresses="${addresses:+$addresses,}\"$line\""
done <<< "$indices"

printf '{"name":"gpu","addresses":[%s]}\n' "$addresses"
