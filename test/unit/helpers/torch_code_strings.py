"""Print how PyTorch's code printer writes string literals, as JSON.

Output: {"strings": the Python strings, "code": forward code of a scripted module that
returns them as a list, "carriageReturnCode": code of a module that returns "a\\rb",
"carriageReturnLoads": whether that module loads again after torch.jit.save}.
"""

import io
import json
from typing import List

import torch

STRINGS = ["plain", "q\"uote", "apos'x", "back\\slash", "tab\there", "nl\nx", "bell\a", "bs\b", "ff\f", "vt\v",
           "\x01ctl", "\x7f", "cuda:0", "", "h\u00e9", "\\144"]


class Strings(torch.nn.Module):
    def forward(self) -> List[str]:
        # TorchScript compiles this source, so the list repeats STRINGS literally.
        return ["plain", "q\"uote", "apos'x", "back\\slash", "tab\there", "nl\nx", "bell\a", "bs\b", "ff\f", "vt\v",
                "\x01ctl", "\x7f", "cuda:0", "", "h\u00e9", "\\144"]


class CarriageReturn(torch.nn.Module):
    def forward(self) -> str:
        return "a\rb"


def main() -> None:
    strings = torch.jit.script(Strings())
    assert strings() == STRINGS, "Strings.forward must return STRINGS"

    carriage_return = torch.jit.script(CarriageReturn())
    buffer = io.BytesIO()
    torch.jit.save(carriage_return, buffer)
    buffer.seek(0)
    try:
        torch.jit.load(buffer)
        loads = True
    except RuntimeError:
        loads = False

    print(json.dumps({
        "strings": STRINGS,
        "code": strings.code,
        "carriageReturnCode": carriage_return.code,
        "carriageReturnLoads": loads,
    }))


if __name__ == "__main__":
    main()
