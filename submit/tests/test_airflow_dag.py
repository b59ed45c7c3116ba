"""The example Airflow DAG (submit/airflow/lmc_merge_dag.py) is valid Python and submits exactly
what submit/yarn.sh submits.

Airflow is not installed where the tests run, so the DAG is checked in two ways: its syntax tree
(ast) for the operator and its arguments, and by running the file against minimal stand-ins for
the three Airflow names it imports, which record what the DAG passes to them. The recorded
arguments, with their templates rendered for a sample run, are compared with the spark-submit
command that `LMC_DRY_RUN=1 submit/yarn.sh` prints.

Run: python3 -m unittest discover -s submit/tests -v   (mvn verify runs it through JUnit)
     python3 submit/tests/test_airflow_dag.py --print-run-folders ID...   (the DAG's run id mapping)
"""
from __future__ import annotations

import ast
import os
import py_compile
import re
import shlex
import subprocess
import sys
import tempfile
import types
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAG_FILE = ROOT / "submit" / "airflow" / "lmc_merge_dag.py"
YARN_SH = ROOT / "submit" / "yarn.sh"
OPERATOR_MODULE = "airflow.providers.apache.spark.operators.spark_submit"

# lmc.output.run-id as dev.lmcmerge.config.OutputConfig accepts it, minus the names reserved by
# the run committer (a leading '_' or '.').
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

SAMPLE_RUN_ID = "scheduled__2026-03-01T00:00:00+00:00"


def load_dag():
    """Executes the DAG file with stand-ins for Airflow; returns (module namespace, dag kwargs, operator kwargs)."""
    recorded = {"dag": None, "operators": []}

    class DAG:
        def __init__(self, **kwargs):
            recorded["dag"] = kwargs

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class SparkSubmitOperator:
        def __init__(self, **kwargs):
            recorded["operators"].append(kwargs)

    airflow = types.ModuleType("airflow")
    airflow.DAG = DAG
    sdk = types.ModuleType("airflow.sdk")
    sdk.DAG = DAG
    operator_module = types.ModuleType(OPERATOR_MODULE)
    operator_module.SparkSubmitOperator = SparkSubmitOperator
    stubs = {"airflow": airflow, "airflow.sdk": sdk, OPERATOR_MODULE: operator_module}
    for name in ("airflow.providers", "airflow.providers.apache", "airflow.providers.apache.spark",
                 "airflow.providers.apache.spark.operators"):
        stubs[name] = types.ModuleType(name)
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        namespace = {"__name__": "lmc_merge_dag", "__file__": str(DAG_FILE)}
        exec(compile(DAG_FILE.read_text(), str(DAG_FILE), "exec"), namespace)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    if len(recorded["operators"]) != 1:
        raise AssertionError(f"expected one SparkSubmitOperator, found {len(recorded['operators'])}")
    return namespace, recorded["dag"], recorded["operators"][0]


def render(template, run_id, filters):
    """Renders the two template forms the DAG uses: {{ var.value.get('NAME', 'DEFAULT') }} (the
    default, as on a fresh Airflow) and {{ run_id | FILTER }}. Any other template is an error, so
    the DAG cannot drift into forms this test does not understand."""
    def one(match):
        expr = match.group(1).strip()
        m = re.fullmatch(r"var\.value\.get\(\s*'([^']+)'\s*,\s*'([^']*)'\s*\)", expr)
        if m:
            return m.group(2)
        m = re.fullmatch(r"run_id\s*\|\s*(\w+)", expr)
        if m:
            return filters[m.group(1)](run_id)
        if expr == "run_id":
            return run_id
        raise AssertionError(f"template form not understood by this test: {{{{ {expr} }}}}")
    return re.sub(r"\{\{(.*?)\}\}", one, template)


