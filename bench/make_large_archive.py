"""Write a traced TorchScript archive with large buffers for the benchmarks.

Usage: make_large_archive.py OUT [--total-mib N]

The module contains nine float32 buffers that together take N MiB (default
4608, so the archive exceeds 4 GiB and its central directory needs zip64
offsets).
Its forward creates tensors with `device=x.device`, which tracing records as
`torch.device("cpu")` constants in the code records, the findings `check`
reports. The same script with a small N writes the archive that shows check
time does not grow with the size of the tensor data.
"""

import argparse
import os
import sys
import time

import torch

BUFFER_COUNT = 9
FLOAT32_BYTES = 4


class LargeBuffers(torch.nn.Module):
    def __init__(self, elements_per_buffer: int) -> None:
        super().__init__()
        for index in range(BUFFER_COUNT):
            # torch.empty plus an in-place fill writes each buffer's memory once.
            buffer = torch.empty(elements_per_buffer, dtype=torch.float32)
            buffer.fill_(float(index + 1))
            self.register_buffer(f"weight{index}", buffer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = torch.ones(x.shape, device=x.device)
        offset = torch.zeros(x.shape, dtype=x.dtype, device=x.device)
        y = x * scale + offset
        for index in range(BUFFER_COUNT):
            weight = getattr(self, f"weight{index}")
            y = y + weight[: x.numel()].view(x.shape)
        return y


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="path of the .pt archive to write")
    parser.add_argument(
        "--total-mib",
        type=int,
        default=BUFFER_COUNT * 512,
        help="combined size of the nine buffers in MiB (default 4608)",
    )
    args = parser.parse_args()

    elements_per_buffer = args.total_mib * 1024 * 1024 // (BUFFER_COUNT * FLOAT32_BYTES)
    if elements_per_buffer < 16:
        parser.error(f"--total-mib {args.total_mib} is too small: each buffer needs at least 16 elements")

    started = time.perf_counter()
    module = LargeBuffers(elements_per_buffer)
    traced = torch.jit.trace(module, torch.randn(4, 4))
    torch.jit.save(traced, args.out)

    size = os.path.getsize(args.out)
    print(
        f"wrote {args.out}: {size} bytes, {BUFFER_COUNT} buffers of {elements_per_buffer} float32, "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
