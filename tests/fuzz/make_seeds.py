#!/usr/bin/env python3
"""Writes seed corpora for the llm fuzzers: OUT/model (tiny llama2.c checkpoints: shared and
separate classifiers, grouped-query attention) and OUT/tokenizer (2-byte vocabulary size + a
tokenizer file). Usage: python3 tests/fuzz/make_seeds.py build/fuzz/corpus"""
import os
import random
import struct
import sys


def model(dim, hidden, layers, heads, kv_heads, vocab, seq_len, shared=True, seed=0):
    rnd = random.Random(seed)
    hs = dim // heads
    kv_dim = kv_heads * hs
    counts = [vocab * dim, layers * dim, layers * dim * dim, layers * dim * kv_dim,
              layers * dim * kv_dim, layers * dim * dim, layers * dim, layers * dim * hidden,
              layers * hidden * dim, layers * dim * hidden, dim, seq_len * hs // 2,
              seq_len * hs // 2]
    if not shared:
        counts.append(vocab * dim)
    n = sum(counts)
    head = struct.pack('<7i', dim, hidden, layers, heads, kv_heads, vocab if shared else -vocab,
                       seq_len)
    return head + struct.pack('<%df' % n, *[rnd.uniform(-1, 1) for _ in range(n)])


def tokenizer(tokens, max_len=None):
    max_len = max_len or max(1, max(len(t) for t, _ in tokens))
    out = struct.pack('<i', max_len)
    for t, score in tokens:
        out += struct.pack('<fi', score, len(t)) + t
    return out


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'build/fuzz/corpus'
    os.makedirs(os.path.join(out, 'model'), exist_ok=True)
    os.makedirs(os.path.join(out, 'tokenizer'), exist_ok=True)
    models = {
        'shared': model(8, 12, 1, 2, 2, 6, 4),
        'separate': model(8, 12, 2, 2, 2, 5, 3, shared=False, seed=1),
        'gqa': model(16, 20, 1, 4, 2, 7, 5, seed=2),
        'mqa': model(8, 8, 1, 4, 1, 4, 2, shared=False, seed=3),
    }
    for name, data in models.items():
        with open(os.path.join(out, 'model', name), 'wb') as f:
            f.write(data)
    # A small vocabulary with special tokens, byte tokens and merges.
    toks = [(b'<unk>', 0.0), (b'\n<s>\n', 0.0), (b'\n</s>\n', 0.0)]
    toks += [(b'<0x%02X>' % i, 0.0) for i in range(256)]
    for i, w in enumerate([b' ', b'e', b'h', b'l', b'o', b'he', b'll', b'hell', b'hello',
                           b' hello', b'\xc3\xa9', b'w', b'r', b'd', b' w', b'or', b'orld']):
        toks.append((w, -float(i)))
    seeds = {
        'bytes': toks,
        'tiny': [(b'a', 0.0), (b'b', -1.0), (b'ab', 1.0), (b' ', 0.0), (b'', 0.0)],
        'nul': [(b'<0x4', 0.0), (b'x\x00y', 0.0), (b' x', 2.0), (b'<0x41>', 0.0)],
    }
    for name, tk in seeds.items():
        with open(os.path.join(out, 'tokenizer', name), 'wb') as f:
            f.write(struct.pack('<H', len(tk)) + tokenizer(tk))


if __name__ == '__main__':
    main()
