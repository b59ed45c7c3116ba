# shellcheck shell=bash
# Shared part of the spark-submit wrappers (local.sh, yarn.sh, k8s.sh, gpu.sh). Sourced, not run.
#
# Every wrapper takes the same command line:
#
#   submit/WRAPPER.sh [--dry-run] [--s3] [--conf spark.key=value ...] JOB.conf [key=value ...]
#
#   --dry-run            print the spark-submit command (one line, shell-quoted) instead of running
#                        it; LMC_DRY_RUN=1 does the same
#   --s3                 output on s3a://: commit Spark's Parquet tables with the S3A magic
#                        committer (docs/cluster.md, "S3")
#   --conf K=V           any further Spark setting; given after the wrapper's own, so it wins
#   JOB.conf             the job file: a local path (shipped to the driver with --files in cluster
#                        mode) or a URI the driver can read (hdfs://, s3a://)
#   key=value            job overrides, passed to `merge` unchanged (e.g. align.steps=50)
#
# Environment (defaults in brackets; per wrapper where noted):
#   LMC_JAR               the application jar [target/lmc-merge.jar of this checkout]
#   SPARK_SUBMIT          the spark-submit to run [$SPARK_HOME/bin/spark-submit, else spark-submit]
#   LMC_TASK_CPUS         cores of one task = libtorch threads = OMP_NUM_THREADS [local 1, cluster 4, gpu 8]
#   LMC_EXECUTOR_CORES    cores of one executor [LMC_TASK_CPUS: one task per executor]
#   LMC_EXECUTOR_MEMORY   executor heap [8g]
#   LMC_EXECUTOR_OVERHEAD executor memory outside the heap: libtorch, the off-heap weight cache [8g]
#   LMC_NUM_EXECUTORS     executors [4]
#   LMC_DRIVER_MEMORY     driver heap [8g]
#   LMC_ENGINE_CACHE_DIR  where DJL unpacks libtorch (~430 MB, once per node) [local
#                         ~/.cache/lmc-merge/djl, cluster /tmp/lmc-merge-djl]
#   LMC_DRY_RUN=1         as --dry-run
# Wrapper-specific variables are listed at the top of each wrapper.

set -euo pipefail

LMC_ROOT="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LMC_MAIN_CLASS="dev.lmcmerge.cli.Main"
# DJL must neither download libtorch nor guess the engine on executors without internet access.
LMC_DJL_JAVA_OPTS="-Dai.djl.offline=true -Dai.djl.default_engine=PyTorch"

lmc_die() {
  printf '%s: %s\n' "$(basename "$0")" "$*" >&2
  exit 2
}

lmc_usage() {
  cat >&2 <<EOF
usage: $(basename "$0") [--dry-run] [--s3] [--conf spark.key=value ...] JOB.conf [key=value ...]
Submits the lmc-merge job (dev.lmcmerge.cli.Main merge JOB.conf) with spark-submit.
See submit/common.sh for the environment variables and docs/user-guide.md for examples.
EOF
}

