package dev.lmcmerge.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class TokenRowsTest {
    @Test
    void lookingUpTheRenumberedIdsInTheSelectedRowsEqualsTheFullLookup() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray table = m.randomNormal(new Shape(50, 4));
            NDArray ids = m.create(new long[] {7, 3, 7, 49, 0, 3}, new Shape(2, 3));
            TokenRows rows = TokenRows.of(ids, m);

            assertArrayEquals(new long[] {0, 3, 7, 49}, rows.rows().toLongArray());
            assertEquals(ids.getShape(), rows.renumbered().getShape());
            assertArrayEquals(Nn.embedding(ids, table).toFloatArray(),
                    Nn.embedding(rows.renumbered(), rows.select(table)).toFloatArray());
        }
    }
}
