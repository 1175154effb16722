#!/usr/bin/env python3
"""Train, quantize and check the int8 bearing-fault classifier in models/.

The way users of edge-reflex make a model: Keras, then TensorFlow Lite full-integer post-training
quantization (representative dataset, TFLITE_BUILTINS_INT8, int8 input and output). Data comes from
the crate's own simulator through `examples/export_training_data.rs`, so the windows are value for
value what the device quantizes: 64 samples x 3 axes, time-major, channels interleaved, in m/s^2
(gravity included on Z).

    cargo run --release --example export_training_data -- /tmp/bearing_windows.bin
    cargo run --release --example export_training_data -- /tmp/bearing_demo.bin --demo
    /tmp/tfenv/bin/python scripts/train_bearing_model.py \
        --data /tmp/bearing_windows.bin --demo /tmp/bearing_demo.bin --out models

Labels: a window is "fault" when at least 16 of its 64 samples are faulty (a quarter window), and
"normal" when none is. Windows with 1..15 faulty samples are ambiguous: they are neither trained on
nor scored. Runs whose index is a multiple of 5 are held out (split by run, never by window, since
windows of one run overlap).

Input normalisation lives in the model: the network is trained on per-channel standardised windows,
then the standardisation is folded into the first (VALID-padded) convolution, so the deployed model
takes raw m/s^2 and its int8 input scale/zero point come from the representative dataset.

Writes <out>/bearing_classifier.tflite, golden int8 input/output pairs computed with TFLite's
reference kernels in <out>/bearing_classifier.samples/, and <out>/bearing_classifier.json with the
quantization parameters, op list, sizes and accuracy (models/README.md quotes it).
"""

import argparse
import json
import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import tensorflow as tf  # noqa: E402

WINDOW, CHANNELS = 64, 3
FAULT_MIN_SAMPLES = 16
HELD_OUT_EVERY = 5
GATE_STD_DEV = 0.15  # VibrationConfig::default().gate_std_dev
# Operators the edge-reflex engine implements (src/engine); anything else fails the script.
ENGINE_OPS = {
    "FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN",
    "RESHAPE", "EXPAND_DIMS", "SOFTMAX", "LOGISTIC", "ADD", "MUL", "PAD", "CONCATENATION",
    "SHAPE", "STRIDED_SLICE", "PACK",
}


def load_windows(path):
    """Reads the file examples/export_training_data.rs writes (layout documented there)."""
    raw = open(path, "rb").read()
    if raw[:8] != b"ERBWIN01":
        sys.exit(f"{path}: not an export_training_data file")
    n, window, channels, runs = np.frombuffer(raw, "<u4", 4, 8)
    if (window, channels) != (WINDOW, CHANNELS):
        sys.exit(f"{path}: windows are {window}x{channels}, expected {WINDOW}x{CHANNELS}")
    off = 24
    x = np.frombuffer(raw, "<f4", n * window * channels, off).reshape(n, window, channels)
    off += x.nbytes
    faulty = np.frombuffer(raw, "<u2", n, off)
    off += faulty.nbytes
    run = np.frombuffer(raw, "<u2", n, off)
    off += run.nbytes
    std_dev = np.frombuffer(raw, "<f4", n, off)
    if off + std_dev.nbytes != len(raw):
        sys.exit(f"{path}: {len(raw)} bytes, expected {off + std_dev.nbytes}")
    return x.astype(np.float32), faulty.astype(np.int32), run.astype(np.int32), std_dev


def build_model(filters1, filters2, batch=None):
    """Conv1D(k7,s2) -> Conv1D(k5,s2) -> global average -> Dense(1, sigmoid), all VALID."""
    inp = tf.keras.Input((WINDOW, CHANNELS), batch_size=batch, name="window")
    h = tf.keras.layers.Conv1D(filters1, 7, strides=2, padding="valid", activation="relu")(inp)
    h = tf.keras.layers.Conv1D(filters2, 5, strides=2, padding="valid", activation="relu")(h)
    h = tf.keras.layers.GlobalAveragePooling1D()(h)
    out = tf.keras.layers.Dense(1, activation="sigmoid", name="fault")(h)
    return tf.keras.Model(inp, out)


def fold_standardisation(trained, mean, std, filters1, filters2):
    """The same network on raw input: conv1(w, b) on (x - mean)/std == conv1(w/std, b - sum w*mean/std)."""
    deployed = build_model(filters1, filters2, batch=1)  # batch 1: static shapes, no SHAPE/PACK chains
    for src, dst in zip(trained.layers, deployed.layers):
        dst.set_weights(src.get_weights())
    conv1 = deployed.layers[1]
    w, b = conv1.get_weights()  # w: [k, in, out]
    w_raw = w / std[None, :, None]
    b_raw = b - np.einsum("kio,i->o", w, mean / std)
    conv1.set_weights([w_raw.astype(np.float32), b_raw.astype(np.float32)])
    return deployed


def quantize_input(x, scale, zero_point):
    """AffineQuantizer::quantize_value: round(x / scale) half away from zero in f32, + zp, clamp."""
    v = (x.astype(np.float32) / np.float32(scale)).astype(np.float32)
    r = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))
    return np.clip(r + zero_point, -128, 127).astype(np.int8)


