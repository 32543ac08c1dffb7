#!/usr/bin/python3
"""Trains ptq's reference models on Fashion-MNIST and exports them to ONNX, with their data.

Run by hand (never by the tests), from the repository root, with Debian 12's packages:
    apt-get install python3-torch python3-onnx python3-numpy dataset-fashion-mnist
    /usr/bin/python3 tools/models/train_fashion_mnist.py [--out models/fashion_mnist]

Deterministic: fixed seeds, one thread, deterministic algorithms; the same torch build gives the
same files. Writes into --out:
  cnn.onnx, mlp.onnx, lstm.onnx       opset 13, input "input" and output "logits", batch axis "batch"
  calib_100.npy                       float32 [100, 1, 28, 28]: the first 100 training images
  eval_2000.npy                       float32 [2000, 1, 28, 28]: the first 2000 test images
  eval_labels_2000.npy                int64 [2000]
  <model>_logits_2000.npy             float32 [2000, 10]: torch's logits on eval_2000
  accuracy.json                       float top-1 on the 2000 and on all 10000 test images
Inputs are pixel / 255 (float32, no mean/std normalization), so the data files are just that.
See models/fashion_mnist/README.md.
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261123
DATASET = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist
EPOCHS = {"cnn": 3, "mlp": 5, "lstm": 5}
BATCH = 128
LR = {"cnn": 2e-3, "mlp": 1e-3, "lstm": 3e-3}


def read_idx(name):
    """An IDX file of the dataset (big-endian header: magic, dims, then unsigned bytes)."""
    with gzip.open(os.path.join(DATASET, name), "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Cnn(nn.Module):
    """Conv3x3 + BN + ReLU, max pool, a depthwise-separable block, max pool, conv3x3, GAP, linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)
        self.bn_dw = nn.BatchNorm2d(16)
        self.pw = nn.Conv2d(16, 32, 1, bias=False)
        self.bn_pw = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn_dw(self.dw(x)))
        x = F.max_pool2d(F.relu(self.bn_pw(self.pw(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Lstm(nn.Module):
    """Reads an image [N, 28, 28] row by row: 28 steps of 28 pixels, then a classifier on the last
    step's output (h_n of this one-layer, one-direction LSTM is exactly y[:, -1, :])."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 64, batch_first=True)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h.squeeze(0))


def model_input(name, x):
    return x.reshape(-1, 28, 28) if name == "lstm" else x


def logits_of(model, name, images, batch=500):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            out.append(model(model_input(name, torch.from_numpy(images[i:i + batch]))))
    return torch.cat(out).numpy()


def train(name, model, train_x, train_y):
    torch.manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=LR[name])
    epochs = EPOCHS[name]
    steps = epochs * ((len(train_x) + BATCH - 1) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR[name], total_steps=steps)
    gen = torch.Generator().manual_seed(SEED)
    x_all, y_all = torch.from_numpy(train_x), torch.from_numpy(train_y)
    for epoch in range(epochs):
        model.train()
        start, total, correct, loss_sum = time.time(), 0, 0, 0.0
        for idx in torch.randperm(len(train_x), generator=gen).split(BATCH):
            x, y = model_input(name, x_all[idx]), y_all[idx]
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.argmax(1) == y).sum().item()
            total += len(idx)
        print(f"{name} epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.4f}, "
              f"train top-1 {100 * correct / total:.2f}%, {time.time() - start:.0f} s", flush=True)
    model.eval()


def simplify_lstm_initial_state(path):
    """torch writes the LSTM's zero initial state as zeros of a shape computed from the batch size
    (Shape, Gather, Unsqueeze, Concat, ConstantOfShape). ONNX's LSTM takes absent initial_h and
    initial_c as zeros, so drop those inputs and the subgraph that only fed them: same meaning, a
    simpler graph for importers."""
    m = onnx.load(path)
    g = m.graph
    for node in g.node:
        if node.op_type == "LSTM":
            producers = {o: n for n in g.node for o in n.output}
            for i in (5, 6):
                if i < len(node.input) and node.input[i] and producers[node.input[i]].op_type == "ConstantOfShape":
                    node.input[i] = ""
            while node.input and node.input[-1] == "":
                node.input.pop()
    # Remove nodes whose outputs nothing uses, until none is left.
    while True:
        used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
        dead = [n for n in g.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            g.node.remove(n)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def export(name, model, path):
    """Exports the model (in eval mode). The default training=EVAL lets torch fold each BatchNorm
    into its conv (torch's eval peephole pass); TrainingMode.PRESERVE skips that pass, and since
    the model is in eval mode its BatchNorms are written as inference BatchNormalization nodes
    (running statistics, one output), which is what an importer must fold itself."""
    assert not model.training
    shape = (1, 28, 28) if name == "lstm" else (1, 1, 28, 28)
    torch.onnx.export(model, torch.zeros(shape), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True, training=torch.onnx.TrainingMode.PRESERVE)
    assert not model.training
    if name == "lstm":
        simplify_lstm_initial_state(path)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    return [n.op_type for n in m.graph.node]


# ---- An independent check of the exported files: the ONNX graph evaluated with NumPy ------------

def _conv(x, w, b, pads, strides, group):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (x.shape[2] - kh) // strides[0] + 1
    ow = (x.shape[3] - kw) // strides[1] + 1
    out = np.zeros((n, m, oh, ow), np.float32)
    mg = m // group
    for g in range(group):
        xs = x[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i:i + strides[0] * oh:strides[0], j:j + strides[1] * ow:strides[1]]
                out[:, g * mg:(g + 1) * mg] += np.einsum("nchw,mc->nmhw", patch, w[g * mg:(g + 1) * mg, :, i, j])
    return out + (b.reshape(1, -1, 1, 1) if b is not None else 0)


def _lstm(x, w, r, b, hidden):
    """ONNX LSTM, forward, default activations, no initial state; x [T, B, I]; gates i, o, f, c."""
    sig = lambda v: 1 / (1 + np.exp(-v))
    h = np.zeros((x.shape[1], hidden), np.float32)
    c = np.zeros_like(h)
    ys = []
    for t in range(x.shape[0]):
        z = x[t] @ w[0].T + h @ r[0].T + b[0, :4 * hidden] + b[0, 4 * hidden:]
        i, o, f, g = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
        ys.append(h)
    y = np.stack(ys)[:, None]  # [T, 1, B, H]
    return y, h[None], c[None]


def run_onnx_with_numpy(path, x):
    m = onnx.load(path)
    env = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    env[m.graph.input[0].name] = x
    for n in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        ins = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Identity":
            out = [ins[0]]
        elif op == "Constant":
            out = [onnx.numpy_helper.to_array(a["value"])]
        elif op == "Conv":
            out = [_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a["pads"], a["strides"], a["group"])]
        elif op == "BatchNormalization":
            s, bias, mean, var = (v.reshape(1, -1, 1, 1) for v in ins[1:5])
            out = [(ins[0] - mean) / np.sqrt(var + a["epsilon"]) * s + bias]
        elif op == "Relu":
            out = [np.maximum(ins[0], 0)]
        elif op == "MaxPool":
            assert a["kernel_shape"] == a["strides"] and not any(a["pads"])
            k = a["kernel_shape"][0]
            v = ins[0]
            out = [v.reshape(v.shape[0], v.shape[1], v.shape[2] // k, k, v.shape[3] // k, k).max(axis=(3, 5))]
        elif op == "GlobalAveragePool":
            out = [ins[0].mean(axis=(2, 3), keepdims=True)]
        elif op == "Flatten":
            out = [ins[0].reshape(ins[0].shape[0], -1)]
        elif op == "Gemm":
            assert a.get("transB") == 1 and a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0
            out = [ins[0] @ ins[1].T + ins[2]]
        elif op == "Transpose":
            out = [np.transpose(ins[0], a["perm"])]
        elif op == "Squeeze":
            out = [np.squeeze(ins[0], axis=tuple(int(i) for i in ins[1]))]
        elif op == "LSTM":
            assert len(ins) <= 4 and a.get("direction", "forward") == "forward"
            out = list(_lstm(ins[0], ins[1], ins[2], ins[3], a["hidden_size"]))
        else:
            raise NotImplementedError(op)
        for name, v in zip(n.output, out):
            env[name] = v.astype(np.float32) if v.dtype.kind == "f" else v
    return env[m.graph.output[0].name]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/fashion_mnist")
    ap.add_argument("--models", default="cnn,mlp,lstm")
    ap.add_argument("--reuse-trained", action="store_true",
                    help="load the weights a previous run cached in ~/.cache/ptq/fashion_mnist instead of training")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    np.random.seed(SEED)

    scale = np.float32(255)
    train_x = (read_idx("train-images-idx3-ubyte.gz").astype(np.float32) / scale).reshape(-1, 1, 28, 28)
    train_y = read_idx("train-labels-idx1-ubyte.gz").astype(np.int64)
    test_x = (read_idx("t10k-images-idx3-ubyte.gz").astype(np.float32) / scale).reshape(-1, 1, 28, 28)
    test_y = read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64)
    assert train_x.shape == (60000, 1, 28, 28) and test_x.shape == (10000, 1, 28, 28)

    np.save(os.path.join(args.out, "calib_100.npy"), np.ascontiguousarray(train_x[:100]))
    np.save(os.path.join(args.out, "eval_2000.npy"), np.ascontiguousarray(test_x[:2000]))
    np.save(os.path.join(args.out, "eval_labels_2000.npy"), np.ascontiguousarray(test_y[:2000]))

    acc_path = os.path.join(args.out, "accuracy.json")
    report = json.load(open(acc_path)) if os.path.exists(acc_path) else {}
    report.update({
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist), inputs pixel / 255",
        "eval_images": "the first 2000 test images (eval_2000.npy)",
        "torch": torch.__version__, "onnx": onnx.__version__, "numpy": np.__version__,
        "seed": SEED, "batch": BATCH, "optimizer": "Adam with a one-cycle learning rate",
    })
    report.setdefault("models", {})
    for name in args.models.split(","):
        torch.manual_seed(SEED)
        model = {"cnn": Cnn, "mlp": Mlp, "lstm": Lstm}[name]()
        cache = os.path.expanduser(f"~/.cache/ptq/fashion_mnist/{name}.pt")
        start = time.time()
        if args.reuse_trained:
            model.load_state_dict(torch.load(cache))
            model.eval()
            seconds = report["models"][name]["train_seconds"]
        else:
            train(name, model, train_x, train_y)
            seconds = time.time() - start
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            torch.save(model.state_dict(), cache)
        logits = logits_of(model, name, test_x)
        top1 = logits.argmax(1) == test_y
        np.save(os.path.join(args.out, f"{name}_logits_2000.npy"), np.ascontiguousarray(logits[:2000].astype(np.float32)))
        onnx_path = os.path.join(args.out, f"{name}.onnx")
        ops = export(name, model, onnx_path)
        # The file, evaluated with NumPy (float64 accumulation in places, so not bit-exact), must give
        # torch's top-1 on the 2000 eval images and logits within a small tolerance.
        eval_x = test_x[:2000].reshape(-1, 28, 28) if name == "lstm" else test_x[:2000]
        check = np.concatenate([run_onnx_with_numpy(onnx_path, eval_x[i:i + 250]) for i in range(0, 2000, 250)], 0)
        max_diff = float(np.abs(check - logits[:2000]).max())
        same_top1 = int((check.argmax(1) == logits[:2000].argmax(1)).sum())
        print(f"{name}: the ONNX file evaluated with NumPy: max |logit difference| {max_diff:.2e}, "
              f"top-1 agrees on {same_top1}/2000", flush=True)
        assert max_diff < 1e-3 and same_top1 == 2000
        report["models"][name] = {
            "epochs": EPOCHS[name], "learning_rate": LR[name], "train_seconds": round(seconds),
            "parameters": sum(p.numel() for p in model.parameters()),
            "top1_eval_2000": {"correct": int(top1[:2000].sum()), "percent": round(100 * float(top1[:2000].mean()), 2)},
            "top1_test_10000": {"correct": int(top1.sum()), "percent": round(100 * float(top1.mean()), 2)},
            "onnx_ops": ops,
            "onnx_vs_torch_max_abs_logit_diff_numpy": max_diff,
        }
        print(name, json.dumps(report["models"][name]), flush=True)
        with open(acc_path, "w") as f:
            json.dump(report, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
