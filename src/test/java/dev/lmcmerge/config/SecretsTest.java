package dev.lmcmerge.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SecretsTest {
    @ParameterizedTest
    @ValueSource(strings = {"fs.s3a.access.key", "fs.s3a.secret.key", "fs.s3a.session.token", "secret-key",
        "AWS_SECRET_ACCESS_KEY", "ssl.truststore.password", "fs.s3a.aws.credentials.provider", "fs.s3a.encryption.key"})
    void keysNamingSecretsAreSecret(String key) {
        assertTrue(Secrets.isSecret(key), key);
    }

    @ParameterizedTest
    @ValueSource(strings = {"fs.s3a.endpoint", "lmc.check.tokens", "lmc.align.seed", "lmc.data.tokenizer"})
    void ordinaryKeysAreNot(String key) {
        assertFalse(Secrets.isSecret(key), key);
    }
}
