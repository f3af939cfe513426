"""Save a module traced on CPU whose forward builds a tensor with `device=x.device`.

The trace records the example input's device as a constant, so the saved code contains
`torch.ones(..., device=torch.device("cpu"), ...)` and the model keeps creating that
tensor on the CPU wherever it is moved.

Usage: python trace_on_cpu.py OUTPUT.pt
"""

import sys

import torch


class OnesLikeInput(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.ones(x.shape, device=x.device)


def main() -> None:
    traced = torch.jit.trace(OnesLikeInput(), torch.rand(2, 3))
    torch.jit.save(traced, sys.argv[1])


if __name__ == "__main__":
    main()
