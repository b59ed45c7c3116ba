package dev.lmcmerge.io;

import java.io.IOException;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.io.TempDir;

/** The round-trip contract on the local file system. */
class LocalRoundTripTest extends RoundTripContract {
    @TempDir
    java.nio.file.Path tmp;

    private final Configuration conf = new Configuration();

    @Override
    Path newFolder() throws IOException {
        return FileSystems.resolve(Files.createTempDirectory(tmp, "t").toString());
    }

    @Override
    Configuration conf() {
        return conf;
    }
}
