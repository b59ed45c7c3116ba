package dev.lmcmerge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.BuildInfo;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

class MainTest {
    /** A command that only this test registers: throws what it is told to. */
    @Command(name = "fail", mixinStandardHelpOptions = true)
    static final class FailCommand implements Callable<Integer> {
        @Parameters(index = "0")
        String kind;

        @Override
        public Integer call() {
            switch (kind) {
                case "invalid" -> throw LmcException.invalidInput("/m/model.safetensors", "header is not JSON");
                case "incompatible" -> throw LmcException.incompatible("hidden_size differs: 64 vs 128");
                case "wrapped" -> throw new RuntimeException("task failed",
                        LmcException.invalidInput("/d/x.npy", "not an int array"));
                case "bug" -> throw new IllegalStateException("unexpected state 42");
                case "error" -> throw new StackOverflowError("deep");
                default -> {
                    return 0;
                }
            }
        }
    }

    record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        cl.addSubcommand(new FailCommand());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(cl, new PrintWriter(out), new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void helpExitsZeroAndListsTheCommands() {
        Result r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("inspect"), r.out());
        assertTrue(r.out().contains("Exit codes"), r.out());
        assertEquals(0, run("-h").code());
    }

    @Test
    void everySubcommandHasHelp() {
        for (String name : Main.commandLine().getSubcommands().keySet()) {
            if (!name.equals("help")) {
                Result r = run(name, "--help");
                assertEquals(0, r.code(), name);
                assertTrue(r.out().startsWith("Usage: lmc " + name), r.out());
            }
        }
    }

    @Test
    void versionNamesThisProgramEvenOnSubcommands() {
        Result r = run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("lmc-merge " + BuildInfo.VERSION), r.out());
        assertTrue(run("inspect", "--version").out().startsWith("lmc-merge "));
    }

    @Test
    void runWithoutCommandIsAUsageError() {
        Result r = run();
        assertEquals(ExitCode.USAGE.code(), r.code());
        assertTrue(r.err().startsWith("lmc: error: missing command"), r.err());
    }

    @Test
    void unknownSubcommandExitsTwoWithUsage() {
        Result r = run("frobnicate");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("lmc: error: "), r.err());
        assertTrue(r.err().contains("Usage: lmc"), r.err());
    }

    @Test
    void mistypedSubcommandGetsASuggestion() {
        Result r = run("inspekt");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("inspect"), r.err());
    }

    @Test
    void badFlagExitsTwoWithTheSubcommandsUsage() {
        Result r = run("inspect", "--model", "x", "--colour");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--colour"), r.err());
        assertTrue(r.err().contains("Usage: lmc inspect"), r.err());
    }

    @Test
    void invalidInputExitsThreeWithOneLine() {
        Result r = run("fail", "invalid");
        assertEquals(3, r.code());
        assertEquals("lmc: error: /m/model.safetensors: header is not JSON", r.err().strip());
    }

    @Test
    void incompatibleModelsExitFourWithOneLine() {
        Result r = run("fail", "incompatible");
        assertEquals(4, r.code());
        assertEquals("lmc: error: hidden_size differs: 64 vs 128", r.err().strip());
    }

    @Test
    void wrappedLmcExceptionKeepsItsExitCode() {
        Result r = run("fail", "wrapped");
        assertEquals(3, r.code());
        assertEquals("lmc: error: /d/x.npy: not an int array", r.err().strip());
    }

    @Test
    void unexpectedExceptionExitsOneWithItsMessageAndNoTrace() {
        Result r = run("fail", "bug");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("lmc: error: java.lang.IllegalStateException: unexpected state 42"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void debugFlagAnywhereAddsTheStackTrace() {
        for (String[] args : new String[][] {{"--debug", "fail", "bug"}, {"fail", "--debug", "bug"}}) {
            Result r = run(args);
            assertEquals(1, r.code());
            assertTrue(r.err().contains("\tat dev.lmcmerge.cli.MainTest$FailCommand.call"), r.err());
        }
    }

    @Test
    void jvmErrorsExitOneToo() {
        Result r = run("fail", "error");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("lmc: error: java.lang.StackOverflowError: deep"), r.err());
    }

    @Test
    void demoIsARegisteredCommandWithHelp() {
        Result r = run("demo", "--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("demo"), r.out());
    }
}
