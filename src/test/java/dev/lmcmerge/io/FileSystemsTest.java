package dev.lmcmerge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lmcmerge.config.LmcException;
import java.io.File;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Locations without a scheme are local files; others pass through to their Hadoop file system. */
class FileSystemsTest {
    @TempDir
    Path tmp;

    @Test
    void relativePathMeansTheLocalWorkingDirectory() {
        org.apache.hadoop.fs.Path p = FileSystems.resolve("models/a");
        assertEquals("file", p.toUri().getScheme());
        assertEquals(new File("models/a").getAbsolutePath(), p.toUri().getPath());
    }

    @Test
    void absolutePathWithoutSchemeIsLocalEvenIfTheDefaultFsIsNot() {
        Configuration conf = new Configuration();
        conf.set("fs.defaultFS", "hdfs://namenode:8020");
        org.apache.hadoop.fs.Path p = FileSystems.resolve("/data/model");
        assertEquals("file:/data/model", p.toString());
        assertTrue(FileSystems.isLocal(FileSystems.fs(p, conf)));
    }

    @Test
    void locationsWithASchemePassThrough() {
        assertEquals("hdfs://nn:8020/models/a", FileSystems.resolve("hdfs://nn:8020/models/a").toString());
        assertEquals("s3a://bucket/models/a", FileSystems.resolve("s3a://bucket/models/a").toString());
        assertEquals("file:/tmp/x", FileSystems.resolve("file:/tmp/x").toString());
    }

    @Test
    void localPathsWithSpacesResolve() {
        assertTrue(FileSystems.resolve("my models/a b").toUri().getPath().endsWith("/my models/a b"));
    }

    @Test
    void localFileSystemWritesNoChecksumSideFiles() throws Exception {
        org.apache.hadoop.fs.Path p = FileSystems.resolve(tmp.resolve("x.bin").toString());
        FileSystem fs = FileSystems.fs(p, new Configuration());
        fs.create(p).close();
        assertFalse(tmp.resolve(".x.bin.crc").toFile().exists());
    }

    @Test
    void aMissingPathIsInvalidInputNamingIt() {
        org.apache.hadoop.fs.Path p = FileSystems.resolve(tmp.resolve("nope").toString());
        LmcException e = assertThrows(LmcException.class,
                () -> FileSystems.requireExists(p, new Configuration(), "model folder"));
        assertEquals(3, e.exitCode().code());
        assertEquals(p + ": model folder does not exist", e.getMessage());
    }

    @Test
    void anUnknownSchemeIsInvalidInputNamingTheLocation() {
        LmcException e = assertThrows(LmcException.class,
                () -> FileSystems.fs(FileSystems.resolve("nosuchfs://x/y"), new Configuration()));
        assertEquals(3, e.exitCode().code());
        assertTrue(e.getMessage().startsWith("nosuchfs://x/y: no file system"), e.getMessage());
    }
}
