#!/usr/bin/python3
"""Train a tiny Vision Transformer on scikit-learn's 8x8 digits and export it for vitc.

Usage
-----
    /usr/bin/python3 tools/train_digits.py [--out examples/digits] [--epochs N] [--seed S]

Runs on the CPU with one thread; the default 60 epochs take about 1.5 minutes
(torch 1.13 from Debian uses the reference BLAS, hence the small model).
Only Debian packages are needed: python3-torch 1.13, python3-sklearn (its
bundled copy of the UCI digits: 1797 images, 8x8, values 0..16, no download),
python3-onnx 1.12 and numpy.

The data set is split 80/20, stratified, with a fixed random_state (0, not
--seed), so the held-out set is the same for every run.  --seed only changes
the weight initialisation and the batch order / augmentation.

It writes, under --out:
    digits_vit.onnx            the model (opset 17, input "image" float32
                               [batch,1,8,8], output "logits" [batch,10],
                               dynamic batch) with vitc.* metadata_props:
                               image_size, resize_size, mean, std, color,
                               resize, labels, accuracy, description
    labels.txt                 "0".."9", one per line
    images/<label>_<n>.png     15 held-out images (8-bit greyscale, value
                               round(v*255/16)); n is the index in the
                               held-out split: the first of each class, then
                               the next five in held-out order
    heldout_x.npy              float32 [N,1,8,8]: every held-out image as the
                               image path sees it, (round(v*255/16)/255-0.5)/0.5
    heldout_y.npy              int64 [N] labels
    heldout_torch_logits.npy   float32 [N,10]: torch's logits for heldout_x

Model (timm-style ViT, written out here): Conv2d 2x2/2 patch embedding (16
patches), class token in front, learned position embedding added, 3 pre-norm
blocks (width 32, 4 heads of 8, packed qkv Linear, explicit q*scale @ k^T, softmax,
@ v, proj Linear; MLP 2x with exact GELU), LayerNorm eps 1e-6, final LayerNorm,
Linear head on the class token.

Runs are reproducible: the same --seed gives the same weights, accuracy and
ONNX bytes on one machine.
"""

import argparse
import os
import struct
import sys
import time
import zlib

import numpy as np
import onnx
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)

IMG, PATCH, WIDTH, DEPTH, HEADS, MLP_RATIO, CLASSES, EPS = 8, 2, 32, 3, 4, 2, 10, 1e-6
MEAN, STD = 0.5, 0.5
SPLIT_SEED, TEST_FRACTION = 0, 0.2
N_SAMPLES = 15
LR, BATCH = 5e-3, 64


# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------
class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        scores = (q * self.scale) @ k.transpose(-2, -1)
        probs = scores.softmax(dim=-1)
        y = (probs @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(y)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=EPS)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=EPS)
        self.mlp = Mlp(dim, dim * mlp_ratio)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DigitsViT(nn.Module):
    def __init__(self, img=IMG, patch=PATCH, dim=WIDTH, depth=DEPTH, heads=HEADS,
                 mlp_ratio=MLP_RATIO, classes=CLASSES):
        super().__init__()
        n_patches = (img // patch) ** 2
        self.patch_embed = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + n_patches, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=EPS)
        self.head = nn.Linear(dim, classes)

    def forward(self, image):
        x = self.patch_embed(image).flatten(2).transpose(1, 2)      # [B, 16, D]
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1) + self.pos_embed             # [B, 17, D]
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def to_bytes(v):
    """Digits values 0..16 -> the 8-bit grey level a PNG of the image holds."""
    return np.round(v.astype(np.float64) * 255.0 / 16.0).astype(np.uint8)


def normalise(x01):
    return ((x01 - MEAN) / STD).astype(np.float32)


def shift_batch(x, gen, p=0.5):
    """Move each image, with probability p, by -1..1 pixel in each direction
    (the border is filled with the normalised background, 0 -> -1)."""
    b = x.shape[0]
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), value=(0.0 - MEAN) / STD)
    moved = torch.rand(b, generator=gen) < p
    dy = torch.where(moved, torch.randint(0, 3, (b,), generator=gen), torch.ones(b, dtype=torch.long))
    dx = torch.where(moved, torch.randint(0, 3, (b,), generator=gen), torch.ones(b, dtype=torch.long))
    out = torch.empty_like(x)
    for i in range(b):
        out[i] = padded[i, :, dy[i]:dy[i] + IMG, dx[i]:dx[i] + IMG]
    return out


# ---------------------------------------------------------------------------
# PNG (8-bit greyscale, no PIL needed)
# ---------------------------------------------------------------------------
def write_png_gray(path, pixels):
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))  # filter 0 per row
    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9))
           + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


