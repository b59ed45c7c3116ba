package dev.lmcmerge.config;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The job files shipped in conf/ load and validate (their paths need not exist). */
class ExampleConfigsTest {
    @Test
    void everyExampleJobFileValidates() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of("conf"))) {
            files = s.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "conf/ holds no job files");
        for (Path f : files) {
            JobConfig c = JobConfig.load(Optional.of(f.toString()), List.of());
            JobConfig.require(c.modelA(), "lmc.model-a");
            JobConfig.require(c.modelB(), "lmc.model-b");
            JobConfig.require(c.output().path(), "lmc.output.path");
        }
    }
}