class Int8Model:
    """The converted model under TFLite's reference kernels (the arithmetic the engine matches)."""

    def __init__(self, tflite_bytes):
        self.interp = tf.lite.Interpreter(
            model_content=tflite_bytes,
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
            experimental_preserve_all_tensors=True,
        )
        self.interp.allocate_tensors()
        self.inp = self.interp.get_input_details()[0]
        self.out = self.interp.get_output_details()[0]
        # The logit: input of the final LOGISTIC, unsaturated where the probability is not.
        last = self.interp._get_ops_details()[-1]
        assert last["op_name"] == "LOGISTIC", last
        self.logit = int(last["inputs"][0])
        self.in_scale, self.in_zp = self.inp["quantization"]
        self.out_scale, self.out_zp = self.out["quantization"]

    def run_q(self, q):
        self.interp.set_tensor(self.inp["index"], q.reshape(self.inp["shape"]))
        self.interp.invoke()
        out = self.interp.get_tensor(self.out["index"]).reshape(-1)
        return out[0], self.interp.get_tensor(self.logit).reshape(-1)[0]

    def scores(self, x):
        """Probabilities, int8 inputs, int8 outputs and int8 logits of windows `x` (m/s^2)."""
        qs = quantize_input(x, self.in_scale, self.in_zp)
        out, logit = np.array([self.run_q(q) for q in qs], dtype=np.int8).T.copy()
        return (out.astype(np.float32) - self.out_zp) * self.out_scale, qs, out, logit


def metrics(pred, label):
    pos, neg = label == 1, label == 0
    return {
        "windows": int(label.size),
        "fault_windows": int(pos.sum()),
        "accuracy": float((pred == label).mean()),
        "true_positive_rate": float(pred[pos].mean()) if pos.any() else None,
        "false_positive_rate": float(pred[neg].mean()) if neg.any() else None,
        "false_positives": int(pred[neg].sum()),
        "missed_faults": int((1 - pred[pos]).sum()),
    }


def op_names(tflite_bytes):
    interp = tf.lite.Interpreter(model_content=tflite_bytes)
    return [op["op_name"] for op in interp._get_ops_details()]


