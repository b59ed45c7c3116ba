package dev.lmcmerge.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.core.layout.PatternLayout;

/**
 * Everything the JVM logs or prints while it is open (not a test class): Log4j 2 events of
 * every logger at INFO and above (Spark's, Hadoop's; the console appenders are detached
 * meanwhile so the test output stays short), java.util.logging records, and whatever is written
 * to System.out and System.err. Closing restores all of it.
 */
final class CapturedLogs implements AutoCloseable {
    private final StringBuffer text = new StringBuffer();
    private final LoggerContext context;
    private final LoggerConfig root;
    private final Level oldLevel;
    private final Map<String, Appender> oldAppenders;
    private final Appender appender;
    private final Handler julHandler;
    private final PrintStream oldOut = System.out;
    private final PrintStream oldErr = System.err;
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    CapturedLogs() {
        context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        root = config.getRootLogger();
        oldLevel = root.getLevel();
        oldAppenders = Map.copyOf(root.getAppenders());
        appender = new AbstractAppender("lmc-test-capture", null, PatternLayout.createDefaultLayout(), true,
                Property.EMPTY_ARRAY) {
            @Override
            public void append(org.apache.logging.log4j.core.LogEvent event) {
                text.append(event.getLevel()).append(' ').append(event.getLoggerName()).append(": ")
                        .append(event.getMessage().getFormattedMessage()).append('\n');
                if (event.getThrown() != null) {
                    for (Throwable t = event.getThrown(); t != null; t = t.getCause() == t ? null : t.getCause()) {
                        text.append("  caused by ").append(t).append('\n');
                    }
                }
            }
        };
        appender.start();
        oldAppenders.keySet().forEach(root::removeAppender);
        root.addAppender(appender, Level.INFO, null);
        root.setLevel(Level.INFO);
        context.updateLoggers();
        julHandler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                text.append("JUL ").append(r.getLevel()).append(' ').append(r.getLoggerName()).append(": ")
                        .append(r.getMessage()).append('\n');
                if (r.getThrown() != null) {
                    text.append("  thrown ").append(r.getThrown()).append('\n');
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        java.util.logging.Logger.getLogger("").addHandler(julHandler);
        PrintStream tee = new PrintStream(printed, true, StandardCharsets.UTF_8);
        System.setOut(tee);
        System.setErr(tee);
    }

    /** Everything captured so far. */
    String text() {
        return text + "\n" + printed.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        System.setOut(oldOut);
        System.setErr(oldErr);
        java.util.logging.Logger.getLogger("").removeHandler(julHandler);
        root.removeAppender(appender.getName());
        oldAppenders.values().forEach(a -> root.addAppender(a, null, null));
        root.setLevel(oldLevel);
        context.updateLoggers();
        appender.stop();
    }
}