def yarn_dry_run(jar, args, *options):
    env = dict(os.environ, LMC_DRY_RUN="1", LMC_JAR=jar)
    for k in list(env):
        # The DAG mirrors yarn.sh's defaults: no LMC_* tuning from the caller's environment.
        if k.startswith("LMC_") and k not in ("LMC_DRY_RUN", "LMC_JAR"):
            del env[k]
    out = subprocess.run(["bash", str(YARN_SH), *options, *args], env=env, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise AssertionError(f"yarn.sh failed ({out.returncode}): {out.stderr}")
    return parse_submit(shlex.split(out.stdout))


def parse_submit(words):
    """spark-submit words -> dict with master, deploy_mode, java_class, conf, files, jar, args."""
    i = 0
    while "=" in words[i] and not words[i].startswith("-"):
        i += 1  # leading NAME=value environment assignments
    result = {"binary": words[i], "conf": {}, "files": None}
    i += 1
    flags = {"--master": "master", "--deploy-mode": "deploy_mode", "--class": "java_class",
             "--files": "files", "--queue": "queue", "--name": "name"}
    while words[i].startswith("--"):
        flag, value = words[i], words[i + 1]
        if flag == "--conf":
            key, _, v = value.partition("=")
            result["conf"][key] = v  # later settings win, as in spark-submit
        elif flag in flags:
            result[flags[flag]] = value
        else:
            raise AssertionError(f"unexpected spark-submit option {flag}")
        i += 2
    result["jar"] = words[i]
    result["args"] = words[i + 1:]
    return result


class DagIsValidPython(unittest.TestCase):
    def test_the_dag_file_compiles(self):
        with tempfile.TemporaryDirectory() as tmp:
            py_compile.compile(str(DAG_FILE), cfile=os.path.join(tmp, "dag.pyc"), doraise=True)

    def test_the_dag_uses_spark_submit_operator_from_the_spark_provider(self):
        tree = ast.parse(DAG_FILE.read_text(), filename=str(DAG_FILE))
        imported = {(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    for alias in node.names}
        self.assertIn((OPERATOR_MODULE, "SparkSubmitOperator"), imported)
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and getattr(node.func, "id", None) == "SparkSubmitOperator"]
        self.assertEqual(1, len(calls))
        keywords = {k.arg for k in calls[0].keywords}
        for required in ("task_id", "application", "java_class", "conf", "application_args"):
            self.assertIn(required, keywords)


class DagMatchesYarnScript(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns, cls.dag, cls.op = load_dag()
        filters = cls.dag["user_defined_filters"]
        cls.jar = render(cls.op["application"], SAMPLE_RUN_ID, filters)
        cls.args = [render(a, SAMPLE_RUN_ID, filters) for a in cls.op["application_args"]]
        cls.submit = yarn_dry_run(cls.jar, cls.args[1:])

    def test_main_class_jar_and_arguments_are_those_of_yarn_sh(self):
        self.assertEqual("dev.lmcmerge.cli.Main", self.op["java_class"])
        self.assertEqual(self.submit["java_class"], self.op["java_class"])
        self.assertEqual(self.submit["jar"], self.jar)
        self.assertEqual(["merge"] + self.args[1:], self.submit["args"])
        self.assertEqual(self.args, self.submit["args"])

    def test_spark_settings_are_those_of_yarn_sh(self):
        self.assertEqual(self.submit["conf"], self.op["conf"])

    def test_s3_settings_are_those_of_yarn_sh_with_s3(self):
        with_s3 = yarn_dry_run(self.jar, self.args[1:], "--s3")
        self.assertEqual(with_s3["conf"], {**self.ns["SPARK_CONF"], **self.ns["S3_CONF"]})
        self.assertTrue(self.ns["S3_CONF"], "S3_CONF is empty")

    def test_deploy_mode_and_name_are_those_of_yarn_sh(self):
        self.assertEqual(self.submit["master"], "yarn")
        self.assertEqual(self.submit["deploy_mode"], self.op["deploy_mode"])
        self.assertEqual(self.submit["conf"]["spark.app.name"], self.op["name"])

    def test_the_job_file_is_a_uri_so_yarn_sh_ships_nothing(self):
        self.assertRegex(self.args[1], r"^[a-z0-9]+://")
        self.assertIsNone(self.submit["files"])


class EachRunIsIdempotent(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns, cls.dag, cls.op = load_dag()
        cls.run_folder = staticmethod(cls.dag["user_defined_filters"]["run_folder"])

    def test_the_output_run_id_comes_from_the_airflow_run_id_and_resume_mode(self):
        args = self.op["application_args"]
        self.assertIn("output.run-id={{ run_id | run_folder }}", args)
        self.assertIn("output.mode=resume", args)
        self.assertEqual("merge", args[0])

    def test_airflow_run_ids_become_valid_lmc_run_ids(self):
        for run_id in (SAMPLE_RUN_ID, "manual__2026-03-01T12:30:45.123456+00:00",
                       "backfill__2026-01-01T00:00:00+00:00", "dataset_triggered__2026-01-01T00:00:00+00:00",
                       "_odd..id with spaces", ".hidden", "-dash", "ok-id_1.2"):
            folder = self.run_folder(run_id)
            self.assertRegex(folder, RUN_ID, run_id)
            self.assertNotIn("..", folder, run_id)

    def test_the_same_run_id_always_names_the_same_folder_and_other_runs_other_folders(self):
        a = self.run_folder("scheduled__2026-03-01T00:00:00+00:00")
        self.assertEqual(a, self.run_folder("scheduled__2026-03-01T00:00:00+00:00"))
        self.assertNotEqual(a, self.run_folder("scheduled__2026-03-02T00:00:00+00:00"))
        self.assertNotEqual(a, self.run_folder("manual__2026-03-01T00:00:00+00:00"))
        self.assertEqual("ok-id_1.2", self.run_folder("ok-id_1.2"))

    def test_one_run_at_a_time_and_the_task_retries(self):
        self.assertEqual(1, self.dag["max_active_runs"])
        self.assertGreaterEqual(self.dag["default_args"]["retries"], 1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--print-run-folders":
        _, dag, _ = load_dag()
        for run_id in sys.argv[2:]:
            print(dag["user_defined_filters"]["run_folder"](run_id))
        return
    unittest.main()


if __name__ == "__main__":
    main()
