package dev.lmcmerge.cli;

import dev.lmcmerge.config.BuildInfo;
import picocli.CommandLine.IVersionProvider;

/** {@code lmc --version}: this program's version, then the Java, Spark, DJL and libtorch it runs with. */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        return BuildInfo.versions().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue())
                .toArray(String[]::new);
    }
}
