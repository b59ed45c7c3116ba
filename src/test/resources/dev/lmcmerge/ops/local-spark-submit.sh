#!/usr/bin/env bash
# Test stand-in for spark-submit in local mode (no Spark distribution is installed where the tests
# run). Like spark-submit's client mode it starts the driver JVM with spark.driver.memory as its
# heap, spark.driver.extraJavaOptions as JVM options and every --conf as a spark.* system property
# (which SparkConf reads), then runs --class with the application arguments. The application jar is
# replaced by the test classpath in LMC_TEST_CLASSPATH; LMC_TEST_JVM_OPTS holds the JVM's
# --add-opens flags (spark-submit adds the same ones itself).
set -euo pipefail
props=()
jvm=()
main=""
while [ $# -gt 0 ]; do
  case "$1" in
    --master) props+=("-Dspark.master=$2"); shift 2 ;;
    --class) main="$2"; shift 2 ;;
    --deploy-mode|--files|--queue|--name) shift 2 ;;
    --conf)
      key="${2%%=*}"
      value="${2#*=}"
      case "$key" in
        spark.driver.memory) jvm+=("-Xmx$value") ;;
        spark.driver.extraJavaOptions) read -ra words <<< "$value"; jvm+=("${words[@]}") ;;
      esac
      props+=("-D$key=$value")
      shift 2 ;;
    -*) echo "local-spark-submit.sh: unsupported option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ -n "$main" ] || { echo "local-spark-submit.sh: no --class" >&2; exit 2; }
shift # the application jar
# shellcheck disable=SC2086 # LMC_TEST_JVM_OPTS is a list of options
exec java "${jvm[@]}" $LMC_TEST_JVM_OPTS "${props[@]}" -cp "$LMC_TEST_CLASSPATH" "$main" "$@"
