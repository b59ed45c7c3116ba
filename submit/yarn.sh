#!/usr/bin/env bash
# Submits the lmc-merge job to YARN (cluster deploy mode: the driver runs in the application master).
#
#   submit/yarn.sh [--dry-run] [--s3] [--conf spark.key=value ...] JOB.conf [key=value ...]
#   e.g. submit/yarn.sh conf/pythia-410m-hdfs.conf output.run-id=nightly-1 output.mode=resume
#
# A local job file is shipped to the driver with --files; a hdfs:// or s3a:// one is read there.
# Variables: see submit/common.sh, plus
#   LMC_DEPLOY_MODE   cluster | client [cluster]
#   LMC_QUEUE         YARN queue [the default queue]
set -euo pipefail
# shellcheck source=submit/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

lmc_parse_args "$@"
lmc_setup_yarn 4
lmc_submit