def macs_and_params(deployed):
    params = int(deployed.count_params())
    macs = 0
    for layer in deployed.layers:
        if isinstance(layer, tf.keras.layers.Conv1D):
            k, cin, cout = layer.kernel.shape
            macs += int(layer.output.shape[1]) * k * cin * cout
        elif isinstance(layer, tf.keras.layers.Dense):
            macs += int(np.prod(layer.kernel.shape))
    return params, macs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="export_training_data output")
    ap.add_argument("--demo", help="export_training_data --demo output (evaluation only)")
    ap.add_argument("--out", default="models", help="directory for the model and golden samples")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--filters", type=int, nargs=2, default=[8, 16], metavar=("CONV1", "CONV2"))
    ap.add_argument("--golden", type=int, default=12, help="golden samples to write")
    args = ap.parse_args()

    tf.keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()

    x, faulty, run, std_dev = load_windows(args.data)
    clear = (faulty == 0) | (faulty >= FAULT_MIN_SAMPLES)
    label = (faulty >= FAULT_MIN_SAMPLES).astype(np.int32)
    held = run % HELD_OUT_EVERY == 0
    tr, te = clear & ~held, clear & held
    print(f"data: {len(x)} windows, {tr.sum()} train / {te.sum()} held-out "
          f"({label[tr].mean():.2f} / {label[te].mean():.2f} faulty), "
          f"{(~clear).sum()} ambiguous left out")

    mean = x[tr].mean(axis=(0, 1)).astype(np.float32)
    std = x[tr].std(axis=(0, 1)).astype(np.float32)
    f1, f2 = args.filters
    trained = build_model(f1, f2)
    trained.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss="binary_crossentropy",
                    metrics=["accuracy"])
    xs = (x - mean) / std
    trained.fit(xs[tr], label[tr], batch_size=64, epochs=args.epochs, verbose=2,
                validation_data=(xs[te], label[te]),
                callbacks=[tf.keras.callbacks.ReduceLROnPlateau("loss", 0.5, 8, min_lr=2e-4)])

    deployed = fold_standardisation(trained, mean, std, f1, f2)
    check = np.abs(deployed.predict(x[te][:256], verbose=0) - trained.predict(xs[te][:256], verbose=0))
    assert check.max() < 1e-4, f"folding changed the outputs by {check.max()}"

    rng = np.random.default_rng(args.seed)
    rep_idx = rng.choice(np.flatnonzero(tr), 500, replace=False)

    def representative():
        for i in rep_idx:
            yield [x[i : i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(deployed)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    tflite = conv.convert()

    ops = op_names(tflite)
    unsupported = sorted(set(ops) - ENGINE_OPS)
    if unsupported:
        sys.exit(f"the converted model uses operators the engine lacks: {unsupported}")

    int8 = Int8Model(tflite)
    score_f = deployed.predict(x[te], verbose=0)[:, 0]
    score_q = int8.scores(x[te])[0]
    gated = std_dev[te] >= GATE_STD_DEV
    result = {
        "tensorflow": tf.__version__,
        "architecture": [str(l.__class__.__name__) + str(l.output.shape[1:]) for l in deployed.layers],
        "ops": ops,
        "model_bytes": len(tflite),
        "input": {"shape": [int(d) for d in int8.inp["shape"]], "scale": float(int8.in_scale),
                  "zero_point": int(int8.in_zp)},
        "output": {"shape": [int(d) for d in int8.out["shape"]], "scale": float(int8.out_scale),
                   "zero_point": int(int8.out_zp)},
        "fault_min_samples": FAULT_MIN_SAMPLES,
        "threshold": 0.5,
        "held_out_float": metrics((score_f >= 0.5).astype(np.int32), label[te]),
        "held_out_int8": metrics((score_q >= 0.5).astype(np.int32), label[te]),
        "held_out_int8_gated_in": metrics((score_q[gated] >= 0.5).astype(np.int32), label[te][gated]),
        "float_int8_decision_agreement": float(((score_f >= 0.5) == (score_q >= 0.5)).mean()),
    }
    result["params"], result["macs"] = macs_and_params(deployed)

    if args.demo:
        dx, dfaulty, _, dstd = load_windows(args.demo)
        dscore, _, demo_out, demo_logit = int8.scores(dx)
        fired = dscore >= 0.5
        passed = (dstd >= GATE_STD_DEV) | ((np.arange(len(dx)) + 1) % 24 == 0)
        result["demo_int8_all_windows"] = {
            "windows": int(len(dx)),
            "fired_on_clean_normal": int((fired & (dfaulty == 0)).sum()),
            "fired_on_fault_ge16": int((fired & (dfaulty >= FAULT_MIN_SAMPLES)).sum()),
            "fired_on_ambiguous": int((fired & (dfaulty > 0) & (dfaulty < FAULT_MIN_SAMPLES)).sum()),
            "unsaturated_outputs": int(((demo_out > -128) & (demo_out < 127)).sum()),
            "unsaturated_logits": int(((demo_logit > -128) & (demo_logit < 127)).sum()),
            "fault_ge16_windows": int((dfaulty >= FAULT_MIN_SAMPLES).sum()),
            "approx_gated_in": int(passed.sum()),
        }

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "bearing_classifier.tflite"), "wb") as f:
        f.write(tflite)
    samples = os.path.join(args.out, "bearing_classifier.samples")
    os.makedirs(samples, exist_ok=True)
    for name in os.listdir(samples):
        os.remove(os.path.join(samples, name))
    write_golden(samples, int8, x[held], faulty[held], args.golden)
    if args.demo:
        # One output byte per window of the demo run; the Rust test regenerates the inputs from the
        # simulator and AffineQuantizer, so this also checks the quantizer matches quantize_input.
        open(os.path.join(samples, "demo_outputs.bin"), "wb").write(demo_out.tobytes())
        open(os.path.join(samples, "demo_logits.bin"), "wb").write(demo_logit.tobytes())
    with open(os.path.join(args.out, "bearing_classifier.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result, indent=1))


def write_golden(d, int8, x, faulty, count):
    """Held-out windows as int8 inputs (inputs.bin, count x 192 bytes) with the reference kernels'
    int8 outputs (outputs.bin) and logits (logits.bin, the LOGISTIC's input): one clear fault, one
    clear normal, the rest with unsaturated outputs spread over the int8 range (a saturated output
    would hide an off-by-one inside the network)."""
    score, qs, outs, logits = int8.scores(x)
    pick = [int(np.flatnonzero(faulty >= FAULT_MIN_SAMPLES)[0]), int(np.flatnonzero(faulty == 0)[0])]
    inner = np.flatnonzero((outs > -128) & (outs < 127))
    inner = inner[np.argsort(outs[inner], kind="stable")]
    for i in inner[np.linspace(0, len(inner) - 1, max(count - 2, 0)).astype(int)] if len(inner) else []:
        if int(i) not in pick:
            pick.append(int(i))
    open(os.path.join(d, "inputs.bin"), "wb").write(qs[pick].tobytes())
    open(os.path.join(d, "outputs.bin"), "wb").write(outs[pick].tobytes())
    open(os.path.join(d, "logits.bin"), "wb").write(logits[pick].tobytes())
    with open(os.path.join(d, "index.txt"), "w") as f:
        f.write("# inputs.bin: int8 [n,64,3] held-out windows quantized like AffineQuantizer;\n"
                "# outputs.bin / logits.bin: int8 output and LOGISTIC input per window from TFLite's\n"
                "# reference kernels. demo_*.bin: the same for every window of the demo run (inputs\n"
                "# regenerated by the test from the simulator). One line per golden window:\n")
        for k, i in enumerate(pick):
            f.write(f"{k:02} faulty_samples={faulty[i]} score={score[i]:.4f} "
                    f"output={int(outs[i])} logit={int(logits[i])}\n")


if __name__ == "__main__":
    main()
