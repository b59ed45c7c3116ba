#!/usr/bin/env bash
# Runs the lmc-merge job with spark-submit in local mode (Spark in one JVM on this machine).
#
#   submit/local.sh [--dry-run] [--s3] [--conf spark.key=value ...] JOB.conf [key=value ...]
#   e.g. submit/local.sh conf/demo.conf align.steps=20
#
# Needs a Spark 4.1 distribution (SPARK_HOME or spark-submit on the PATH); without one, bin/lmc
# runs the same job with the Maven-resolved classpath. Variables: see submit/common.sh, plus
#   LMC_LOCAL_CORES   worker threads of local[N] [*: all cores]
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

lmc_parse_args "$@"
lmc_setup_local 1
lmc_submit
