package dev.lmcmerge.symmetry;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Scratch-manager helpers. DJL puts an op's result in its first operand's manager, so inputs are
 * borrowed into a scratch scope for a computation: intermediates then die with the scope and
 * the inputs go back to their owners when it closes.
 */
final class Scopes {
    private Scopes() {
    }

    /**
     * Temporarily attaches {@code a} to {@code scope} unless it is already there (attaching twice
     * would make the scope its "previous" owner and close it with the scope).
     */
    static void borrow(NDArray a, NDManager scope) {
        if (a.getManager() != scope) {
            a.tempAttach(scope);
        }
    }
}
