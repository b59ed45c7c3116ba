package dev.lmcmerge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.JobConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The example Airflow DAG, checked by its Python test (submit/tests/test_airflow_dag.py: valid
 * Python, the SparkSubmitOperator's class, jar, conf and arguments equal to what submit/yarn.sh
 * submits, one output folder per Airflow run id) run here with python3 so that {@code mvn verify}
 * runs it; and the DAG's run-id mapping checked against the job's own configuration loader.
 */
class AirflowDagTest {

    @Test
    void theDagsPythonTestsPass() throws Exception {
        Commands.Result r = Commands.run(Map.of(), Duration.ofMinutes(2),
                List.of("python3", "-m", "unittest", "discover", "-s", "submit/tests", "-p", "test_airflow_dag.py", "-v"));

        assertEquals(0, r.exitCode(), r.describe());
        // unittest reports on stderr: "Ran N tests" then "OK".
        Matcher ran = Pattern.compile("Ran (\\d+) tests?").matcher(r.stderr());
        assertTrue(ran.find(), r.describe());
        assertTrue(Integer.parseInt(ran.group(1)) >= 10, "too few DAG tests ran: " + r.describe());
        assertTrue(r.stderr().strip().endsWith("OK"), r.describe());
    }

    @Test
    void everyAirflowRunIdBecomesAnOutputRunIdTheJobAccepts() throws Exception {
        List<String> airflowIds = List.of(
                "scheduled__2026-03-01T00:00:00+00:00",
                "manual__2026-03-01T12:30:45.123456+00:00",
                "backfill__2026-01-01T00:00:00+00:00",
                "asset_triggered__2026-01-01T00:00:00+00:00",
                "_leading underscore",
                ".hidden..dots",
                "-dash");
        List<String> cmd = new ArrayList<>(List.of("python3", "submit/tests/test_airflow_dag.py", "--print-run-folders"));
        cmd.addAll(airflowIds);
        Commands.Result r = Commands.run(Map.of(), Duration.ofMinutes(1), cmd);
        assertEquals(0, r.exitCode(), r.describe());
        List<String> folders = r.stdout().lines().toList();
        assertEquals(airflowIds.size(), folders.size(), r.describe());

        for (int i = 0; i < folders.size(); i++) {
            String folder = folders.get(i);
            JobConfig c = JobConfig.load(Optional.empty(), List.of("output.run-id=" + folder, "output.mode=resume"));
            assertEquals(Optional.of(folder), c.output().runId(), airflowIds.get(i));
            assertTrue(Character.isLetterOrDigit(folder.charAt(0)),
                    "run folders starting with '_' or '.' are reserved: " + folder);
        }
    }
}
