package dev.lmcmerge.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** JSON formatting shared by the checkpoint writers: two-space indent like Python's {@code json.dumps(indent=2)}. */
final class Json {
    private Json() {}

    static final ObjectMapper MAPPER = new ObjectMapper();

    private static final DefaultPrettyPrinter PRETTY = new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n"))
            .withSeparators(com.fasterxml.jackson.core.util.Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(com.fasterxml.jackson.core.util.Separators.Spacing.AFTER));

    /** {@code node} as indented JSON, {@code "key": value} with one space after the colon. */
    static String pretty(JsonNode node) throws JsonProcessingException {
        return MAPPER.writer(PRETTY).writeValueAsString(node);
    }
}
