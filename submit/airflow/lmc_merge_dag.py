"""Example Airflow DAG: the lmc-merge job on YARN through SparkSubmitOperator.

Needs apache-airflow-providers-apache-spark and a Spark connection (``spark_default`` here) whose
host is ``yarn`` on a worker that has spark-submit and the cluster's Hadoop configuration. It
submits exactly what ``submit/yarn.sh JOB.conf output.run-id=... output.mode=resume`` submits
(a test, submit/tests/test_airflow_dag.py, checks that the two agree).

Airflow Variables (Admin > Variables), read when the task runs, not when the DAG is parsed:
  lmc_merge_jar   the application jar on the Airflow worker [/opt/lmc-merge/target/lmc-merge.jar]
  lmc_merge_job   the job file, a URI the driver can read [hdfs:///jobs/lmc-merge/pythia-410m-hdfs.conf]

Idempotent per DAG run: the run's output folder is named after Airflow's run id
(``output.run-id``) and written with ``output.mode=resume``. A retry or a cleared task of the same
DAG run therefore continues the same run (from its last saved transform parameters) and a run that
already completed is reported complete without recomputing anything; a new DAG run writes a new
folder. A failed job exits non-zero, spark-submit with it, and SparkSubmitOperator fails the task.
See docs/user-guide.md, "Airflow".
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

MAIN_CLASS = "dev.lmcmerge.cli.Main"

APPLICATION = "{{ var.value.get('lmc_merge_jar', '/opt/lmc-merge/target/lmc-merge.jar') }}"
JOB_FILE = "{{ var.value.get('lmc_merge_job', 'hdfs:///jobs/lmc-merge/pythia-410m-hdfs.conf') }}"

# True when the job's output.path is on s3a://: adds the S3 committer settings (submit/yarn.sh --s3).
OUTPUT_ON_S3 = False

# The Spark settings of submit/yarn.sh with its defaults (keep them equal: the test compares).
DJL_JAVA_OPTS = "-Dai.djl.offline=true -Dai.djl.default_engine=PyTorch"
TASK_CPUS = "4"
ENGINE_CACHE_DIR = "/tmp/lmc-merge-djl"
SPARK_CONF = {
    "spark.app.name": "lmc-merge",
    "spark.task.cpus": TASK_CPUS,
    "spark.driver.memory": "8g",
    "spark.driver.maxResultSize": "4g",
    "spark.speculation": "false",
    # The weight cache is Arrow direct memory, capped by -XX:MaxDirectMemorySize (default: the heap).
    "spark.driver.extraJavaOptions": DJL_JAVA_OPTS + " -XX:MaxDirectMemorySize=8g",
    "spark.executor.extraJavaOptions": DJL_JAVA_OPTS + " -XX:MaxDirectMemorySize=8g",
    "spark.executorEnv.DJL_OFFLINE": "true",
    "spark.executorEnv.ENGINE_CACHE_DIR": ENGINE_CACHE_DIR,
    "spark.executorEnv.OMP_NUM_THREADS": TASK_CPUS,
    # glibc malloc: freed libtorch tensors go back to the system (submit/common.sh, LMC_MALLOC_ENV).
    "spark.executorEnv.MALLOC_ARENA_MAX": "2",
    "spark.executorEnv.MALLOC_MMAP_THRESHOLD_": "1048576",
    "spark.executorEnv.MALLOC_TRIM_THRESHOLD_": "1048576",
    "spark.executor.instances": "4",
    "spark.executor.cores": TASK_CPUS,
    "spark.default.parallelism": "4",
    "spark.executor.memory": "8g",
    "spark.executor.memoryOverhead": "8g",
    "spark.dynamicAllocation.enabled": "false",
    "spark.yarn.appMasterEnv.DJL_OFFLINE": "true",
    "spark.yarn.appMasterEnv.ENGINE_CACHE_DIR": ENGINE_CACHE_DIR,
    "spark.yarn.appMasterEnv.OMP_NUM_THREADS": TASK_CPUS,
    "spark.yarn.appMasterEnv.MALLOC_ARENA_MAX": "2",
    "spark.yarn.appMasterEnv.MALLOC_MMAP_THRESHOLD_": "1048576",
    "spark.yarn.appMasterEnv.MALLOC_TRIM_THRESHOLD_": "1048576",
    "spark.yarn.maxAppAttempts": "1",
}

# submit/yarn.sh --s3: Spark's Parquet tables through the S3A magic committer.
S3_CONF = {
    "spark.hadoop.fs.s3a.committer.name": "magic",
    "spark.hadoop.fs.s3a.committer.magic.enabled": "true",
    "spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a": "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory",
    "spark.sql.sources.commitProtocolClass": "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
    "spark.sql.parquet.output.committer.class": "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter",
}


def run_folder(run_id: str) -> str:
    """An Airflow run id as an lmc-merge run id (a folder name under output.path).

    Airflow's ids such as ``scheduled__2026-03-01T00:00:00+00:00`` hold ':' and '+', which
    output.run-id refuses; every character outside letters, digits, '.', '_' and '-' becomes '_',
    '..' becomes '_', and an id not starting with a letter or digit gets the prefix "run-" (names
    starting with '_' or '.' are reserved for staging). Distinct Airflow run ids of one DAG stay
    distinct in practice: they differ in their timestamps, which keep their digits.
    """
    folder = re.sub(r"[^A-Za-z0-9._-]", "_", run_id)
    while ".." in folder:
        folder = folder.replace("..", "_")
    if not folder[:1].isalnum():
        folder = "run-" + folder
    return folder


with DAG(
    dag_id="lmc_merge",
    description="Align and merge two transformer checkpoints (lmc-merge) and measure their barriers",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    # One merge at a time: runs are large cluster jobs.
    max_active_runs=1,
    user_defined_filters={"run_folder": run_folder},
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["lmc-merge", "spark"],
) as dag:
    merge = SparkSubmitOperator(
        task_id="merge",
        conn_id="spark_default",
        deploy_mode="cluster",
        name="lmc-merge",
        application=APPLICATION,
        java_class=MAIN_CLASS,
        conf={**SPARK_CONF, **(S3_CONF if OUTPUT_ON_S3 else {})},
        application_args=[
            "merge",
            JOB_FILE,
            "output.run-id={{ run_id | run_folder }}",
            "output.mode=resume",
        ],
    )
