"""Time torch.jit.load, and torch.jit.load followed by torch.jit.save, on one archive.

Usage:
  time_torch.py load ARCHIVE [--repeat N]
  time_torch.py resave ARCHIVE OUT

Timing starts after `import torch`, so interpreter and library start-up are
excluded. The last line of stdout is a JSON object: `load` prints `load_ms`
(one entry per repetition, the first with whatever page cache state the caller
left), `resave` prints `resave_ms`. Both print `peak_rss_mb`, the process's
maximum resident set size in MiB, which includes the memory of `import torch`.
"""

import argparse
import gc
import json
import resource
import sys
import time

import torch


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def peak_rss_mb() -> float:
    # On Linux ru_maxrss is in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_load(archive: str, repeat: int) -> dict:
    load_ms = []
    for _ in range(repeat):
        started = time.perf_counter()
        module = torch.jit.load(archive)
        load_ms.append(elapsed_ms(started))

        # Free the module's tensors before the next load, so that at most one copy is resident.
        del module
        gc.collect()
    return {"load_ms": load_ms, "peak_rss_mb": peak_rss_mb()}


def time_resave(archive: str, out: str) -> dict:
    started = time.perf_counter()
    module = torch.jit.load(archive)
    torch.jit.save(module, out)
    return {"resave_ms": elapsed_ms(started), "peak_rss_mb": peak_rss_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    load = commands.add_parser("load", help="time torch.jit.load")
    load.add_argument("archive")
    load.add_argument("--repeat", type=int, default=1, help="number of loads in this process (default 1)")

    resave = commands.add_parser("resave", help="time torch.jit.load followed by torch.jit.save")
    resave.add_argument("archive")
    resave.add_argument("out", help="path of the archive to write")

    args = parser.parse_args()
    if args.command == "load":
        if args.repeat < 1:
            parser.error(f"--repeat must be at least 1, got {args.repeat}")
        result = time_load(args.archive, args.repeat)
    else:
        result = time_resave(args.archive, args.out)

    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