# Parses the wrapper's command line into LMC_DRY, LMC_S3, LMC_USER_CONF, LMC_JOB, LMC_OVERRIDES.
lmc_parse_args() {
  LMC_DRY="${LMC_DRY_RUN:-0}"
  LMC_S3=0
  LMC_USER_CONF=()
  LMC_JOB=""
  LMC_OVERRIDES=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --dry-run) LMC_DRY=1 ;;
      --s3) LMC_S3=1 ;;
      --conf)
        [ $# -ge 2 ] || lmc_die "--conf needs a value: --conf spark.key=value"
        [[ "$2" == *=* ]] || lmc_die "--conf $2: expected spark.key=value"
        LMC_USER_CONF+=("$2")
        shift ;;
      --conf=*) LMC_USER_CONF+=("${1#--conf=}") ;;
      -h|--help) lmc_usage; exit 0 ;;
      --) shift; break ;;
      -*) lmc_usage; lmc_die "unknown option $1" ;;
      *) break ;;
    esac
    shift
  done
  [ $# -ge 1 ] || { lmc_usage; lmc_die "missing the job file (e.g. conf/pythia-410m-hdfs.conf)"; }
  LMC_JOB="$1"
  shift
  local o
  for o in "$@"; do
    [[ "$o" == *=* ]] || lmc_die "override '$o': expected key=value (e.g. align.steps=50)"
    LMC_OVERRIDES+=("$o")
  done
  if [ "$LMC_DRY" != 1 ] && ! [[ "$LMC_JOB" == *://* ]] && [ ! -f "$LMC_JOB" ]; then
    lmc_die "job file not found: $LMC_JOB"
  fi
}

# --- the spark-submit command under construction ------------------------------------------------
LMC_ENV=()        # NAME=value exported to spark-submit itself (the local driver)
LMC_OPTS=()       # spark-submit options before the --conf list (--master, --files, ...)
LMC_CONF=()       # key=value Spark settings, in order
LMC_FILES=()      # files shipped to the driver's and executors' working directories
LMC_JOB_ARG=""    # the job file as the driver sees it
LMC_NEEDS_UPLOAD_PATH=0  # Kubernetes: local files reach the driver pod only through an upload path

lmc_conf() { LMC_CONF+=("$1=$2"); }
lmc_opt() { LMC_OPTS+=("$@"); }
lmc_file() { LMC_FILES+=("$1"); }

# glibc malloc settings for libtorch's CPU tensors (every JVM that computes): allocations of 1 MiB
# and more are mmap'd and go back to the system when freed, and at most 2 arenas. Without them,
# freed weight parts stay in glibc's arenas and resident memory ratchets up (docs/benchmarks.md,
# "Memory": 8.97 -> 5.81 GiB peak for the 160M merge job). Values already in the environment win.
LMC_MALLOC_ENV=("MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}" "MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-1048576}"
  "MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-1048576}")

# Each LMC_MALLOC_ENV setting under a Spark environment prefix.
#   $1 prefix (spark.executorEnv, spark.yarn.appMasterEnv, spark.kubernetes.driverEnv)
lmc_malloc_conf() {
  local kv
  for kv in "${LMC_MALLOC_ENV[@]}"; do
    lmc_conf "$1.${kv%%=*}" "${kv#*=}"
  done
}

# Settings every wrapper shares: DJL offline with libtorch threads = spark.task.cpus on the
# driver and on every executor.
#   $1 task cpus, $2 engine cache dir
lmc_common_conf() {
  local cpus="$1" cache="$2"
  lmc_conf spark.app.name "lmc-merge"
  lmc_conf spark.task.cpus "$cpus"
  lmc_conf spark.driver.memory "${LMC_DRIVER_MEMORY:-8g}"
  # Gradients and transform parameters travel to the driver by tree aggregation.
  lmc_conf spark.driver.maxResultSize "4g"
  # Merged-checkpoint tasks write their files under the final names: a speculative copy killed
  # as redundant could leave one truncated (docs/reliability.md, "Not covered").
  lmc_conf spark.speculation "false"
  # The weight cache is Arrow direct memory, capped by -XX:MaxDirectMemorySize (default: the heap
  # size): let it use the memory outside the heap (a local run's driver does the executors' work).
  local direct="-XX:MaxDirectMemorySize=${LMC_EXECUTOR_OVERHEAD:-8g}"
  lmc_conf spark.driver.extraJavaOptions "$LMC_DJL_JAVA_OPTS $direct"
  lmc_conf spark.executor.extraJavaOptions "$LMC_DJL_JAVA_OPTS $direct"
  lmc_conf spark.executorEnv.DJL_OFFLINE "true"
  lmc_conf spark.executorEnv.ENGINE_CACHE_DIR "$cache"
  lmc_conf spark.executorEnv.OMP_NUM_THREADS "$cpus"
  lmc_malloc_conf spark.executorEnv
}

# Executors of a cluster: a fixed set (the executor weight caches live as long as the executors),
# one task per executor by default (DJL records one gradient at a time per JVM).
#   $1 task cpus
lmc_executor_conf() {
  local cpus="$1" n="${LMC_NUM_EXECUTORS:-4}" cores="${LMC_EXECUTOR_CORES:-$1}"
  [[ "$n" =~ ^[1-9][0-9]*$ && "$cores" =~ ^[1-9][0-9]*$ && "$cpus" =~ ^[1-9][0-9]*$ ]] \
    || lmc_die "LMC_NUM_EXECUTORS, LMC_EXECUTOR_CORES and LMC_TASK_CPUS must be positive integers"
  [ "$cores" -ge "$cpus" ] || lmc_die "LMC_EXECUTOR_CORES=$cores is less than LMC_TASK_CPUS=$cpus"
  lmc_conf spark.executor.instances "$n"
  lmc_conf spark.executor.cores "$cores"
  # The job splits each step's batch (and each evaluation) into spark.default.parallelism
  # partitions at most: one per task slot, so that every slot works and none waits for a second wave.
  lmc_conf spark.default.parallelism "$(( n * (cores / cpus) ))"
  lmc_conf spark.executor.memory "${LMC_EXECUTOR_MEMORY:-8g}"
  lmc_conf spark.executor.memoryOverhead "${LMC_EXECUTOR_OVERHEAD:-8g}"
  lmc_conf spark.dynamicAllocation.enabled "false"
}

# The driver's environment where it runs inside the cluster.
#   $1 setting prefix (spark.yarn.appMasterEnv or spark.kubernetes.driverEnv), $2 task cpus, $3 cache dir
lmc_driver_env_conf() {
  lmc_conf "$1.DJL_OFFLINE" "true"
  lmc_conf "$1.ENGINE_CACHE_DIR" "$3"
  lmc_conf "$1.OMP_NUM_THREADS" "$2"
  lmc_malloc_conf "$1"
}

# GPU executors through Spark's resource scheduling: each executor asks for LMC_GPUS_PER_EXECUTOR
# GPUs and each task for LMC_GPUS_PER_TASK of them. Spark RAPIDS is not involved: the tensor math
# runs in libtorch (DJL), in its CUDA build (below). An executor learns its GPU addresses
# from a discovery script that must exist when the executor starts, so before any --files reach it
# on Kubernetes; hence per cluster manager:
#   yarn        submit/getGpusResources.sh shipped with --files (YARN localizes it before the start)
#   k8s         the script of the official Spark images (copy submit/getGpusResources.sh into yours)
#   standalone  none: the workers own the GPUs (spark.worker.resource.gpu.* on each worker)
# LMC_GPU_DISCOVERY_SCRIPT names a script already on every executor node instead.
# libtorch for CUDA is not on Maven Central for libtorch 2.7.1, so the GPU executors load it from the
# node: LMC_LIBTORCH_DIR is its lib folder (libtorch 2.7.1 for CUDA 12.8, from the libtorch archive
# or a torch==2.7.1+cu128 wheel's torch/lib); the matching JNI library (cu128) is in the app jar.
#   $1 cluster manager (yarn, k8s or standalone)
# LMC_LIBTORCH_DIR=bundled is for an app jar built with CUDA natives inside (mvn -Pgpu package).
lmc_gpu_conf() {
  if [ "${LMC_LIBTORCH_DIR:-}" != bundled ]; then
    lmc_conf spark.executorEnv.PYTORCH_LIBRARY_PATH "${LMC_LIBTORCH_DIR:-/opt/libtorch-2.7.1-cu128/lib}"
    lmc_conf spark.executorEnv.PYTORCH_VERSION "2.7.1"
    lmc_conf spark.executorEnv.PYTORCH_FLAVOR "cu128"
  fi
  lmc_conf spark.executor.resource.gpu.amount "${LMC_GPUS_PER_EXECUTOR:-1}"
  lmc_conf spark.task.resource.gpu.amount "${LMC_GPUS_PER_TASK:-1}"
  local script="${LMC_GPU_DISCOVERY_SCRIPT:-}"
  if [ -z "$script" ]; then
    case "$1" in
      yarn)
        lmc_file "$LMC_ROOT/submit/getGpusResources.sh"
        script="./getGpusResources.sh" ;;
      k8s) script="/opt/spark/examples/src/main/scripts/getGpusResources.sh" ;;
    esac
  fi
  [ -z "$script" ] || lmc_conf spark.executor.resource.gpu.discoveryScript "$script"
}

