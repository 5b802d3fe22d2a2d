#!/usr/bin/env python3
"""Writes a deterministic synthetic llama2.c model for the default image (and benchmark shapes).

  python3 image/gen-model.py OUTDIR [--shape tiny|15M|110M] [--seed N]

OUTDIR/MODEL.BIN: a llama2.c legacy checkpoint (7 x int32 header, fp32 tensors in run.c's order,
shared classifier); OUTDIR/TOKENIZ.BIN: a matching tokenizer.bin (<unk>, <s>, </s>, the byte tokens
<0x00>..<0xFF>, printable ASCII characters, then merged pieces from an embedded English word
list: every prefix of "word" and " word", scored so longer pieces merge first).

Weights come from a fixed-seed xorshift64* generator: a pool of uniform values is generated once
per scale (1/sqrt(fan_in), so activations stay finite) and each tensor is written as 4096-value
windows of that pool at pseudo-random offsets. That keeps the 110M file (~440 MB) fast to write,
streaming, without numpy. Same arguments, same bytes.
"""
import argparse
import array
import math
import os
import struct
import sys

SHAPES = {
    # dim, hidden, layers, heads, kv_heads, vocab (None: the tokenizer's size), seq_len
    "tiny": (64, 172, 2, 4, 2, None, 128),
    "15M": (288, 768, 6, 6, 6, 32000, 256),
    "110M": (768, 2048, 12, 12, 12, 32000, 1024),
}

WORDS = """the a an and of to in is was it he she they we you i that for on with as at by from
his her their our this there then when what which who one two three once upon time day night
little big small old new good bad happy sad robot robots dream dreams machine light dark sky sun
moon star stars tree trees house girl boy cat dog bird friend friends play played run ran said
saw see went go come came look looked find found love loved want wanted help helped like liked
very so but not no yes all some every more most other into out up down over under after before
story world city river forest door window voice heart mind memory secret secrets whisper whispers
quiet loud soft warm cold red blue green white black gold silver metal wire spark code think
thought learn learned know knew""".split()

MASK = (1 << 64) - 1


class Rng:
    """xorshift64* (deterministic, seedable)."""

    def __init__(self, seed):
        self.s = (seed * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) & MASK or 1

    def next(self):
        s = self.s
        s ^= s >> 12
        s ^= (s << 25) & MASK
        s ^= s >> 27
        self.s = s
        return (s * 0x2545F4914F6CDD1D) & MASK

    def uniform(self):  # [-1, 1)
        return (self.next() >> 11) * (2.0 / (1 << 53)) - 1.0


def build_vocab():
    pieces = ["<unk>", "\n<s>\n", "\n</s>\n"] + ["<0x%02X>" % b for b in range(256)]
    seen = set(pieces)
    scores = [0.0] * len(pieces)

    def add(p, score):
        if p not in seen:
            seen.add(p)
            pieces.append(p)
            scores.append(score)

    for c in range(32, 127):
        add(chr(c), -1000.0)
    for w in WORDS:
        for form in (" " + w, w):
            for n in range(2, len(form) + 1):
                add(form[:n], float(n) - 100.0 + len(form) / 100.0)
    return pieces, scores


def write_tokenizer(path, pieces, scores):
    data = [p.encode("utf-8") for p in pieces]
    with open(path, "wb") as f:
        f.write(struct.pack("<i", max(len(d) for d in data)))
        for d, s in zip(data, scores):
            f.write(struct.pack("<fi", s, len(d)))
            f.write(d)


CHUNK = 4096
POOL = 1 << 17


class Writer:
    def __init__(self, f, rng):
        self.f, self.rng, self.pools = f, rng, {}

    def pool(self, scale):
        if scale not in self.pools:
            a = array.array("f", (self.rng.uniform() * scale for _ in range(POOL + CHUNK)))
            if sys.byteorder != "little":
                a.byteswap()
            self.pools[scale] = a.tobytes()
        return self.pools[scale]

    def random(self, n, scale):
        p = self.pool(scale)
        while n > 0:
            k = min(n, CHUNK)
            off = (self.rng.next() >> 20) % POOL
            self.f.write(p[off * 4:(off + k) * 4])
            n -= k

    def const(self, n, value):
        block = struct.pack("<f", value) * CHUNK
        while n > 0:
            k = min(n, CHUNK)
            self.f.write(block[:k * 4])
            n -= k

    def values(self, vals):
        a = array.array("f", vals)
        if sys.byteorder != "little":
            a.byteswap()
        self.f.write(a.tobytes())


def write_model(path, shape, vocab, seed):
    dim, hidden, layers, heads, kv_heads, _, seq = shape
    hs = dim // heads
    kv_dim = kv_heads * hs
    with open(path, "wb") as f:
        f.write(struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab, seq))
        w = Writer(f, Rng(seed))
        sd, sh = 1.0 / math.sqrt(dim), 1.0 / math.sqrt(hidden)
        w.random(vocab * dim, 0.05)           # token_embedding_table (small: layers dominate)
        w.const(layers * dim, 1.0)            # rms_att_weight
        w.random(layers * dim * dim, sd)      # wq
        w.random(layers * kv_dim * dim, sd)   # wk
        w.random(layers * kv_dim * dim, sd)   # wv
        w.random(layers * dim * dim, sd)      # wo
        w.const(layers * dim, 1.0)            # rms_ffn_weight
        w.random(layers * hidden * dim, sd)   # w1
        w.random(layers * dim * hidden, sh)   # w2
        w.random(layers * hidden * dim, sd)   # w3
        w.const(dim, 1.0)                     # rms_final_weight
        freqs = [1.0 / (10000.0 ** (2 * i / hs)) for i in range(hs // 2)]
        w.values(math.cos(p * fr) for p in range(seq) for fr in freqs)  # freq_cis_real (unused)
        w.values(math.sin(p * fr) for p in range(seq) for fr in freqs)  # freq_cis_imag (unused)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    ap.add_argument("--seed", type=int, default=20261122)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    shape = SHAPES[a.shape]
    pieces, scores = build_vocab()
    vocab = shape[5] or len(pieces)
    if vocab > len(pieces):  # benchmark shapes: pad with unique filler pieces
        scores += [-2000.0] * (vocab - len(pieces))
        pieces += ["<pad%d>" % i for i in range(vocab - len(pieces))]
    write_tokenizer(os.path.join(a.outdir, "TOKENIZ.BIN"), pieces, scores)
    write_model(os.path.join(a.outdir, "MODEL.BIN"), shape, vocab, a.seed)
    print("gen-model: %s: MODEL.BIN (%s, vocab %d, %d bytes), TOKENIZ.BIN" % (
        a.outdir, a.shape, vocab, os.path.getsize(os.path.join(a.outdir, "MODEL.BIN"))))


if __name__ == "__main__":
    main()
