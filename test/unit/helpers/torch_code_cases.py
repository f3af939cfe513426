"""Build TorchScript modules for every device pattern, save them, and print ground truth.

Usage: python torch_code_cases.py OUTPUT_DIR

Each case is saved as OUTPUT_DIR/<case>.pt. Standard output is one JSON object:

  {"torch": "<version>", "cases": [{
     "name": case name,
     "archive": path of the saved archive,
     "records": [{"name": "code/...py", "base64": raw bytes of the record}],
     "expectedSites": site keys read from the method graphs (see below),
     "inlinedDevices": distinct Device constants of forward's inlined_graph,
     "tensorConstants": number of tensors in constants.pkl (CONSTANTS.c0 ...),
     "pinned": whether the case is built to contain pinned devices}]}

The code records are read back from the saved zip, so they are exactly the bytes
that land in the archive. The method graphs come from torch.jit.load of that
archive: one graph per method of each distinct class type, which is how the
code printer writes them (one definition per method, calls to other methods
kept as calls). A site key is
  "<device>"              a Device constant or a device inside a tuple constant
                          (counted once per use, because the printer writes a
                          constant inline at each use), aten::device of constant
                          arguments, a Device parameter default, or a Final
                          Device module constant (printed in the class body);
  "<type>@<attribute>"    aten::device("cuda", self.rank): the index comes from
                          an attribute;
  "@<attribute path>"     aten::device(self.dev_str): the device comes from an
                          attribute (path relative to self, such as sub.dev_str);
  "move:<cuda|cpu>"       aten::cuda(x) or aten::cpu(x).
aten::device of a parameter or of a runtime value gives no key.
"""

import base64
import json
import os
import pickle
import sys
import warnings
import zipfile
from typing import Final, List, NamedTuple, get_type_hints

import torch
from torch import Tensor, nn


# ---------------------------------------------------------------------------
# Modules, one per pattern.


class TracedFactories(nn.Module):
    """Factory ops and casts that a trace pins to the device of its example input."""

    def __init__(self, with_tensor_constant: bool):
        super().__init__()
        # torch.tensor becomes a tensor constant; PyTorch cannot load one that lives on meta.
        self.with_tensor_constant = with_tensor_constant

    def forward(self, x: Tensor):
        d = x.device
        outputs = [
            torch.ones(2, device=d),
            torch.zeros(2, device=d),
            torch.empty(2, device=d),
            torch.full((2,), 1.5, device=d),
            torch.arange(0, 4, device=d),
            torch.rand(2, device=d),
            torch.randn(2, device=d),
            torch.randint(0, 5, (2,), device=d),
            torch.eye(2, device=d),
            torch.linspace(0, 1, 2, device=d),
            x.new_zeros(2, device=d),
            x.new_ones(2, device=d),
            x.new_full((2,), 3.0, device=d),
            x.new_empty(2, device=d),
            torch.zeros_like(x, device=d),
            torch.ones_like(x, device=d),
            torch.empty_like(x, device=d),
            torch.full_like(x, 2.0, device=d),
            torch.rand_like(x, device=d),
            torch.randn_like(x, device=d),
            torch.randint_like(x, 3, device=d),
            x.to(d),
            x.to(device=d, dtype=torch.float64),
            x.cpu() if d.type == "cpu" else x.to(d, torch.float16),
        ]
        if self.with_tensor_constant:
            outputs.append(torch.tensor([1.0, 2.0], device=d))
        return tuple(outputs)


class ScriptedSub(nn.Module):
    # A Final device is a module constant: the printer writes it in the class body and
    # inline at each use.
    home: Final[torch.device]

    def __init__(self):
        super().__init__()
        self.dev_str = "cuda:5"
        self.home = torch.device("cuda", 7)

    def forward(self, x: Tensor) -> Tensor:
        return x.to(torch.device("cuda:6")) + x.to(self.home) * x.to(self.home)


class ScriptedDevices(nn.Module):
    """Every way scripted code can name a device."""

    def __init__(self):
        super().__init__()
        self.dev_str = "cuda:3"
        self.rank = 1
        self.kind = "cuda"
        self.sub = ScriptedSub()

    def forward(self, x: Tensor, flag: bool, device: torch.device = torch.device("cuda:1")):
        a = torch.ones(2, device="cuda")
        b = torch.zeros(2, device=torch.device("cuda", 1))
        c = x.to(torch.device(self.dev_str))
        d = x.to(torch.device("cuda:2"))
        e = x.to(device="cuda:1", dtype=torch.float16)
        devs = [torch.device("cuda:0"), torch.device("cuda:1")]
        pair = (torch.device("cpu"), torch.device("meta"))
        f = x.cuda()
        g = x.cpu()
        two = torch.device("cuda", 2)
        h = torch.ones(3, device=two) + torch.zeros(3, device=two)
        i = x.to(torch.device("cuda", self.rank))
        j = x.to(torch.device(self.kind, 0))
        k = x.to(torch.device(self.sub.dev_str))
        if flag:
            m = torch.empty(1, device=torch.device("xpu:1"))
        else:
            m = torch.empty(1, device="mps")
        for _ in range(2):
            m = m + torch.ones(1, device=torch.device("cuda:4"))
        n = self.sub(x)
        o = x.to(device)
        return a, b, c, d, e, devs, pair, f, g, h, i, j, k, m, n, o


