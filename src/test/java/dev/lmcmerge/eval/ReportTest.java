package dev.lmcmerge.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

class ReportTest {
    private static final double[] GRID = {0, 0.25, 0.5, 0.75, 1};

    private static Report report() {
        double[] naive = {3.0, 4.5, 5.2, 4.1, 3.1};
        double[] dual = {3.0, 3.1, 3.15, 3.1, 3.1};
        return new Report("run <x> & y", Map.of("model A", "/m/a"),
                List.of(new Report.Curve("naive", GRID, naive), new Report.Curve("dual", GRID, dual)),
                Map.of("naive", Barrier.of(GRID, naive), "dual", Barrier.of(GRID, dual)));
    }

    @Test
    void svgIsWellFormedXmlWithOneCurvePerMethod() throws Exception {
        String svg = report().svg();
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", d.getDocumentElement().getNodeName());
        assertEquals(2, d.getElementsByTagName("polyline").getLength());
        assertEquals(2 * GRID.length, d.getElementsByTagName("circle").getLength());
    }

    @Test
    void endpointsAreLabeledModelAAndModelB() {
        String svg = report().svg();
        assertTrue(svg.contains(">model A</text>"));
        assertTrue(svg.contains(">model B</text>"));
    }

    @Test
    void pageHasTheBarrierTableAndEscapesText() {
        String html = report().toHtml();
        assertTrue(html.contains("run &lt;x&gt; &amp; y"));
        assertFalse(html.contains("<x>"));
        assertFalse(html.contains("<script"), "no JavaScript");
        Barrier naive = Barrier.of(GRID, new double[] {3.0, 4.5, 5.2, 4.1, 3.1});
        assertTrue(html.contains(String.format(java.util.Locale.ROOT, "%.4f", naive.barrier())));
        assertTrue(html.indexOf("<td class=\"l\">naive</td>") < html.indexOf("<td class=\"l\">dual</td>"),
                "rows follow the curve order");
    }

    @Test
    void ticksCoverTheRangeWithRoundSteps() {
        double[] t = Report.niceTicks(2.93, 5.21, 5);
        assertTrue(t[0] <= 2.93 && t[t.length - 1] >= 5.21);
        double step = t[1] - t[0];
        double mantissa = step / Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
        assertTrue(Math.abs(mantissa - 1) < 1e-9 || Math.abs(mantissa - 2) < 1e-9 || Math.abs(mantissa - 5) < 1e-9,
                "step " + step + " is 1, 2 or 5 times a power of ten");
        assertTrue(t.length >= 3 && t.length <= 11, t.length + " ticks");
    }
}
