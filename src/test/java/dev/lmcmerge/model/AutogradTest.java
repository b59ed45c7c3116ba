package dev.lmcmerge.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forward passes are differentiable with DJL autograd: every weight receives a finite,
 * non-zero gradient, and sampled gradient entries agree with central finite differences.
 */
class AutogradTest {

    private static NDArray loss(Architecture arch, Weights w, NDArray input, NDArray labels) {
        NDArray logits = arch.forward(w, input);
        return arch.config().family().causalLm() ? Losses.causalLm(logits, input) : Losses.classification(logits, labels);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama", "gpt2", "vit"})
    void gradientsReachEveryWeightAndMatchFiniteDifferences(String name) throws Exception {
        JsonNode c = null;
        for (JsonNode x : ReferenceCasesTest.cases().get("cases")) {
            if (x.get("name").asText().equals(name)) {
                c = x;
            }
        }
        Path dir = ReferenceCasesTest.casesDir().resolve(c.get("model_dir").asText());
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel model = ModelLoader.open(dir.toString(), m.newSubManager())) {
            Architecture arch = model.architecture();
            Weights w = model.weights();
            boolean lm = arch.config().family().causalLm();
            NDArray input = ReferenceCasesTest.npy(m, lm ? c.at("/input/input_ids").asText() : c.at("/input/pixel_values").asText());
            NDArray labels = m.create(new long[] {3, 7});
            for (String n : w.names()) {
                w.get(n).setRequiresGradient(true);
            }
            double base;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = loss(arch, w, input, labels);
                base = l.getFloat();
                gc.backward(l);
            }
            for (String n : w.names()) {
                NDArray g = w.get(n).getGradient();
                double norm = g.square().sum().getFloat();
                assertTrue(Double.isFinite(norm) && norm > 0, name + ": gradient of " + n + " is " + norm);
            }
            List<TensorSpec> specs = arch.tensors();
            int checked = 0;
            for (int s = 0; s < 4; s++) {
                // Four tensors spread over the table: embedding side, two inside blocks, head side.
                int k = s * (specs.size() - 1) / 3;
                TensorSpec t = specs.get(k);
                NDArray weight = w.get(t.name());
                float[] grad = weight.getGradient().toFloatArray();
                int i = (int) ((k * 7919L + 13) % grad.length);
                double fd = (perturbed(arch, w, t.name(), i, 1e-2, input, labels)
                        - perturbed(arch, w, t.name(), i, -1e-2, input, labels)) / 2e-2;
                assertEquals(fd, grad[i], 2e-3 + 2e-2 * Math.abs(fd), name + ": d loss / d " + t.name() + "[" + i + "]");
                checked++;
            }
            assertTrue(checked >= 4 && Double.isFinite(base));
        }
    }

    private static double perturbed(Architecture arch, Weights w, String name, int index, double h,
                                    NDArray input, NDArray labels) {
        NDArray original = w.get(name);
        float[] delta = new float[(int) original.size()];
        delta[index] = (float) h;
        NDArray moved = original.stopGradient().add(original.getManager().create(delta, original.getShape()));
        Weights p = new Weights(w.manager(), "perturbed");
        for (String n : w.names()) {
            p.put(n, n.equals(name) ? moved : w.get(n).stopGradient());
        }
        // A tied head moves with its embedding.
        for (TensorSpec t : arch.tensors()) {
            if (t.tied() && t.tiedTo().equals(name)) {
                p.put(t.name(), moved);
            }
        }
        return loss(arch, p, input, labels).getFloat();
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt_neox", "llama"})
    void oneBlockRecomputedWithGradientGivesTheInputGradient(String name) throws Exception {
        Path dir = ReferenceCasesTest.casesDir().resolve("models/" + name);
        try (NDManager m = NDManager.newBaseManager();
             ModelLoader.LoadedModel model = ModelLoader.open(dir.toString(), m.newSubManager())) {
            Architecture arch = model.architecture();
            NDArray h = m.randomNormal(new Shape(2, 5, arch.config().hiddenSize()));
            h.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(arch.block(1, model.weights(), h).square().sum());
            }
            NDArray g = h.getGradient();
            assertEquals(h.getShape(), g.getShape());
            assertTrue(g.abs().sum().getFloat() > 0);
        }
    }
}