# S3 output: Spark's Parquet tables go through the S3A magic committer (uploads become visible at
# job commit, no rename copies) via spark-hadoop-cloud's commit protocol (in the app jar).
# Credentials are not set here: S3A's standard provider chain (environment, instance or pod
# role) applies unless the job's lmc.s3 section names keys.
lmc_s3_conf() {
  lmc_conf spark.hadoop.fs.s3a.committer.name "magic"
  lmc_conf spark.hadoop.fs.s3a.committer.magic.enabled "true"
  lmc_conf spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory"
  lmc_conf spark.sql.sources.commitProtocolClass "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol"
  lmc_conf spark.sql.parquet.output.committer.class "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter"
}

# The job file argument. In cluster deploy mode the driver runs on a cluster node, so a local job
# file is shipped with --files (it lands in the driver's working directory) and named by its base
# name; a URI is passed as it is.
#   $1 deploy mode (client or cluster)
lmc_job_arg() {
  if [ "$1" = cluster ] && ! [[ "$LMC_JOB" == *://* ]]; then
    lmc_file "$(cd "$(dirname "$LMC_JOB")" && pwd)/$(basename "$LMC_JOB")"
    LMC_JOB_ARG="$(basename "$LMC_JOB")"
  else
    LMC_JOB_ARG="$LMC_JOB"
  fi
}

# --- one function per cluster manager: master, deploy mode, resources, driver environment --------
# Each takes the default of LMC_TASK_CPUS for its kind of executors.

# In-process Spark (local[N]): driver and executor are this JVM, so the environment DJL and
# libtorch read is spark-submit's own.
lmc_setup_local() {
  local cpus="${LMC_TASK_CPUS:-$1}" cache="${LMC_ENGINE_CACHE_DIR:-$HOME/.cache/lmc-merge/djl}"
  lmc_opt --master "local[${LMC_LOCAL_CORES:-*}]"
  LMC_ENV+=(DJL_OFFLINE=true "ENGINE_CACHE_DIR=$cache" "OMP_NUM_THREADS=$cpus" "SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1}"
    "${LMC_MALLOC_ENV[@]}")
  lmc_common_conf "$cpus" "$cache"
  lmc_job_arg client
}

# The driver's environment: inside the cluster through the given setting prefix (cluster deploy
# mode), or spark-submit's own (client mode, the driver is this process).
#   $1 deploy mode, $2 setting prefix, $3 task cpus, $4 cache dir
lmc_driver_env() {
  if [ "$1" = cluster ]; then
    lmc_driver_env_conf "$2" "$3" "$4"
  else
    LMC_ENV+=(DJL_OFFLINE=true "ENGINE_CACHE_DIR=$4" "OMP_NUM_THREADS=$3" "${LMC_MALLOC_ENV[@]}")
  fi
}

# YARN. LMC_DEPLOY_MODE [cluster], LMC_QUEUE [the default queue].
lmc_setup_yarn() {
  local cpus="${LMC_TASK_CPUS:-$1}" cache="${LMC_ENGINE_CACHE_DIR:-/tmp/lmc-merge-djl}"
  local mode="${LMC_DEPLOY_MODE:-cluster}"
  lmc_opt --master yarn --deploy-mode "$mode"
  [ -z "${LMC_QUEUE:-}" ] || lmc_opt --queue "$LMC_QUEUE"
  lmc_common_conf "$cpus" "$cache"
  lmc_executor_conf "$cpus"
  lmc_driver_env "$mode" spark.yarn.appMasterEnv "$cpus" "$cache"
  # One attempt per submission: a configuration error (exit 2) would fail again, and retries
  # belong to the scheduler, which resubmits with output.mode=resume (docs/user-guide.md).
  lmc_conf spark.yarn.maxAppAttempts "1"
  lmc_job_arg "$mode"
}

# Kubernetes (cluster deploy mode). LMC_K8S_MASTER (k8s://https://HOST:PORT) and LMC_K8S_IMAGE (a
# Spark 4.1 image for Java 17) are required; LMC_K8S_NAMESPACE [default],
# LMC_K8S_SERVICE_ACCOUNT [spark], LMC_K8S_UPLOAD_PATH (a Hadoop URI such as s3a://bucket/spark-upload,
# where spark-submit puts the local jar and job file for the driver pod; not needed when LMC_JAR is
# local:///... inside the image and the job file is a URI).
lmc_setup_k8s() {
  local cpus="${LMC_TASK_CPUS:-$1}" cache="${LMC_ENGINE_CACHE_DIR:-/tmp/lmc-merge-djl}"
  [ -n "${LMC_K8S_MASTER:-}" ] || lmc_die "set LMC_K8S_MASTER to the API server, e.g. k8s://https://k8s.example.com:443"
  [ -n "${LMC_K8S_IMAGE:-}" ] || lmc_die "set LMC_K8S_IMAGE to a Spark 4.1 (Java 17) container image"
  lmc_opt --master "$LMC_K8S_MASTER" --deploy-mode cluster
  lmc_conf spark.kubernetes.container.image "$LMC_K8S_IMAGE"
  lmc_conf spark.kubernetes.namespace "${LMC_K8S_NAMESPACE:-default}"
  lmc_conf spark.kubernetes.authenticate.driver.serviceAccountName "${LMC_K8S_SERVICE_ACCOUNT:-spark}"
  [ -z "${LMC_K8S_UPLOAD_PATH:-}" ] || lmc_conf spark.kubernetes.file.upload.path "$LMC_K8S_UPLOAD_PATH"
  lmc_common_conf "$cpus" "$cache"
  lmc_executor_conf "$cpus"
  lmc_driver_env cluster spark.kubernetes.driverEnv "$cpus" "$cache"
  lmc_job_arg cluster
  LMC_NEEDS_UPLOAD_PATH=1
}

# Spark standalone (client deploy mode: the driver is this process). LMC_MASTER (spark://HOST:7077) is required.
lmc_setup_standalone() {
  local cpus="${LMC_TASK_CPUS:-$1}" cache="${LMC_ENGINE_CACHE_DIR:-/tmp/lmc-merge-djl}"
  [ -n "${LMC_MASTER:-}" ] || lmc_die "set LMC_MASTER to the standalone master, e.g. spark://master.example.com:7077"
  lmc_opt --master "$LMC_MASTER" --deploy-mode client
  lmc_common_conf "$cpus" "$cache"
  lmc_executor_conf "$cpus"
  lmc_driver_env client "" "$cpus" "$cache"
  lmc_job_arg client
}

lmc_spark_submit() {
  if [ -n "${SPARK_SUBMIT:-}" ]; then
    printf '%s' "$SPARK_SUBMIT"
  elif [ -n "${SPARK_HOME:-}" ]; then
    printf '%s' "$SPARK_HOME/bin/spark-submit"
  else
    printf '%s' "spark-submit"
  fi
}

# Quotes one word for a POSIX shell (and Python's shlex): bare when safe, else in single quotes.
lmc_quote() {
  if [[ "$1" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# Assembles the command and runs it, or prints it (dry run). Call last.
lmc_submit() {
  local jar="${LMC_JAR:-$LMC_ROOT/target/lmc-merge.jar}"
  local cmd=() c f files=""
  cmd+=("$(lmc_spark_submit)" "${LMC_OPTS[@]}" --class "$LMC_MAIN_CLASS")
  for f in "${LMC_FILES[@]}"; do
    files="${files:+$files,}$f"
  done
  [ -z "$files" ] || cmd+=(--files "$files")
  if [ "$LMC_NEEDS_UPLOAD_PATH" = 1 ] && { [ -n "$files" ] || ! [[ "$jar" == *://* ]]; } \
      && ! printf '%s\n' "${LMC_CONF[@]}" "${LMC_USER_CONF[@]}" | grep -q '^spark.kubernetes.file.upload.path='; then
    lmc_die "local files must reach the driver pod ($jar${files:+, $files}): set LMC_K8S_UPLOAD_PATH" \
      "(e.g. s3a://bucket/spark-upload), or use LMC_JAR=local:///path/in/image.jar and a job file URI"
  fi
  if [ "$LMC_S3" = 1 ]; then
    lmc_s3_conf
  fi
  for c in "${LMC_CONF[@]}" "${LMC_USER_CONF[@]}"; do
    cmd+=(--conf "$c")
  done
  cmd+=("$jar" merge "$LMC_JOB_ARG" "${LMC_OVERRIDES[@]}")

  if [ "$LMC_DRY" = 1 ]; then
    local out="" w
    for w in "${LMC_ENV[@]}" "${cmd[@]}"; do
      out="${out:+$out }$(lmc_quote "$w")"
    done
    printf '%s\n' "$out"
    return 0
  fi
  if ! [[ "$jar" == *://* ]] && [ ! -f "$jar" ]; then
    lmc_die "application jar not found: $jar (build it with: mvn -B -DskipTests package, or set LMC_JAR)"
  fi
  local e
  for e in "${LMC_ENV[@]}"; do
    export "${e?}"
  done
  exec "${cmd[@]}"
}
