package dev.lmcmerge.io;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import org.apache.hadoop.conf.Configuration;

/**
 * Child-JVM entry point of {@link HeapBoundTest}: opens a safetensors file, reads every tensor
 * and prints the number of tensors, bytes read and the sum of all values.
 */
public final class HeapBoundReader {
    private HeapBoundReader() {}

    public static void main(String[] args) throws Exception {
        long bytes = 0;
        double sum = 0;
        try (SafetensorsReader r = SafetensorsReader.open(FileSystems.resolve(args[0]), new Configuration())) {
            for (String name : r.tensors().keySet()) {
                ByteBuffer b = r.read(name);
                bytes += b.remaining();
                FloatBuffer f = b.asFloatBuffer();
                for (int i = 0, n = f.limit(); i < n; i++) {
                    sum += f.get(i);
                }
            }
            System.out.println("tensors=" + r.tensors().size() + " bytes=" + bytes + " sum=" + sum
                    + " maxHeap=" + Runtime.getRuntime().maxMemory());
        }
    }
}
