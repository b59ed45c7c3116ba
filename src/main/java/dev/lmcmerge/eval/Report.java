package dev.lmcmerge.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run report: one self-contained HTML page (no scripts, no external files) with an inline
 * SVG plot of loss against alpha for every method (alpha = 0 labeled "model A", alpha = 1
 * "model B"), the barrier table and the run's facts. Built from plain values, so it renders the
 * same whether the numbers came from a Spark job or a test.
 *
 * @param title   page title, e.g. "lmc-merge run 20260301-142501-3fa2"
 * @param facts   label -> value lines shown under the table (models, data, steps, timings, ...)
 * @param curves  one curve per method, in display order
 * @param barriers method -> barrier of its curve (methods without an entry show no row)
 */
public record Report(String title, Map<String, String> facts, List<Curve> curves, Map<String, Barrier> barriers) {

    /** One method's loss curve on the alpha grid. */
    public record Curve(String method, double[] alphas, double[] losses) {
        public Curve {
            if (alphas.length != losses.length || alphas.length == 0) {
                throw new IllegalArgumentException(method + ": " + alphas.length + " alphas and " + losses.length
                        + " losses; expected the same positive number");
            }
        }
    }

    /** Line colors (colorblind-safe, Okabe-Ito), one per method in order. */
    static final String[] COLORS = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};

    static final int WIDTH = 720;
    static final int HEIGHT = 420;
    private static final int LEFT = 70;
    private static final int RIGHT = 170;
    private static final int TOP = 40;
    private static final int BOTTOM = 60;

    public Report {
        facts = new LinkedHashMap<>(facts);
        curves = List.copyOf(curves);
        barriers = new LinkedHashMap<>(barriers);
    }

    /** The whole page. */
    public String toHtml() {
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
                .append(esc(title)).append("</title>\n<style>\n")
                .append("body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;"
                        + "color:#222;max-width:960px}\n")
                .append("table{border-collapse:collapse;margin:1em 0}\n")
                .append("th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}\n")
                .append("th{background:#f4f4f4}td.l,th.l{text-align:left}\n")
                .append(".note{color:#666;font-size:90%}\n")
                .append("</style>\n</head>\n<body>\n<h1>").append(esc(title)).append("</h1>\n");
        h.append("<h2>Loss along the straight line from model A to model B</h2>\n");
        h.append(svg()).append('\n');
        h.append("<p class=\"note\">Each curve is the held-out loss of the merged model (1 - alpha) A + alpha B"
                + " after aligning the two models with that method. The barrier is the largest excess of the"
                + " curve over the straight chord between its endpoints.</p>\n");
        h.append("<h2>Barriers</h2>\n").append(barrierTable()).append('\n');
        h.append("<h2>Run</h2>\n<table>\n");
        for (Map.Entry<String, String> e : facts.entrySet()) {
            h.append("<tr><th class=\"l\">").append(esc(e.getKey())).append("</th><td class=\"l\">")
                    .append(esc(e.getValue())).append("</td></tr>\n");
        }
        h.append("</table>\n</body>\n</html>\n");
        return h.toString();
    }

    /** The barrier table as HTML. */
    String barrierTable() {
        StringBuilder t = new StringBuilder("<table>\n<tr><th class=\"l\">method</th><th>barrier</th>"
                + "<th>barrier (relative)</th><th>at alpha</th><th>loss A</th><th>loss B</th></tr>\n");
        for (Curve c : curves) {
            Barrier b = barriers.get(c.method());
            if (b == null) {
                continue;
            }
            t.append("<tr><td class=\"l\">").append(esc(c.method())).append("</td><td>").append(num(b.barrier()))
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.2f%%", 100 * b.barrierRel()))
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.2f", b.argmaxAlpha()))
                    .append("</td><td>").append(num(b.lossA())).append("</td><td>").append(num(b.lossB()))
                    .append("</td></tr>\n");
        }
        return t.append("</table>").toString();
    }

    /** The plot as an inline SVG element. */
    public String svg() {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (Curve c : curves) {
            for (double l : c.losses()) {
                if (Double.isFinite(l)) {
                    lo = Math.min(lo, l);
                    hi = Math.max(hi, l);
                }
            }
        }
        if (!Double.isFinite(lo)) {
            lo = 0;
            hi = 1;
        }
        double[] ticks = niceTicks(lo, hi, 5);
        double yMin = ticks[0];
        double yMax = ticks[ticks.length - 1];
        int pw = WIDTH - LEFT - RIGHT;
        int ph = HEIGHT - TOP - BOTTOM;
        StringBuilder s = new StringBuilder(8192);
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
                .append(HEIGHT).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(HEIGHT)
                .append("\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"loss against"
                        + " alpha per method\">\n");
        s.append("<rect x=\"0\" y=\"0\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" fill=\"white\"/>\n");
        // y grid and labels
        for (double t : ticks) {
            double y = TOP + ph * (1 - (t - yMin) / (yMax - yMin));
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n",
                    LEFT, y, LEFT + pw, y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" dy=\"4\">%s</text>\n",
                    LEFT - 6, y, tickLabel(t, ticks)));
        }
        // x grid and labels: model A at 0, model B at 1, alpha values between
        for (int i = 0; i <= 4; i++) {
            double a = i / 4.0;
            double x = LEFT + pw * a;
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e5e5e5\"/>\n",
                    x, TOP, x, TOP + ph));
            String label = i == 0 ? "model A" : i == 4 ? "model B" : String.format(Locale.ROOT, "%.2f", a);
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\"%s>%s</text>\n",
                    x, TOP + ph + 18, i == 0 || i == 4 ? " font-weight=\"bold\"" : "", label));
        }
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\""
                + " stroke=\"#888\"/>\n", LEFT, TOP, pw, ph));
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">alpha (weight of model B"
                + " in the merge)</text>\n", LEFT + pw / 2, HEIGHT - 14));
        s.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 16"
                + " %d)\">held-out loss</text>\n", TOP + ph / 2, TOP + ph / 2));
        // curves
        for (int k = 0; k < curves.size(); k++) {
            Curve c = curves.get(k);
            String color = COLORS[k % COLORS.length];
            List<String> pts = new ArrayList<>();
            for (int i = 0; i < c.alphas().length; i++) {
                if (!Double.isFinite(c.losses()[i])) {
                    continue;
                }
                double x = LEFT + pw * c.alphas()[i];
                double y = TOP + ph * (1 - (c.losses()[i] - yMin) / (yMax - yMin));
                pts.add(String.format(Locale.ROOT, "%.1f,%.1f", x, y));
            }
            s.append("<g class=\"curve\" data-method=\"").append(esc(c.method())).append("\">\n");
            s.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"2\" points=\"")
                    .append(String.join(" ", pts)).append("\"/>\n");
            for (String p : pts) {
                String[] xy = p.split(",");
                s.append("<circle cx=\"").append(xy[0]).append("\" cy=\"").append(xy[1]).append("\" r=\"3\" fill=\"")
                        .append(color).append("\"/>\n");
            }
            s.append("</g>\n");
            int ly = TOP + 10 + 20 * k;
            int lx = LEFT + pw + 16;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\""
                    + " stroke-width=\"2\"/>\n", lx, ly, lx + 22, ly, color));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" dy=\"4\">%s</text>\n", lx + 28, ly,
                    esc(c.method())));
        }
        s.append("</svg>");
        return s.toString();
    }

    /**
     * About {@code n} evenly spaced round tick values covering [lo, hi] (1, 2 or 5 times a power of
     * ten apart), the first at or below lo and the last at or above hi.
     */
    static double[] niceTicks(double lo, double hi, int n) {
        if (hi - lo < 1e-12) {
            double pad = Math.max(Math.abs(lo) * 0.05, 1e-3);
            lo -= pad;
            hi += pad;
        }
        double raw = (hi - lo) / Math.max(1, n - 1);
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = mag * (raw / mag <= 1 ? 1 : raw / mag <= 2 ? 2 : raw / mag <= 5 ? 5 : 10);
        double start = Math.floor(lo / step) * step;
        double end = Math.ceil(hi / step) * step;
        int count = (int) Math.round((end - start) / step) + 1;
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            out[i] = start + i * step;
        }
        return out;
    }

    private static String tickLabel(double t, double[] ticks) {
        double step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
        int decimals = (int) Math.max(0, Math.ceil(-Math.log10(step) + 1e-9));
        return String.format(Locale.ROOT, "%." + decimals + "f", t);
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    /** Escapes text for HTML element content and attribute values. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
