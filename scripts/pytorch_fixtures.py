"""PyTorch's own answers for rowseq's model tests: tests/fixtures/pytorch_rnns.safetensors.

For every cell (nn.LSTM, nn.GRU, nn.RNN with tanh), one and two directions, two layers: random
weights, a batch of sequences of unequal lengths padded at the end with garbage, and the logits
that PyTorch computes for it with pack_padded_sequence (the reference semantics of "padding
never changes results") and an nn.Linear head on the last layer's final states (both
directions: h_n[-2], h_n[-1]). Keys: "<cell>_<uni|bi>/<rowseq variable name>" for the weights,
"<cell>_<uni|bi>/x", "/lengths", "/logits". The model test `matches_pytorch_packed_sequences`
loads the weights into rowseq's model and compares the logits.

Run with the venv's python (torch only; the file is written by hand, no safetensors package):
    ~/.cache/rowseq/venv/bin/python scripts/pytorch_fixtures.py
"""
import json
import struct
from pathlib import Path

import torch

F, H, C, LAYERS = 6, 5, 4, 2
LENGTHS = [7, 3, 1, 5]
T = max(LENGTHS)


def case(cell, bidirectional):
    torch.manual_seed(0)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[cell]
    rnn = cls(F, H, num_layers=LAYERS, bidirectional=bidirectional, batch_first=True)
    d = 2 if bidirectional else 1
    head = torch.nn.Linear(d * H, C)
    x = torch.randn(len(LENGTHS), T, F)
    for i, n in enumerate(LENGTHS):
        x[i, n:] = 100.0 + 10.0 * torch.rand(T - n, F)  # garbage: packing never reads it
    lengths = torch.tensor(LENGTHS, dtype=torch.int64)
    with torch.no_grad():
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        _, h = rnn(packed)
        h = h[0] if cell == "lstm" else h
        last = torch.cat([h[-2], h[-1]], 1) if bidirectional else h[-1]
        logits = head(last)
    prefix = f"{cell}_{'bi' if bidirectional else 'uni'}/"
    out = {prefix + f"{cell}.{k}": v for k, v in rnn.state_dict().items()}
    out.update({prefix + f"head.{k}": v for k, v in head.state_dict().items()})
    out.update({prefix + "x": x, prefix + "lengths": lengths, prefix + "logits": logits})
    return out


def write_safetensors(tensors, path):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


tensors = {}
for cell in ["lstm", "gru", "rnn"]:
    for bidirectional in [False, True]:
        tensors.update(case(cell, bidirectional))
root = Path(__file__).resolve().parent.parent
write_safetensors(tensors, root / "tests" / "fixtures" / "pytorch_rnns.safetensors")
print(f"wrote {len(tensors)} tensors (torch {torch.__version__})")