# ---------------------------------------------------------------------------
def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x))
    return logits, float((logits.argmax(1).numpy() == y).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="examples/digits")
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    digits = load_digits()
    v = digits.images.astype(np.float64)            # [1797, 8, 8], 0..16
    y = digits.target.astype(np.int64)
    idx = np.arange(len(y))
    tr_idx, te_idx = train_test_split(idx, test_size=TEST_FRACTION, stratify=y,
                                      random_state=SPLIT_SEED)
    x_float = normalise(v / 16.0)[:, None]                          # training input
    x_bytes = normalise(to_bytes(v).astype(np.float64) / 255.0)[:, None]  # image path

    x_tr = torch.from_numpy(x_float[tr_idx])
    y_tr = torch.from_numpy(y[tr_idx])
    x_te_float, x_te, y_te = x_float[te_idx], x_bytes[te_idx], y[te_idx]

    model = DigitsViT()
    steps_per_epoch = (len(tr_idx) + BATCH - 1) // BATCH
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=LR, total_steps=args.epochs * steps_per_epoch, pct_start=0.1)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    gen = torch.Generator().manual_seed(args.seed)

    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(tr_idx), generator=gen)
        total = 0.0
        for s in range(steps_per_epoch):
            b = perm[s * BATCH:(s + 1) * BATCH]
            xb = shift_batch(x_tr[b], gen)
            loss = loss_fn(model(xb), y_tr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(b)
        if (epoch + 1) % 10 == 0 or epoch + 1 == args.epochs:
            _, acc = evaluate(model, x_te_float, y_te)
            print(f"epoch {epoch + 1:3d}  loss {total / len(tr_idx):.4f}  held-out acc {acc:.4f}"
                  f"  ({time.time() - t0:.0f} s)", flush=True)
    train_s = time.time() - t0

    model.eval()
    _, acc_float = evaluate(model, x_te_float, y_te)
    logits, acc = evaluate(model, x_te, y_te)
    print(f"trained in {train_s:.1f} s; held-out accuracy {acc:.4f} on the 8-bit images "
          f"({acc_float:.4f} on the float values), N={len(y_te)}")

    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    onnx_path = os.path.join(args.out, "digits_vit.onnx")
    torch.onnx.export(model, torch.from_numpy(x_te[:1]), onnx_path, opset_version=17,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    m = onnx.load(onnx_path)
    props = [
        ("vitc.image_size", str(IMG)),
        ("vitc.resize_size", str(IMG)),
        ("vitc.mean", str(MEAN)),
        ("vitc.std", str(STD)),
        ("vitc.color", "grayscale"),
        ("vitc.resize", "bilinear"),
        ("vitc.labels", "\n".join(str(c) for c in range(CLASSES))),
        ("vitc.accuracy", f"{acc:.4f}"),
        ("vitc.description",
         f"ViT (patch {PATCH}, width {WIDTH}, depth {DEPTH}, {HEADS} heads) trained on "
         f"scikit-learn's 8x8 digits, {len(tr_idx)} train / {len(te_idx)} held-out "
         f"(stratified, random_state={SPLIT_SEED}), seed {args.seed}, {args.epochs} epochs"),
    ]
    del m.metadata_props[:]
    for k, val in props:
        e = m.metadata_props.add()
        e.key, e.value = k, val
    onnx.checker.check_model(m)
    onnx.save(m, onnx_path)

    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("".join(f"{c}\n" for c in range(CLASSES)))

    picks = [int(np.flatnonzero(y_te == c)[0]) for c in range(CLASSES)]
    for i in range(len(y_te)):
        if len(picks) >= N_SAMPLES:
            break
        if i not in picks:
            picks.append(i)
    img_dir = os.path.join(args.out, "images")
    for old in os.listdir(img_dir):
        if old.endswith(".png"):
            os.remove(os.path.join(img_dir, old))
    for i in sorted(picks):
        write_png_gray(os.path.join(img_dir, f"{y_te[i]}_{i:04d}.png"), to_bytes(v[te_idx[i]]))

    np.save(os.path.join(args.out, "heldout_x.npy"), np.ascontiguousarray(x_te, dtype=np.float32))
    np.save(os.path.join(args.out, "heldout_y.npy"), y_te.astype(np.int64))
    np.save(os.path.join(args.out, "heldout_torch_logits.npy"), logits.numpy().astype(np.float32))

    size = os.path.getsize(onnx_path)
    print(f"wrote {onnx_path} ({size} bytes), {len(picks)} images, held-out arrays to {args.out}")
    if size >= 1 << 20:
        sys.exit("error: the ONNX file is not under 1 MiB")


if __name__ == "__main__":
    main()