class Inner(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x + torch.ones(1, device=x.device)


class OtherInner(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return torch.arange(0, x.shape[0], device=x.device).to(x.dtype) + x


class Nested(nn.Module):
    """Two instances of one submodule type (one code definition) plus another type."""

    def __init__(self):
        super().__init__()
        self.first = Inner()
        self.second = Inner()
        self.other = nn.Sequential(OtherInner(), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return self.other(self.second(self.first(x)))


class Recurrent(nn.Module):
    """RNNs traced without hx: the default hidden state is created on the trace device."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, 2)
        self.gru = nn.GRU(4, 8)

    def forward(self, x: Tensor):
        return self.lstm(x)[0], self.gru(x)[0]


class FreezeTarget(nn.Module):
    def __init__(self):
        super().__init__()
        self.dev_str = "cuda:3"
        self.linear = nn.Linear(2, 2)

    def forward(self, x: Tensor):
        y = self.linear(x)
        return y.to(torch.device(self.dev_str)), torch.ones(2, device=torch.device(self.dev_str))


class NotPinned(nn.Module):
    """Device expressions that come from inputs at run time."""

    def forward(self, x: Tensor, dev: str, target: torch.device):
        a = torch.empty(2, device=x.device)
        b = torch.zeros(2, device=None)
        c = x.to(torch.float64)
        d = x.to(torch.device(dev))
        e = torch.ones(2, device=target)
        f = x.to(dtype=torch.float16)
        source = x.device
        g = torch.zeros_like(x, device=source)
        return a, b, c, d, e, f, g


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.linear(x)) * 2 + x.sum()


class NonAscii(nn.Module):
    """A non-ASCII attribute name puts UTF-8 text before the device literals."""

    def __init__(self):
        super().__init__()
        setattr(self, "d\u00e9j\u00e0_vu", "cpu")
        setattr(self, "\u8a2d\u5099", "cuda")
        setattr(self, "dev\U0001F600", "cuda")

    def forward(self, x: Tensor) -> Tensor:
        return x.to(torch.device("cuda:1")) + torch.ones(1, device="cpu")


class Case(NamedTuple):
    name: str
    module: torch.jit.ScriptModule
    # The eager module it came from: the loaded archive does not list module constants.
    eager: nn.Module
    pinned: bool


def build_cases() -> List[Case]:
    cases: List[Case] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        eager = TracedFactories(True)
        cases.append(Case("traced-factories-cpu", torch.jit.trace(eager, torch.ones(2), check_trace=False), eager, True))
        eager = TracedFactories(False)
        meta_input = torch.ones(2, device="meta")
        cases.append(Case("traced-factories-meta", torch.jit.trace(eager, meta_input, check_trace=False), eager, True))
        eager = ScriptedDevices()
        cases.append(Case("scripted-devices", torch.jit.script(eager), eager, True))
        eager = Nested()
        cases.append(Case("traced-nested", torch.jit.trace(eager, torch.ones(3)), eager, True))
        eager = Nested()
        cases.append(Case("scripted-nested", torch.jit.script(eager), eager, False))
        eager = Recurrent()
        cases.append(Case("traced-rnn-without-hx", torch.jit.trace(eager, torch.ones(3, 2, 4)), eager, True))
        eager = FreezeTarget()
        cases.append(Case("frozen", torch.jit.freeze(torch.jit.script(eager).eval()), eager, True))
        eager = NotPinned()
        cases.append(Case("scripted-not-pinned", torch.jit.script(eager), eager, False))
        eager = Plain()
        cases.append(Case("traced-not-pinned", torch.jit.trace(eager, torch.ones(4, 3)), eager, False))
        eager = NonAscii()
        cases.append(Case("scripted-non-ascii", torch.jit.script(eager), eager, True))
    return cases


# ---------------------------------------------------------------------------
# Ground truth from the loaded archive.


def devices_in(value) -> List[str]:
    """Return the devices inside a constant value, recursing into tuples and lists."""
    if isinstance(value, torch.device):
        return [str(value)]
    if isinstance(value, (tuple, list)):
        found: List[str] = []
        for item in value:
            found.extend(devices_in(item))
        return found
    return []


def attribute_path(value, self_value) -> str:
    """Return 'a.b' for a chain of prim::GetAttr nodes rooted at self, or '' otherwise."""
    names: List[str] = []
    while True:
        node = value.node()
        if node.kind() != "prim::GetAttr":
            break
        names.append(node.s("name"))
        value = node.input()
    if value is not self_value or not names:
        return ""
    return ".".join(reversed(names))


def constant_value(value):
    node = value.node()
    if node.kind() != "prim::Constant":
        return None
    return value.toIValue()


def keys_of_device_call(node, self_value) -> List[str]:
    """Return the site key of one aten::device node, or nothing for a runtime device."""
    inputs = list(node.inputs())
    first = constant_value(inputs[0])
    if isinstance(first, str):
        if len(inputs) == 1:
            return [first]
        index = constant_value(inputs[1])
        if isinstance(index, int):
            return [first if index < 0 else f"{first}:{index}"]
        path = attribute_path(inputs[1], self_value)
        return [f"{first}@{path}"] if path else []
    path = attribute_path(inputs[0], self_value)
    return [f"@{path}"] if path else []


def collect_graph_keys(block, self_value, keys: List[str]) -> None:
    for node in block.nodes():
        kind = node.kind()
        if kind == "prim::Constant":
            output = node.output()
            if output.type().kind() in ("DeviceObjType", "TupleType", "ListType"):
                devices = devices_in(output.toIValue())
                keys.extend(devices * len(output.uses()))
        elif kind == "aten::device":
            keys.extend(keys_of_device_call(node, self_value))
        elif kind in ("aten::cuda", "aten::cpu"):
            keys.append("move:" + kind.split("::")[1])
        for inner in node.blocks():
            collect_graph_keys(inner, self_value, keys)


def final_names(eager_module: nn.Module) -> List[str]:
    """Return the names of an eager module's constants (Final annotations and __constants__)."""
    names = list(getattr(eager_module, "__constants__", []))
    for name, hint in get_type_hints(type(eager_module)).items():
        if getattr(hint, "__origin__", None) is Final or hint is Final:
            names.append(name)
    return names


def expected_site_keys(loaded, eager: nn.Module, frozen: bool) -> List[str]:
    keys: List[str] = []
    seen_types = set()
    eager_modules = dict(eager.named_modules())
    for path, module in loaded.named_modules():
        type_name = module._c._type().qualified_name()
        if type_name in seen_types:
            continue
        seen_types.add(type_name)
        # Freezing inlines module constants into forward, so the class body no longer lists them.
        if not frozen and path in eager_modules:
            for name in final_names(eager_modules[path]):
                if module._c.hasattr(name):
                    keys.extend(devices_in(module._c.getattr(name)))
        for method_name in module._c._method_names():
            method = module._c._get_method(method_name)
            graph = method.graph
            self_value = next(graph.inputs())
            collect_graph_keys(graph, self_value, keys)
            for argument in method.schema.arguments:
                if argument.has_default_value():
                    keys.extend(devices_in(argument.default_value))
    return sorted(keys)


def inlined_devices(loaded) -> List[str]:
    found = set()

    def visit(block) -> None:
        for node in block.nodes():
            if node.kind() == "prim::Constant" and node.output().type().kind() in ("DeviceObjType", "TupleType", "ListType"):
                found.update(devices_in(node.output().toIValue()))
            for inner in node.blocks():
                visit(inner)

    visit(loaded.inlined_graph)
    return sorted(found)


def code_records(path: str):
    records = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            inner = name.split("/", 1)[1]
            if inner.startswith("code/") and inner.endswith(".py"):
                data = archive.read(name)
                records.append({"name": inner, "base64": base64.b64encode(data).decode("ascii")})
    return records


class _Placeholder:
    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


class _ConstantsUnpickler(pickle.Unpickler):
    """Reads the shape of constants.pkl without rebuilding tensors or storages."""

    def persistent_load(self, pid):
        return None

    def find_class(self, module, name):
        return _Placeholder


def tensor_constant_count(path: str) -> int:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.split("/", 1)[1] == "constants.pkl")
        with archive.open(name) as stream:
            return len(_ConstantsUnpickler(stream).load())


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: torch_code_cases.py OUTPUT_DIR")
    output_dir = sys.argv[1]
    os.makedirs(output_dir, exist_ok=True)

    results = []
    for case in build_cases():
        path = os.path.join(output_dir, case.name + ".pt")
        torch.jit.save(case.module, path)
        loaded = torch.jit.load(path)
        results.append({
            "name": case.name,
            "archive": path,
            "records": code_records(path),
            "expectedSites": expected_site_keys(loaded, case.eager, frozen=case.name == "frozen"),
            "inlinedDevices": inlined_devices(loaded),
            "tensorConstants": tensor_constant_count(path),
            "pinned": case.pinned,
        })

    json.dump({"torch": torch.__version__, "cases": results}, sys.stdout)


if __name__ == "__main__":
    main()
