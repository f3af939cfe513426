"""Build the conformance corpus: one real PyTorch archive per device pattern.

Usage: generate_archives.py OUT_DIR

Writes, with the installed torch (the tests use 2.13 on CPU), one archive per
pattern into OUT_DIR, the example inputs and expected outputs next to each
(torch.save of a tuple), and OUT_DIR/manifest.json. For each archive the
manifest records what it demonstrates, its kind, the ground truth as PyTorch
sees it (`oracle.py inspect`), whether the original runs on CPU and on meta
inputs, which retarget devices the tests apply, and notes on the expected
behaviour.

Every archive's ground truth is also written out by hand in this file. The
script stops with an error when PyTorch reports anything else, so a change in
PyTorch's writer shows up here rather than as a puzzling test failure.
Models scripted with CUDA devices are only compiled and saved, never run, so
the corpus builds on a CPU-only torch. Generation is deterministic (fixed seeds)
and takes a few seconds.
"""

import argparse
import collections
import json
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import oracle  # noqa: E402 - lives next to this script

MANIFEST_VERSION = 1


# ---------------------------------------------------------------------------
# Models. Each class is small, and its forward contains the pattern under test.


class OnesLike(nn.Module):
    """The classic trap: `device=x.device` becomes a constant when traced."""

    def forward(self, x):
        return torch.ones(x.shape, device=x.device) + torch.zeros_like(x)


class AddTensorConstant(nn.Module):
    def forward(self, x):
        return x + torch.tensor([1.0, 2.0])


class LstmWithoutHiddenState(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)

    def forward(self, x):
        output, _ = self.lstm(x)
        return output


class PositionBlock(nn.Module):
    def forward(self, x):
        return x + torch.arange(x.shape[-1], device=x.device)


class ScaleBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        scale = torch.full((x.shape[-1],), 0.5, device=x.device)
        return (self.linear(x) * scale).to(device=x.device, dtype=torch.float64)


class NestedBlocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.position = PositionBlock()
        self.body = nn.Sequential(ScaleBlock(), PositionBlock())

    def forward(self, x):
        return self.body(self.position(x))


# A module path other than __main__ puts the blocks' code in a nested record,
# code/__torch__/conformance/blocks.py, as in models built from a package.
for _block in (PositionBlock, ScaleBlock, NestedBlocks):
    _block.__module__ = "conformance.blocks"


class TwoInputs(nn.Module):
    def forward(self, a, b):
        return a * b + torch.full(a.shape, 2.0, device=a.device)


class FrozenLinear(nn.Module):
    device: torch.device

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.device = torch.device("cpu")

    def forward(self, x):
        # The shape comes from the input, so freezing cannot fold this into a constant.
        return self.linear(x) + torch.ones(x.shape, device=self.device)


class MobileConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 4, 3, padding=1)

    def forward(self, x):
        positions = torch.arange(x.shape[-1], device=x.device)
        return self.conv(x) + positions + torch.tensor([0.5])


class CudaPlain(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.device("cuda")) * 2


class CudaIndexed(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ones = torch.ones(x.shape, device=torch.device("cuda:1"))
        return x.to(torch.device("cuda:1")) + ones


class CudaTwoArgument(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        device = torch.device("cuda", 1)
        ones = torch.ones(x.shape, device=device)
        return x.to(device) - ones


class DeviceLists(nn.Module):
    devices: List[torch.device]

    def __init__(self):
        super().__init__()
        self.devices = [torch.device("cuda:0"), torch.device("cuda:1")]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        local = [torch.device("cuda:1"), torch.device("cuda")]
        y = x.to(self.devices[0]) + x.to(self.devices[1])
        return y + x.to(local[0]) * 10 + x.to(local[1]) * 100


class DeviceAttribute(nn.Module):
    device: torch.device

    def __init__(self):
        super().__init__()
        self.device = torch.device("cuda:1")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device) + torch.zeros(x.shape, device=self.device)


class OptionalDeviceAttribute(nn.Module):
    device: Optional[torch.device]

    def __init__(self):
        super().__init__()
        self.device = torch.device("cuda")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        device = self.device
        if device is not None:
            return x.to(device) * 3
        return x


class DeviceStringAttribute(nn.Module):
    device_name: str

    def __init__(self):
        super().__init__()
        self.device_name = "cuda:1"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.device(self.device_name)) + 1


