"""Build the README's example model: a small text classifier traced on CPU.

Usage: .venv/bin/python scripts/make-bundled-model.py [OUT_DIR]   (default: models)

Writes OUT_DIR/traced-on-cpu.pt and its example input OUT_DIR/traced-on-cpu.input.pt
(a tuple with one int64 tensor of token ids, shape [2, 12]). The forward creates
`torch.arange(..., device=tokens.device)` and `torch.zeros(..., device=tokens.device)`
and runs an nn.LSTM without an initial hidden state, so tracing on CPU writes four
`torch.device("cpu")` constants into the code. The script checks the problem the
model demonstrates: it runs on CPU, but loaded with `map_location="meta"` its
forward fails on meta inputs, because those constants still create CPU tensors.

Deterministic: fixed seed, and the archive is written by torch.jit.save after a
reload, so its .debug_pkl records point into the archive's own code rather than
into the Python files (and paths) of the machine that built it.
"""

import argparse
import io
import sys
import warnings
import zipfile
from pathlib import Path

import torch
from torch import nn

VOCABULARY_SIZE = 64
MAX_LENGTH = 32
PADDING_TOKEN = 0


class TinyTextClassifier(nn.Module):
    """Token ids [batch, length] to class scores [batch, 4], ignoring padding tokens."""

    def __init__(self, embedding_dim: int = 16, hidden_size: int = 32, classes: int = 4):
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY_SIZE, embedding_dim, padding_idx=PADDING_TOKEN)
        self.position = nn.Embedding(MAX_LENGTH, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        hidden = self.embedding(tokens) + self.position(positions)
        outputs, _ = self.lstm(hidden)
        mask = (tokens != PADDING_TOKEN).float().unsqueeze(-1)
        pooled = (outputs * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        bias = torch.zeros(tokens.shape[0], self.head.out_features, device=tokens.device)
        return self.head(pooled) + bias


def example_tokens() -> torch.Tensor:
    generator = torch.Generator().manual_seed(7)
    tokens = torch.randint(1, VOCABULARY_SIZE, (2, 12), generator=generator)
    tokens[1, 9:] = PADDING_TOKEN
    return tokens


def without_debug_records(archive: bytes) -> bytes:
    """Copy a TorchScript archive without its .debug_pkl records (PyTorch loads it all the same)."""
    copy = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(copy, "w") as target:
        for info in source.infolist():
            if not info.filename.endswith(".debug_pkl"):
                target.writestr(info, source.read(info))
    return copy.getvalue()


def build(out_dir: Path) -> tuple[Path, Path]:
    torch.manual_seed(0)
    model = TinyTextClassifier().eval()
    tokens = example_tokens()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, (tokens,))

    # The tracer records the Python call stack (absolute file names) in .debug_pkl.
    # Saving, dropping those records and saving again after a reload leaves
    # source ranges that point into the archive's own code.
    first = io.BytesIO()
    torch.jit.save(traced, first)
    reloaded = torch.jit.load(io.BytesIO(without_debug_records(first.getvalue())))

    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "traced-on-cpu.pt"
    input_path = out_dir / "traced-on-cpu.input.pt"
    torch.jit.save(reloaded, str(model_path))
    torch.save((tokens,), str(input_path))
    return model_path, input_path


def check(model_path: Path, input_path: Path) -> None:
    """Raise unless the model runs on CPU and fails on meta because of its CPU constants."""
    (tokens,) = torch.load(str(input_path), weights_only=True)
    torch.manual_seed(0)
    eager = TinyTextClassifier().eval()

    loaded = torch.jit.load(str(model_path))
    with torch.no_grad():
        scores = loaded(tokens)
        if not torch.allclose(scores, eager(tokens)):
            raise RuntimeError(f"{model_path}: outputs on CPU differ from the eager model's")

    code = "\n".join(module.code for module in (loaded, loaded.lstm))
    literal_count = code.count('torch.device("cpu")')
    if literal_count != 4:
        raise RuntimeError(f'{model_path}: expected 4 torch.device("cpu") constants in the code, found {literal_count}')

    with zipfile.ZipFile(model_path) as archive:
        for info in archive.infolist():
            content = archive.read(info)
            if b"site-packages" in content or str(Path.cwd()).encode() in content:
                raise RuntimeError(f"{model_path}: record {info.filename} contains a path of this machine")

    # map_location puts every parameter on meta, as map_location="cuda" would on a GPU.
    # NOTE: ScriptModule.to("meta") raises "param must be a Parameter" for this
    # model's LSTM in torch 2.13, so the check loads with map_location instead.
    on_meta = torch.jit.load(str(model_path), map_location="meta")
    try:
        with torch.no_grad():
            on_meta(tokens.to("meta"))
    except RuntimeError as error:
        last_line = str(error).strip().splitlines()[-1]
        print(f"as expected, forward on meta inputs fails: {last_line}", file=sys.stderr)
    else:
        raise RuntimeError(f"{model_path}: forward on meta inputs was expected to fail")


def main() -> int:
    parser = argparse.ArgumentParser(description="Build the example model traced on CPU.")
    parser.add_argument("out_dir", nargs="?", type=Path, default=Path("models"), help="output folder (default: models)")
    args = parser.parse_args()
    model_path, input_path = build(args.out_dir)
    check(model_path, input_path)
    print(f"wrote {model_path} ({model_path.stat().st_size} bytes) and {input_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
