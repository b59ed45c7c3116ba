package dev.lmcmerge.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;

/** Where a run's files are staged and where they are published. */
class RunLayoutTest {
    private final RunLayout layout = new RunLayout(new Path("s3a://bucket/out"), "r1", "abcd1234");

    @Test
    void aStagedPathIsPublishedAtTheSameRelativePathInTheRunFolder() {
        assertEquals(new Path("s3a://bucket/out/r1/merged/alpha=0.50"),
                layout.published(layout.staged("merged/alpha=0.50")));
    }

    @Test
    void theStagingFolderItselfIsPublishedAsTheRunFolder() {
        assertEquals(layout.finalDir(), layout.published(layout.stagingDir()));
    }

    @Test
    void aPathOutsideThisAttemptsStagingFolderHasNoPublishedPlace() {
        assertThrows(IllegalArgumentException.class,
                () -> layout.published(new Path("s3a://bucket/out/_staging/r1-abcd12345/merged")));
        assertThrows(IllegalArgumentException.class, () -> layout.published(new Path("s3a://bucket/out/r1/curves")));
    }
}