class SharedMemoString(nn.Module):
    """A plain string equal to a device name, pickled next to a List[Device] entry.

    TorchScript's pickler memoizes strings: "cuda:1" is written once for
    `label_before`, and both the device in `devices` and `label_after` refer to
    it with BINGET. A retarget must change the device and keep the labels.
    """

    label_before: str
    devices: List[torch.device]
    label_after: str

    def __init__(self):
        super().__init__()
        self.label_before = "cuda:1"
        self.devices = [torch.device("cuda:1")]
        self.label_after = "cuda:1"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.to(self.devices[0])
        if self.label_before == "cuda:1" and self.label_after == "cuda:1":
            return y * 2
        return y


class MoveByName(nn.Module):
    def forward(self, x: torch.Tensor, use_cuda: bool) -> torch.Tensor:
        if use_cuda:
            return x.cuda() * 2
        return x.cpu() * 2


class NoPinnedDevice(nn.Module):
    """Device-neutral code: every device comes from the input at run time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ones = torch.ones(x.shape, device=x.device)
        zeros = torch.zeros_like(x)
        widened = x.to(torch.float64).to(torch.float32)
        device = torch.device(x.device.type)
        return (ones + zeros + widened).to(device)


# ---------------------------------------------------------------------------
# Archive specifications


@dataclass
class Built:
    """What a builder produced besides the archive itself."""

    inputs: Optional[tuple] = None
    # Outputs the archive must produce on CPU once retargeted to cpu, computed
    # independently of the archive (eager PyTorch or by hand).
    expected_outputs: Any = None


@dataclass
class Expected:
    """The ground truth, written by hand and checked against PyTorch's view."""

    graph_devices: list[str] = field(default_factory=list)
    code_literals: list[tuple[str, str, str]] = field(default_factory=list)  # (record, form, device)
    code_moves: list[tuple[str, str]] = field(default_factory=list)  # (record, op)
    device_calls: list[tuple[str, Optional[str]]] = field(default_factory=list)  # (source, device)
    storage_locations: dict[str, list[str]] = field(default_factory=dict)
    pickle_devices: dict[str, list[str]] = field(default_factory=dict)
    device_attributes: list[tuple[str, str, str, bool]] = field(default_factory=list)  # (path, type, value, used)


@dataclass
class ArchiveSpec:
    name: str
    suffix: str
    kind: str
    demonstrates: str
    build: Callable[[Path], Built]
    expected: Expected
    retarget_devices: list[str]
    runs_on_cpu_after_retarget: bool
    runs_on_meta_after_retarget: bool
    has_tensor_constants: bool = False
    lite_interpreter: bool = False
    notes: list[str] = field(default_factory=list)


def trace(module: nn.Module, *inputs: torch.Tensor) -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        # torch.tensor in forward warns that it becomes a constant: that is the point.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        return torch.jit.trace(module, inputs)


def save_traced(module_class: type, *inputs: torch.Tensor, device: str = "cpu") -> Callable[[Path], Built]:
    def build(path: Path) -> Built:
        torch.manual_seed(0)
        module = module_class().eval()
        moved = tuple(tensor.to(device) for tensor in inputs)
        traced = trace(module.to(device), *moved)
        torch.jit.save(traced, str(path))
        cpu_module = module.to("cpu")
        with torch.no_grad():
            expected = cpu_module(*inputs)
        return Built(inputs=inputs, expected_outputs=expected)

    return build


