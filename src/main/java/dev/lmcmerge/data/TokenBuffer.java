package dev.lmcmerge.data;

import java.util.Arrays;

/**
 * A growable array of token ids. Written by hand because the JDK has no primitive int list and
 * boxing millions of tokens in an {@code ArrayList<Integer>} would cost ~5x the memory.
 */
final class TokenBuffer {
    private int[] data = new int[1 << 12];
    private int size;

    void add(int token) {
        if (size == data.length) {
            grow(size + 1);
        }
        data[size++] = token;
    }

    void addAll(int[] tokens, int from, int to) {
        int n = to - from;
        if (size + n > data.length) {
            grow(size + n);
        }
        System.arraycopy(tokens, from, data, size, n);
        size += n;
    }

    int size() {
        return size;
    }

    /** The backing array; only the first {@link #size()} entries are tokens. */
    int[] array() {
        return data;
    }

    private void grow(int min) {
        if (min < 0 || min > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("more than 2^31 tokens do not fit one in-memory dataset");
        }
        long n = Math.max((long) min, Math.min((long) data.length * 2, Integer.MAX_VALUE - 8));
        data = Arrays.copyOf(data, (int) n);
    }
}
