package dev.lmcmerge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Node;

/** reference.conf is the single list of keys: each one commented, each one in docs/configuration.md. */
class ReferenceConfTest {
    private static final Config REFERENCE = JobConfigSources.reference();

    @Test
    void everyKeyOfReferenceConfHasAComment() {
        List<String> uncommented = new ArrayList<>();
        walk("lmc", (ConfigObject) REFERENCE.root().get("lmc"), (path, v) -> {
            if (v.origin().comments().stream().allMatch(String::isBlank)) {
                uncommented.add(path);
            }
        });
        assertTrue(uncommented.isEmpty(), "keys without a comment in reference.conf: " + uncommented);
    }

    @Test
    void everyKeyOfReferenceConfIsInTheConfigurationDocs() throws IOException {
        String docs = Files.readString(Path.of("docs/configuration.md"));
        List<String> missing = new ArrayList<>();
        for (String key : KeyCheck.knownKeys(REFERENCE.root())) {
            if (!key.equals("lmc") && !docs.contains("`" + key + "`")) {
                missing.add(key);
            }
        }
        assertTrue(missing.isEmpty(), "keys missing from docs/configuration.md: " + missing);
    }

    @Test
    void everyKeyTheDocsNameExistsInReferenceConf() throws IOException {
        String docs = Files.readString(Path.of("docs/configuration.md"));
        List<String> known = KeyCheck.knownKeys(REFERENCE.root());
        List<String> stale = new ArrayList<>();
        Matcher m = Pattern.compile("`(lmc\\.[a-z0-9.-]+)`").matcher(docs);
        while (m.find()) {
            if (!known.contains(m.group(1))) {
                stale.add(m.group(1));
            }
        }
        assertTrue(stale.isEmpty(), "docs/configuration.md names keys reference.conf lacks: " + stale);
    }

    @Test
    void buildInfoVersionIsThePomVersion() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        String version = null;
        for (Node n = pom.getDocumentElement().getFirstChild(); n != null; n = n.getNextSibling()) {
            if ("version".equals(n.getNodeName())) {
                version = n.getTextContent().trim();
            }
        }
        assertEquals(version, BuildInfo.VERSION);
    }

    private static void walk(String prefix, ConfigObject o, java.util.function.BiConsumer<String, ConfigValue> visit) {
        for (Map.Entry<String, ConfigValue> e : o.entrySet()) {
            String path = prefix + "." + e.getKey();
            visit.accept(path, e.getValue());
            if (e.getValue() instanceof ConfigObject child) {
                walk(path, child, visit);
            }
        }
    }
}