def save_scripted(module_class: type, inputs: tuple, reference: Callable[..., Any]) -> Callable[[Path], Built]:
    def build(path: Path) -> Built:
        torch.manual_seed(0)
        torch.jit.save(torch.jit.script(module_class()), str(path))
        return Built(inputs=inputs, expected_outputs=reference(*inputs))

    return build


def build_frozen(path: Path) -> Built:
    torch.manual_seed(0)
    module = FrozenLinear().eval()
    frozen = torch.jit.freeze(torch.jit.script(module))
    torch.jit.save(frozen, str(path))
    x = torch.rand(2, 4)
    with torch.no_grad():
        expected = module(x)
    return Built(inputs=(x,), expected_outputs=expected)


def build_mobile(path: Path) -> Built:
    torch.manual_seed(0)
    module = MobileConv().eval()
    x = torch.rand(1, 2, 6)
    traced = trace(module, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        traced._save_for_lite_interpreter(str(path))
    with torch.no_grad():
        expected = module(x)
    return Built(inputs=(x,), expected_outputs=expected)


def build_checkpoint(path: Path) -> Built:
    torch.manual_seed(0)
    torch.save(nn.Linear(3, 2).state_dict(), str(path))
    return Built()


SEED_INPUT = torch.Generator().manual_seed(1234)


def rand(*shape: int) -> torch.Tensor:
    return torch.rand(*shape, generator=SEED_INPUT)


CODE = "code/__torch__.py"
BLOCKS = "code/__torch__/conformance/blocks.py"
RNN = "code/__torch__/torch/nn/modules/rnn.py"
# Class names PyTorch mangled because a class of the same name was compiled earlier in
# this process; the numbers follow from the order of archive_specs().
MANGLED_1 = "code/__torch__/___torch_mangle_1.py"
BLOCKS_MANGLED_6 = "code/__torch__/conformance/blocks/___torch_mangle_6.py"
FROZEN_MANGLED_15 = "code/__torch__/___torch_mangle_15.py"


def archive_specs() -> list[ArchiveSpec]:
    # Inputs are drawn here, in a fixed order, from one seeded generator.
    x23 = rand(2, 3)
    x234 = rand(2, 3, 4)
    lstm_input = rand(2, 5, 4)
    two_a, two_b = rand(2, 3), rand(2, 3)

    return [
        ArchiveSpec(
            name="classic-traced-cpu",
            suffix=".pt",
            kind="torchscript",
            demonstrates="torch.ones(x.shape, device=x.device) traced on CPU bakes torch.device(\"cpu\") into the code",
            build=save_traced(OnesLike, x23),
            expected=Expected(
                graph_devices=["cpu"],
                code_literals=[(CODE, "literal", "cpu")],
                storage_locations={"traced_inputs.pkl": ["cpu"]},
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=[
                "zeros_like(x) is traced as device=None and is not pinned",
                "torch.jit.trace stores the example inputs in traced_inputs.pkl by default; "
                "PyTorch 2.13 writes their storage records empty",
                "the original fails on meta inputs because the ones tensor is created on cpu",
            ],
        ),
        ArchiveSpec(
            name="classic-traced-meta",
            suffix=".pt",
            kind="torchscript",
            demonstrates="the same model traced on the meta device pins meta, so it fails on CPU inputs",
            build=save_traced(OnesLike, x23, device="meta"),
            expected=Expected(
                graph_devices=["meta"],
                code_literals=[(MANGLED_1, "literal", "meta")],
                storage_locations={"traced_inputs.pkl": ["meta"]},
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=[
                "OnesLike was traced before in this process, so PyTorch mangles the class name "
                "and writes its code to code/__torch__/___torch_mangle_1.py",
            ],
        ),
        ArchiveSpec(
            name="scripted-cuda",
            suffix=".pt",
            kind="torchscript",
            demonstrates="torch.device(\"cuda\") without an index in scripted code",
            build=save_scripted(CudaPlain, (x23,), lambda x: x * 2),
            expected=Expected(graph_devices=["cuda"], code_literals=[(CODE, "literal", "cuda")]),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=["the original fails on a CPU-only torch; retargeted to cpu it runs"],
        ),
        ArchiveSpec(
            name="scripted-cuda-index",
            suffix=".pt",
            kind="torchscript",
            demonstrates="torch.device(\"cuda:1\") pins one card, twice in one method",
            build=save_scripted(CudaIndexed, (x23,), lambda x: x + 1),
            expected=Expected(
                graph_devices=["cuda:1"],
                code_literals=[(CODE, "literal", "cuda:1"), (CODE, "literal", "cuda:1")],
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=["PyTorch pools the two equal constants into one graph constant"],
        ),
        ArchiveSpec(
            name="scripted-cuda-two-argument",
            suffix=".pt",
            kind="torchscript",
            demonstrates="torch.device(\"cuda\", 1) bound to a local and used twice",
            build=save_scripted(CudaTwoArgument, (x23,), lambda x: x - 1),
            expected=Expected(
                code_literals=[(CODE, "two-argument", "cuda:1")],
                device_calls=[("literal", "cuda:1")],
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=["the graph holds aten::device(\"cuda\", 1), no Device constant"],
        ),
        ArchiveSpec(
            name="scripted-device-lists",
            suffix=".pt",
            kind="torchscript",
            demonstrates="a List[Device] attribute and a list literal of devices in code",
            build=save_scripted(DeviceLists, (x23,), lambda x: x + x + x * 10 + x * 100),
            expected=Expected(
                graph_devices=["cuda:1", "cuda"],
                code_literals=[(CODE, "literal", "cuda:1"), (CODE, "literal", "cuda")],
                pickle_devices={"data.pkl": ["cuda:0", "cuda:1"]},
                device_attributes=[("devices[0]", "Device", "cuda:0", True), ("devices[1]", "Device", "cuda:1", True)],
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
        ),
        ArchiveSpec(
            name="scripted-device-attribute",
            suffix=".pt",
            kind="torchscript",
            demonstrates="a Device attribute, pickled as torch.device(\"cuda:1\") in data.pkl",
            build=save_scripted(DeviceAttribute, (x23,), lambda x: x.clone()),
            expected=Expected(
                pickle_devices={"data.pkl": ["cuda:1"]},
                device_attributes=[("device", "Device", "cuda:1", True)],
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=["neither map_location nor module.to() changes a Device attribute"],
        ),
        ArchiveSpec(
            name="scripted-optional-device-attribute",
            suffix=".pt",
            kind="torchscript",
            demonstrates="an Optional[Device] attribute holding torch.device(\"cuda\")",
            build=save_scripted(OptionalDeviceAttribute, (x23,), lambda x: x * 3),
            expected=Expected(
                pickle_devices={"data.pkl": ["cuda"]},
                device_attributes=[("device", "Device", "cuda", True)],
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
        ),
        ArchiveSpec(
            name="scripted-device-string-attribute",
            suffix=".pt",
            kind="torchscript",
            demonstrates="a str attribute \"cuda:1\" used as torch.device(self.device_name)",
            build=save_scripted(DeviceStringAttribute, (x23,), lambda x: x + 1),
            expected=Expected(
                device_calls=[("attribute", "cuda:1")],
                device_attributes=[("device_name", "str", "cuda:1", True)],
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
        ),
        ArchiveSpec(
            name="scripted-shared-memo-string",
            suffix=".pt",
            kind="torchscript",
            demonstrates="str attributes equal to \"cuda:1\" that are no device share their memoized string with a List[Device] entry",
            build=save_scripted(SharedMemoString, (x23,), lambda x: x * 2),
            expected=Expected(
                pickle_devices={"data.pkl": ["cuda:1"]},
                device_attributes=[
                    ("label_before", "str", "cuda:1", False),
                    ("devices[0]", "Device", "cuda:1", True),
                    ("label_after", "str", "cuda:1", False),
                ],
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=[
                "the labels are compared with \"cuda:1\" in forward: if a retarget rewrites them, "
                "the output is x instead of x * 2",
                "a retarget must keep both labels and change only the device",
            ],
        ),
        ArchiveSpec(
            name="traced-tensor-constant",
            suffix=".pt",
            kind="torchscript",
            demonstrates="torch.tensor([1., 2.]) in forward becomes CONSTANTS.c0, moved with torch.device(\"cpu\")",
            build=save_traced(AddTensorConstant, x23[:, :2].contiguous()),
            expected=Expected(
                graph_devices=["cpu"],
                code_literals=[(CODE, "literal", "cpu")],
                storage_locations={"constants.pkl": ["cpu"], "traced_inputs.pkl": ["cpu"]},
            ),
            retarget_devices=["cpu", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=False,
            has_tensor_constants=True,
            notes=["PyTorch 2.13 cannot load tensor constants on meta (aten::equal has no meta kernel)"],
        ),
        ArchiveSpec(
            name="traced-lstm-without-hx",
            suffix=".pt",
            kind="torchscript",
            demonstrates="nn.LSTM traced without hx creates its zero hidden state on the trace device",
            build=save_traced(LstmWithoutHiddenState, lstm_input),
            expected=Expected(
                graph_devices=["cpu"],
                code_literals=[(RNN, "literal", "cpu"), (RNN, "literal", "cpu")],
                storage_locations={"data.pkl": ["cpu"] * 4, "traced_inputs.pkl": ["cpu"]},
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=["the LSTM's code lives in code/__torch__/torch/nn/modules/rnn.py"],
        ),
        ArchiveSpec(
            name="traced-nested-blocks",
            suffix=".pt",
            kind="torchscript",
            demonstrates="nested submodules, each pinning the trace device in its own traced code",
            build=save_traced(NestedBlocks, x234),
            expected=Expected(
                graph_devices=["cpu", "cpu"],
                code_literals=[(BLOCKS, "literal", "cpu")] * 3 + [(BLOCKS_MANGLED_6, "literal", "cpu")],
                storage_locations={"data.pkl": ["cpu"] * 2, "traced_inputs.pkl": ["cpu"]},
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=[
                "the second PositionBlock instance gets a mangled class in code/__torch__/conformance/blocks/___torch_mangle_6.py",
                "the inlined graph pools equal constants, so it lists cpu twice for four literals",
                "the ScaleBlock's .to(device=..., dtype=...) is traced as torch.to(y, torch.device(\"cpu\"), 7)",
            ],
        ),
        ArchiveSpec(
            name="traced-two-inputs",
            suffix=".pt",
            kind="torchscript",
            demonstrates="traced_inputs.pkl with two stored example inputs",
            build=save_traced(TwoInputs, two_a, two_b),
            expected=Expected(
                graph_devices=["cpu"],
                code_literals=[(CODE, "literal", "cpu")],
                storage_locations={"traced_inputs.pkl": ["cpu", "cpu"]},
            ),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
        ),
        ArchiveSpec(
            name="frozen-module",
            suffix=".pt",
            kind="torchscript",
            demonstrates="torch.jit.freeze inlines a Device attribute into the code and parameters into constants.pkl",
            build=build_frozen,
            expected=Expected(
                graph_devices=["cpu"],
                code_literals=[(FROZEN_MANGLED_15, "literal", "cpu")],
                storage_locations={"constants.pkl": ["cpu", "cpu"]},
            ),
            retarget_devices=["cpu", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=False,
            has_tensor_constants=True,
            notes=["freezing clones the module, so its class is always mangled"],
        ),
        ArchiveSpec(
            name="mobile-lite",
            suffix=".ptl",
            kind="mobile",
            demonstrates="a lite-interpreter archive: bytecode.pkl holds a Device constant and a tensor constant",
            build=build_mobile,
            expected=Expected(
                graph_devices=["cpu"],
                code_literals=[(CODE, "literal", "cpu"), (CODE, "literal", "cpu")],
                storage_locations={
                    "data.pkl": ["cpu", "cpu"],
                    "constants.pkl": ["cpu"],
                    "bytecode.pkl": ["cpu"],
                    "traced_inputs.pkl": ["cpu"],
                },
                pickle_devices={"bytecode.pkl": ["cpu"]},
            ),
            retarget_devices=["cpu", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=False,
            has_tensor_constants=True,
            lite_interpreter=True,
            notes=[
                "bytecode.pkl memoizes \"cpu\" once for the Device constant and the storage location",
                "the lite interpreter reads bytecode.pkl, constants.pkl and data.pkl, never code/",
            ],
        ),
        ArchiveSpec(
            name="checkpoint-state-dict",
            suffix=".pt",
            kind="checkpoint",
            demonstrates="a torch.save state_dict: storage locations only, no code",
            build=build_checkpoint,
            expected=Expected(storage_locations={"data.pkl": ["cpu", "cpu"]}),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=False,
            runs_on_meta_after_retarget=False,
            notes=["torch.load(weights_only=True) loads it; a location of meta gives meta tensors"],
        ),
        ArchiveSpec(
            name="scripted-move-by-name",
            suffix=".pt",
            kind="torchscript",
            demonstrates="scripted .cuda() and .cpu() calls, printed as torch.cuda(x) and torch.cpu(x)",
            build=save_scripted(MoveByName, (x23, False), lambda x, use_cuda: x * 2),
            expected=Expected(code_moves=[(CODE, "cuda"), (CODE, "cpu")]),
            retarget_devices=["cpu", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=False,
            notes=[
                "a retarget cannot rewrite a move by name, so both calls stay",
                "with use_cuda=False the original runs on CPU",
            ],
        ),
        ArchiveSpec(
            name="scripted-no-pinned-device",
            suffix=".pt",
            kind="torchscript",
            demonstrates="device-neutral code (ops.prim.device(x), zeros_like, dtype casts): zero findings",
            build=save_scripted(NoPinnedDevice, (x23,), lambda x: torch.ones_like(x) + x),
            expected=Expected(device_calls=[("runtime", None)]),
            retarget_devices=["cpu", "meta", "cuda"],
            runs_on_cpu_after_retarget=True,
            runs_on_meta_after_retarget=True,
            notes=["no storages, no Device constants, no device attributes: check must report nothing"],
        ),
    ]


# ---------------------------------------------------------------------------
# Ground truth


GROUND_TRUTH_KEYS = (
    "records",
    "top_folder",
    "graph_devices",
    "method_graph_devices",
    "device_uses",
    "graph_device_calls",
    "moves_by_name",
    "code_device_literals",
    "code_moves_by_name",
    "storage_locations",
    "pickle_devices",
    "device_attributes",
)


def run_oracle(argv: list[str]) -> dict[str, Any]:
    return oracle.run_job(oracle.build_parser(), argv)


def compare_with_expected(name: str, expected: Expected, report: dict[str, Any]) -> list[str]:
    """Return the differences between the hand-written ground truth and PyTorch's report."""
    actual = {
        "graph_devices": collections.Counter(report.get("graph_devices", [])),
        "code_literals": collections.Counter(
            (item["record"], item["form"], item["device"]) for item in report["code_device_literals"]
        ),
        "code_moves": collections.Counter((item["record"], item["op"]) for item in report["code_moves_by_name"]),
        "device_calls": collections.Counter(
            (item["source"], item["device"]) for item in report.get("graph_device_calls", [])
        ),
        "storage_locations": report["storage_locations"],
        "pickle_devices": report["pickle_devices"],
        "device_attributes": [
            (item["path"], item["type"], item["value"], item["used_as_device"]) for item in report["device_attributes"]
        ],
    }
    hand_written = {
        "graph_devices": collections.Counter(expected.graph_devices),
        "code_literals": collections.Counter(expected.code_literals),
        "code_moves": collections.Counter(expected.code_moves),
        "device_calls": collections.Counter(expected.device_calls),
        "storage_locations": expected.storage_locations,
        "pickle_devices": expected.pickle_devices,
        "device_attributes": expected.device_attributes,
    }
    return [
        f"{name}: {key}: PyTorch reports {actual[key]!r}, this file expects {hand_written[key]!r}"
        for key in hand_written
        if actual[key] != hand_written[key]
    ]


def save_outputs(path: Path, value: Any) -> None:
    torch.save(value, str(path))


def generate(out_dir: Path) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    mismatches: list[str] = []

    for spec in archive_specs():
        archive_path = out_dir / f"{spec.name}{spec.suffix}"
        built = spec.build(archive_path)

        report = run_oracle(["inspect", str(archive_path), "--map-location", "cpu"])
        if not report.get("loads"):
            raise RuntimeError(f"{archive_path}: PyTorch cannot load the archive just written: {report.get('error')}")
        if report.get("pickle_errors") or report.get("code_errors") or report.get("graph_error"):
            raise RuntimeError(f"{archive_path}: the oracle could not read every record: {json.dumps(report)}")
        mismatches.extend(compare_with_expected(spec.name, spec.expected, report))

        entry: dict[str, Any] = {
            "name": spec.name,
            "file": archive_path.name,
            "kind": spec.kind,
            "demonstrates": spec.demonstrates,
            "notes": spec.notes,
            "retarget_devices": spec.retarget_devices,
            "runs_on_cpu_after_retarget": spec.runs_on_cpu_after_retarget,
            "runs_on_meta_after_retarget": spec.runs_on_meta_after_retarget,
            "has_tensor_constants": spec.has_tensor_constants,
            "lite_interpreter": spec.lite_interpreter,
            "inputs": None,
            "expected_outputs": None,
            "original": {},
            "ground_truth": {key: report[key] for key in GROUND_TRUTH_KEYS if key in report},
        }

        if built.inputs is not None:
            inputs_path = out_dir / f"{spec.name}.inputs.pt"
            expected_path = out_dir / f"{spec.name}.expected.pt"
            torch.save(built.inputs, str(inputs_path))
            save_outputs(expected_path, built.expected_outputs)
            entry["inputs"] = inputs_path.name
            entry["expected_outputs"] = expected_path.name
            on_cpu = run_oracle(["run", str(archive_path), "--device", "cpu", "--inputs", str(inputs_path),
                                 "--expected", str(expected_path)])
            on_meta = run_oracle(["run", str(archive_path), "--device", "meta", "--inputs", str(inputs_path)])
            entry["original"] = {
                "runs_on_cpu": on_cpu["ok"],
                "cpu_error": on_cpu.get("error"),
                "cpu_outputs_equal_expected": on_cpu.get("equal_to_expected"),
                "runs_on_meta": on_meta["ok"],
                "meta_error": on_meta.get("error"),
            }
            if on_cpu["ok"] and not on_cpu.get("allclose_to_expected"):
                mismatches.append(f"{spec.name}: the original's CPU outputs differ from the expected outputs")
            if spec.lite_interpreter:
                lite = run_oracle(["lite", str(archive_path), "--inputs", str(inputs_path),
                                   "--expected", str(expected_path)])
                entry["original"]["runs_in_lite_interpreter"] = lite["ok"]
                if not lite["ok"]:
                    mismatches.append(f"{spec.name}: the lite interpreter fails on the original: {lite.get('error')}")

        entries.append(entry)

    if mismatches:
        raise RuntimeError("the ground truth written in this file does not match PyTorch:\n" + "\n".join(mismatches))

    manifest = {
        "version": MANIFEST_VERSION,
        "torch_version": torch.__version__,
        "archives": entries,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description="Build the conformance corpus of real PyTorch archives.")
    parser.add_argument("out_dir", type=Path, help="folder for the archives and manifest.json (created if missing)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    manifest = generate(args.out_dir)
    print(f"wrote {len(manifest['archives'])} archives and manifest.json to {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
