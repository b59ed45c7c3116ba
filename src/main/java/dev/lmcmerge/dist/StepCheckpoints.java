package dev.lmcmerge.dist;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lmcmerge.config.ExitCode;
import dev.lmcmerge.config.LmcException;
import dev.lmcmerge.io.DType;
import dev.lmcmerge.io.FileSystems;
import dev.lmcmerge.io.SafetensorsReader;
import dev.lmcmerge.io.SafetensorsWriter;
import dev.lmcmerge.io.TensorInfo;
import dev.lmcmerge.io.TensorSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Saved training states of one run, in {@code output.path/_checkpoints/RUN_ID/}, one
 * safetensors file per save: {@code METHOD-step-00000050.safetensors} holding the parameters
 * ({@code param/NAME}) and optimizer state ({@code opt/NAME}) as F32 tensors, with the step,
 * the per-step losses and the configuration fingerprint in its {@code __metadata__}. A plain
 * safetensors file so the state can be inspected with standard tools.
 *
 * <p>A save is written under a temporary name and renamed, so a kill during a save never leaves
 * a truncated state with a valid name; the two newest saves of each method are kept.
 */
public final class StepCheckpoints {
    private static final Logger LOG = Logger.getLogger(StepCheckpoints.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NAME = Pattern.compile("(.+)-step-(\\d{8})\\.safetensors");
    private static final String PARAM = "param/";
    private static final String OPT = "opt/";
    private static final int KEEP = 2;

    private final Path dir;
    private final Configuration conf;

    public StepCheckpoints(Path dir, Configuration conf) {
        this.dir = dir;
        this.conf = conf;
    }

    /** The folder the states are saved in. */
    public Path dir() {
        return dir;
    }

    /** Saves {@code state} (atomically) and drops older saves of the same method beyond the newest two. */
    public Path save(TrainingState state) {
        FileSystem fs = FileSystems.fs(dir, conf);
        Path file = new Path(dir, fileName(state.method(), state.step()));
        Path tmp = new Path(dir, "." + file.getName() + ".tmp");
        List<TensorSource> tensors = new ArrayList<>();
        state.params().forEach((k, v) -> tensors.add(TensorSource.ofFloats(PARAM + k, v.shape(), v.values(), DType.F32)));
        state.optimizer().forEach((k, v) -> tensors.add(TensorSource.ofFloats(OPT + k, v.shape(), v.values(), DType.F32)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "lmc-training-state-1");
        meta.put("method", state.method());
        meta.put("step", Integer.toString(state.step()));
        try {
            meta.put("losses", JSON.writeValueAsString(state.losses()));
            meta.put("fingerprint", JSON.writeValueAsString(state.fingerprint()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        try {
            fs.mkdirs(dir);
            SafetensorsWriter.write(tmp, conf, tensors, meta);
            if (fs.exists(file)) {
                fs.delete(file, false);
            }
            if (!fs.rename(tmp, file)) {
                throw new IOException("rename of " + tmp + " to " + file + " failed");
            }
        } catch (IOException e) {
            throw FileSystems.ioError(file.toString(), "cannot save the training state", e);
        }
        prune(fs, state.method());
        return file;
    }

    /**
     * The newest saved state of {@code method}, if any.
     *
     * @param expected the current configuration's fingerprint; a saved state made with another is
     *                 refused (USAGE, naming the first key that differs), since continuing it would
     *                 silently mix two runs
     */
    public Optional<TrainingState> latest(String method, Map<String, String> expected) {
        List<Saved> saves = list(FileSystems.fs(dir, conf), method);
        if (saves.isEmpty()) {
            return Optional.empty();
        }
        Saved newest = saves.get(saves.size() - 1);
        TrainingState s = read(newest.path);
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String saved = s.fingerprint().get(e.getKey());
            if (!e.getValue().equals(saved)) {
                throw LmcException.usage("lmc.output.mode", "resume: the training state " + newest.path
                        + " was saved with " + e.getKey() + " = " + saved + ", but this run has " + e.getValue()
                        + "; use the original configuration, or output.mode=overwrite to start over");
            }
        }
        return Optional.of(s);
    }

    /** Reads one saved state. */
    public TrainingState read(Path file) {
        try (SafetensorsReader r = SafetensorsReader.open(file, conf)) {
            Map<String, String> meta = r.metadata();
            String where = file.toString();
            if (!"lmc-training-state-1".equals(meta.get("format"))) {
                throw LmcException.invalidInput(where, "not an lmc training state (metadata format is "
                        + meta.get("format") + ")");
            }
            Map<String, FloatTensor> params = new LinkedHashMap<>();
            Map<String, FloatTensor> opt = new LinkedHashMap<>();
            for (TensorInfo t : r.tensors().values()) {
                FloatTensor v = new FloatTensor(t.shape(), r.readFloat32(t.name()));
                if (t.name().startsWith(PARAM)) {
                    params.put(t.name().substring(PARAM.length()), v);
                } else if (t.name().startsWith(OPT)) {
                    opt.put(t.name().substring(OPT.length()), v);
                }
            }
            double[] losses = JSON.readValue(meta.get("losses"), double[].class);
            Map<String, String> fingerprint = JSON.readValue(meta.get("fingerprint"),
                    new TypeReference<LinkedHashMap<String, String>>() {});
            return new TrainingState(meta.get("method"), Integer.parseInt(meta.get("step")), params, opt, losses,
                    fingerprint);
        } catch (IOException e) {
            throw new LmcException(ExitCode.INVALID_INPUT, file + ": cannot read the training state: " + e, e);
        }
    }

    static String fileName(String method, int step) {
        return String.format("%s-step-%08d.safetensors", method, step);
    }

    private void prune(FileSystem fs, String method) {
        List<Saved> saves = list(fs, method);
        for (int i = 0; i < saves.size() - KEEP; i++) {
            try {
                fs.delete(saves.get(i).path, false);
            } catch (IOException e) {
                LOG.warning("cannot delete old training state " + saves.get(i).path + ": " + e);
            }
        }
    }

    private List<Saved> list(FileSystem fs, String method) {
        List<Saved> out = new ArrayList<>();
        try {
            if (!fs.exists(dir)) {
                return out;
            }
            for (FileStatus st : fs.listStatus(dir)) {
                Matcher m = NAME.matcher(st.getPath().getName());
                if (m.matches() && m.group(1).equals(method)) {
                    out.add(new Saved(st.getPath(), Integer.parseInt(m.group(2))));
                }
            }
        } catch (IOException e) {
            throw FileSystems.ioError(dir.toString(), "cannot list training states", e);
        }
        out.sort(Comparator.comparingInt(s -> s.step));
        return out;
    }

    private record Saved(Path path, int step) {}
}
