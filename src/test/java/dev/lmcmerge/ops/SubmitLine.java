package dev.lmcmerge.ops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The spark-submit command a submit script prints with {@code --dry-run}, taken apart:
 * leading {@code NAME=value} environment, options, {@code --conf} settings (later ones win, as in
 * spark-submit), the application jar and the application's arguments.
 */
record SubmitLine(Map<String, String> env, String binary, Map<String, String> options,
                  List<String> confOrder, Map<String, String> conf, String jar, List<String> args) {

    static SubmitLine parse(String printed) {
        String line = printed.strip();
        if (line.contains("\n")) {
            throw new IllegalArgumentException("expected one line, got:\n" + printed);
        }
        List<String> w = Commands.words(line);
        int i = 0;
        Map<String, String> env = new LinkedHashMap<>();
        while (i < w.size() && w.get(i).matches("[A-Z_][A-Z0-9_]*=.*")) {
            String[] kv = w.get(i++).split("=", 2);
            env.put(kv[0], kv[1]);
        }
        String binary = w.get(i++);
        Map<String, String> options = new LinkedHashMap<>();
        List<String> order = new ArrayList<>();
        Map<String, String> conf = new LinkedHashMap<>();
        while (i < w.size() && w.get(i).startsWith("--")) {
            String flag = w.get(i);
            String value = w.get(i + 1);
            if (flag.equals("--conf")) {
                String[] kv = value.split("=", 2);
                order.add(kv[0]);
                conf.put(kv[0], kv[1]);
            } else if (options.put(flag, value) != null) {
                throw new IllegalArgumentException(flag + " given twice in: " + line);
            }
            i += 2;
        }
        String jar = w.get(i++);
        return new SubmitLine(env, binary, options, order, conf, jar, List.copyOf(w.subList(i, w.size())));
    }
}
