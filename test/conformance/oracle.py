"""Report what PyTorch finds in an archive, as one JSON document on stdout.

The conformance tests compare the CLI's findings and rewritten archives against
these reports. Subcommands:

  inspect FILE [--map-location DEVICE] [--print-graph]
      Load the archive and list its hard-coded devices. From the graphs: Device
      constants of forward's inlined graph and of every method, `aten::device`
      calls and `.cuda()`/`.cpu()` calls. From the code text, parsed with Python's
      ast: `torch.device(...)` literals and `torch.cuda(x)`/`torch.cpu(x)` calls
      with their positions. From the pickles: storage locations and device objects
      of every record, and Device or device-named str attributes in data.pkl.
  run FILE --device DEVICE --inputs INPUTS.pt [--map-location DEVICE]
           [--compare-with ORIGINAL] [--expected OUTPUTS.pt]
      Load the archive, move the inputs to DEVICE, call forward and compare the
      outputs with the original archive's (run on CPU) or with saved outputs.
  lite FILE --inputs INPUTS.pt [--compare-with ORIGINAL] [--expected OUTPUTS.pt]
      Load with the lite interpreter (`_load_for_lite_interpreter`) and run on CPU.
  zipcheck FILE [--original ORIGINAL]
      Check CRCs with zipfile.testzip, the 64-byte alignment of every record's
      data, the single top folder, and which records are byte-identical to the
      original's (raw compressed bytes).
  batch JOBS.json
      Run a JSON array of argument lists (each one of the subcommands above) in
      one process, so torch is imported once; prints a JSON array of reports.

Pickles are read with a restricted Unpickler: no class from the archive is
imported or executed, so a rewritten archive can be inspected even where
torch.jit.load rejects it.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import pickle
import re
import struct
import sys
import traceback
import warnings
import zipfile
from typing import Any, Iterator

import torch

# Same grammar as the engine's device parser: `type` or `type:index`, with c10's
# DeviceType names (c10/core/Device.cpp).
DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
    "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)
DEVICE_PATTERN = re.compile(r"^([a-z]+)(?::(0|[1-9][0-9]{0,8}))?$")

LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"
LOCAL_HEADER_SIZE = 30
ALIGNMENT = 64


def is_device_string(text: str) -> bool:
    match = DEVICE_PATTERN.match(text)
    return match is not None and match.group(1) in DEVICE_TYPES


# ---------------------------------------------------------------------------
# Restricted pickle reading


class DeviceValue(str):
    """A `torch.device` object read from a pickle, kept as its device string."""


class StorageRef:
    """A storage persistent id: ('storage', storage type, key, location, numel)."""

    def __init__(self, key: str, location: str) -> None:
        self.key = key
        self.location = location


class PickledObject:
    """Any other global's instance (TorchScript class objects, tensors, custom classes)."""

    qualified_name = ""

    # NEWOBJ calls __new__ without __init__ and REDUCE calls both, so __new__ sets the fields.
    def __new__(cls, *args: Any) -> "PickledObject":
        instance = super().__new__(cls)
        instance.args = args
        instance.state = None
        return instance

    def __init__(self, *args: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _restore_type_tag(value: Any, _type_tag: str) -> Any:
    return value


class RecordingUnpickler(pickle.Unpickler):
    """Unpickler that imports nothing and records every storage location it meets."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.locations: list[str] = []
        self.placeholder_classes: dict[str, type] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch", "device"):
            return lambda *args: DeviceValue(str(torch.device(*args)))
        if (module, name) == ("torch.jit._pickle", "restore_type_tag"):
            return _restore_type_tag
        if (module, name) == ("collections", "OrderedDict"):
            import collections

            return collections.OrderedDict
        qualified = f"{module}.{name}"
        if qualified not in self.placeholder_classes:
            self.placeholder_classes[qualified] = type(name, (PickledObject,), {"qualified_name": qualified})
        return self.placeholder_classes[qualified]

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) >= 4 and pid[0] == "storage":
            location = str(pid[3])
            self.locations.append(location)
            return StorageRef(str(pid[2]), location)
        return PickledObject(pid)


def load_pickle(data: bytes) -> tuple[Any, list[str]]:
    unpickler = RecordingUnpickler(data)
    value = unpickler.load()
    return value, unpickler.locations


def walk_devices(value: Any, seen: set[int] | None = None) -> Iterator[str]:
    """Yield every DeviceValue reachable from value, in pickle order."""
    if seen is None:
        seen = set()
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, DeviceValue):
        yield str(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from walk_devices(item, seen)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk_devices(key, seen)
            yield from walk_devices(item, seen)
    elif isinstance(value, PickledObject):
        yield from walk_devices(value.args, seen)
        yield from walk_devices(value.state, seen)


def collect_device_attributes(root: Any) -> list[dict[str, Any]]:
    """List Device values and device-named strings held by TorchScript objects in data.pkl.

    Each entry names the owning class, the attribute path from the root module
    (`sub.devs[1]`), the type (`Device` or `str`) and the value.
    """
    found: list[dict[str, Any]] = []
    seen: set[int] = set()

    def visit_value(owner: str, path: str, value: Any) -> None:
        if isinstance(value, DeviceValue):
            found.append({"owner": owner, "path": path, "type": "Device", "value": str(value)})
        elif isinstance(value, str):
            if is_device_string(value):
                found.append({"owner": owner, "path": path, "type": "str", "value": value})
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit_value(owner, f"{path}[{index}]", item)
        elif isinstance(value, dict):
            for key, item in value.items():
                visit_value(owner, f"{path}[{key!r}]", item)
        elif isinstance(value, PickledObject):
            visit_object(path, value)

    def visit_object(path: str, obj: PickledObject) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if obj.qualified_name.startswith("__torch__.") and isinstance(obj.state, dict):
            for name, item in obj.state.items():
                visit_value(obj.qualified_name, f"{path}.{name}" if path else str(name), item)

    if isinstance(root, PickledObject):
        visit_object("", root)
    return found


# ---------------------------------------------------------------------------
# Archive records


def strip_top_folder(name: str) -> str:
    return name.split("/", 1)[1] if "/" in name else name


def archive_kind(names: list[str]) -> str:
    records = {strip_top_folder(name) for name in names}
    if "bytecode.pkl" in records:
        return "mobile"
    if any(record.startswith("code/") for record in records):
        return "torchscript"
    if "data.pkl" in records:
        return "checkpoint"
    return "other"


def pickle_record_names(names: list[str]) -> list[str]:
    return [
        name for name in names
        if name.endswith(".pkl") and not name.endswith(".debug_pkl")
    ]


def read_pickles(path: str) -> dict[str, Any]:
    """Read every pickle record except .debug_pkl; return per-record locations, devices and attributes."""
    storage_locations: dict[str, list[str]] = {}
    pickle_devices: dict[str, list[str]] = {}
    pickle_errors: dict[str, str] = {}
    device_attributes: list[dict[str, Any]] = []

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for name in pickle_record_names(names):
            record = strip_top_folder(name)
            try:
                value, locations = load_pickle(archive.read(name))
            except Exception as error:  # noqa: BLE001 - a broken record is part of the report
                pickle_errors[record] = f"{type(error).__name__}: {error}"
                continue
            if locations:
                storage_locations[record] = locations
            devices = list(walk_devices(value))
            if devices:
                pickle_devices[record] = devices
            if record == "data.pkl":
                for attribute in collect_device_attributes(value):
                    device_attributes.append({"record": record, **attribute})

    return {
        "records": [strip_top_folder(name) for name in names],
        "top_folder": names[0].split("/", 1)[0] if names and "/" in names[0] else None,
        "storage_locations": storage_locations,
        "pickle_devices": pickle_devices,
        "pickle_errors": pickle_errors,
        "device_attributes": device_attributes,
    }


# ---------------------------------------------------------------------------
# Code records, parsed with Python's own parser


def is_torch_call(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "torch"
    )


def scan_code_record(record: str, text: str) -> dict[str, list[dict[str, Any]]]:
    """List `torch.device(...)` calls with literal arguments and `torch.cuda(x)`/`torch.cpu(x)` calls.

    Lines and characters are 0-based; the code that PyTorch writes is ASCII, so
    ast's UTF-8 column offsets equal UTF-16 characters there.
    """
    literals: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call):
            continue
        where = {
            "record": record,
            "line": node.lineno - 1,
            "character": node.col_offset,
            "end_line": (node.end_lineno or node.lineno) - 1,
            "end_character": node.end_col_offset,
        }
        if is_torch_call(node, "device"):
            arguments = node.args
            if arguments and all(isinstance(argument, ast.Constant) for argument in arguments):
                values = [argument.value for argument in arguments]  # type: ignore[attr-defined]
                form = "literal" if len(values) == 1 else "two-argument"
                literals.append({**where, "form": form, "device": str(torch.device(*values))})
        elif is_torch_call(node, "cuda") or is_torch_call(node, "cpu"):
            moves.append({**where, "op": node.func.attr})  # type: ignore[attr-defined]
    literals.sort(key=lambda item: (item["line"], item["character"]))
    moves.sort(key=lambda item: (item["line"], item["character"]))
    return {"literals": literals, "moves": moves}


def scan_code(path: str) -> dict[str, Any]:
    literals: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            record = strip_top_folder(name)
            if not (record.startswith("code/") and record.endswith(".py")):
                continue
            try:
                scanned = scan_code_record(record, archive.read(name).decode("utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError, RuntimeError) as error:
                errors[record] = error_text(error)
                continue
            literals.extend(scanned["literals"])
            moves.extend(scanned["moves"])
    return {"code_device_literals": literals, "code_moves_by_name": moves, "code_errors": errors}


def define_torchvision_schemas() -> Any:
    """Declare torchvision's operator schemas when torchvision is not installed.

    TorchScript resolves every operator when it loads an archive, so a detection
    model that calls `ops.torchvision.nms` would not load at all. With the
    schemas declared (no kernels) its graph can be inspected; running it still fails.
    Schemas as registered by torchvision's csrc/ops (nms.cpp, roi_align.cpp).
    """
    try:
        import torchvision  # noqa: F401 - registers the real operators
        return None
    except ImportError:
        pass
    library = torch.library.Library("torchvision", "DEF")
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define(
        "roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
        "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor"
    )
    return library


# ---------------------------------------------------------------------------
# Graph analysis


def iter_nodes(block: Any) -> Iterator[Any]:
    for node in block.nodes():
        yield node
        for inner in node.blocks():
            yield from iter_nodes(inner)


def is_device_constant(node: Any) -> bool:
    return node.kind() == "prim::Constant" and node.output().type().kind() == "DeviceObjType"


def constant_value(value: Any) -> Any:
    node = value.node()
    if node.kind() != "prim::Constant":
        return None
    return value.toIValue()


def resolve_attribute(value: Any, module: Any) -> tuple[str, str, Any] | None:
    """Follow a chain of prim::GetAttr from the graph's self input.

    Returns (owner class, attribute path, value), or None when the chain does not start at self.
    """
    node = value.node()
    if node.kind() != "prim::GetAttr":
        return None
    name = node.s("name")
    source = node.input()
    owner = str(source.type())
    if source.node().kind() == "prim::Param":
        if source.debugName().startswith("self"):
            return owner, name, getattr(module, name)
        return None
    parent = resolve_attribute(source, module)
    if parent is None:
        return None
    _, parent_path, parent_value = parent
    return owner, f"{parent_path}.{name}", getattr(parent_value, name)


def code_record_of(qualified_name: str) -> str:
    """Map a class such as `__torch__.foo.Bar` to the record holding its code, `code/__torch__/foo.py`."""
    return "code/" + "/".join(qualified_name.split(".")[:-1]) + ".py"


def analyse_method_graphs(module: Any) -> list[dict[str, Any]]:
    """List the distinct Device constants of every method of every module class, not inlined.

    PyTorch pools equal constants within a graph, so each device appears once per
    method however often the code writes it: a lower bound on the code's literals.
    """
    methods: list[dict[str, Any]] = []
    seen_classes: set[str] = set()
    for _, submodule in module.named_modules():
        qualified_name = submodule._c._type().qualified_name()
        if qualified_name in seen_classes:
            continue
        seen_classes.add(qualified_name)
        for method_name in submodule._c._method_names():
            graph = submodule._c._get_method(method_name).graph
            devices = sorted({str(node.output().toIValue()) for node in iter_nodes(graph) if is_device_constant(node)})
            methods.append({
                "class": qualified_name,
                "method": method_name,
                "record": code_record_of(qualified_name),
                "devices": devices,
            })
    return methods


def analyse_graph(module: Any) -> dict[str, Any]:
    graph = module.inlined_graph
    graph_devices: list[str] = []
    device_uses: list[dict[str, str]] = []
    device_calls: list[dict[str, Any]] = []
    moves_by_name: list[str] = []
    attributes_used_as_device: list[dict[str, str]] = []

    for node in iter_nodes(graph):
        if is_device_constant(node):
            graph_devices.append(str(node.output().toIValue()))
            continue

        for value in node.inputs():
            if is_device_constant(value.node()):
                device_uses.append({"op": node.kind(), "device": str(value.toIValue())})

        if node.kind() in ("aten::cuda", "aten::cpu"):
            moves_by_name.append(node.kind())

        if node.kind() == "aten::device":
            inputs = list(node.inputs())
            call: dict[str, Any] = {"arguments": len(inputs), "device": None, "source": "runtime"}
            constants = [constant_value(value) for value in inputs]
            if all(constant is not None for constant in constants):
                call["source"] = "literal"
                call["device"] = str(torch.device(*constants))
            elif len(inputs) == 1:
                attribute = resolve_attribute(inputs[0], module)
                if attribute is not None:
                    owner, path, attribute_value = attribute
                    call["source"] = "attribute"
                    call["attribute"] = path
                    call["device"] = str(attribute_value)
                    attributes_used_as_device.append({"owner": owner, "path": path})
            device_calls.append(call)

    return {
        "graph_devices": graph_devices,
        "device_uses": device_uses,
        "graph_device_calls": device_calls,
        "moves_by_name": moves_by_name,
        "attributes_used_as_device": attributes_used_as_device,
    }


# ---------------------------------------------------------------------------
# Subcommands


ERROR_LINE = re.compile(r"^\s*[A-Za-z_.]*(Error|Exception): ")


def error_text(error: BaseException) -> str:
    """Shorten PyTorch's long interpreter tracebacks to their start and their error lines."""
    text = f"{type(error).__name__}: {error}"
    if len(text) <= 1500:
        return text
    error_lines = [line.strip() for line in text.splitlines()[1:] if ERROR_LINE.match(line)]
    return text[:800] + "\n[...]\n" + "\n".join(error_lines[-3:])


def load_module(path: str, map_location: str | None) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.load(path, map_location=map_location)


def command_inspect(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"file": args.file}
    if not os.path.isfile(args.file):
        report.update({"kind": "missing", "loads": False, "error": "file not found"})
        return report
    if not zipfile.is_zipfile(args.file):
        report.update({"kind": "not-zip", "loads": False, "error": "not a zip archive"})
        return report

    with zipfile.ZipFile(args.file) as archive:
        report["kind"] = archive_kind(archive.namelist())
    report.update(read_pickles(args.file))
    report.update(scan_code(args.file))

    if report["kind"] == "checkpoint":
        try:
            torch.load(args.file, map_location=args.map_location, weights_only=True)
            report["loads"] = True
        except Exception as error:  # noqa: BLE001 - the failure is the report
            report["loads"] = False
            report["error"] = error_text(error)
        return report

    if report["kind"] not in ("torchscript", "mobile"):
        report["loads"] = False
        report["error"] = f"not a TorchScript archive (kind {report['kind']})"
        return report

    try:
        module = load_module(args.file, args.map_location)
    except Exception as error:  # noqa: BLE001 - the failure is the report
        report["loads"] = False
        report["error"] = error_text(error)
        return report
    report["loads"] = True

    try:
        report["method_graph_devices"] = analyse_method_graphs(module)
        if not module._c._has_method("forward"):
            report["graph_error"] = "the module has no forward method"
            return report
        report.update(analyse_graph(module))
        if args.print_graph:
            report["graph"] = str(module.inlined_graph)
    except Exception as error:  # noqa: BLE001 - the failure is the report
        report["graph_error"] = error_text(error)

    # A Device attribute is a device by its type. A str attribute counts only where
    # the forward graph passes it to torch.device.
    used = {(item["owner"], item["path"]) for item in report.get("attributes_used_as_device", [])}
    for attribute in report["device_attributes"]:
        is_device = attribute["type"] == "Device"
        attribute["used_as_device"] = is_device or (attribute["owner"], attribute["path"]) in used
    return report


def flatten_outputs(value: Any) -> list[Any]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [item for element in value for item in flatten_outputs(element)]
    if isinstance(value, dict):
        return [item for key in sorted(value) for item in flatten_outputs(value[key])]
    return [value]


def compare_outputs(actual: Any, expected: Any) -> dict[str, bool]:
    actual_items = flatten_outputs(actual)
    expected_items = flatten_outputs(expected)
    if len(actual_items) != len(expected_items):
        return {"equal": False, "allclose": False}
    equal = True
    close = True
    for left, right in zip(actual_items, expected_items):
        if isinstance(left, torch.Tensor) and isinstance(right, torch.Tensor):
            left = left.detach().cpu()
            right = right.detach().cpu()
            same_shape = left.shape == right.shape and left.dtype == right.dtype
            equal = equal and same_shape and torch.equal(left, right)
            close = close and same_shape and torch.allclose(left, right)
        else:
            equal = equal and left == right
            close = close and left == right
    return {"equal": bool(equal), "allclose": bool(close)}


def move_inputs(inputs: Any, device: str) -> Any:
    if isinstance(inputs, torch.Tensor):
        return inputs.to(device)
    if isinstance(inputs, (list, tuple)):
        return type(inputs)(move_inputs(item, device) for item in inputs)
    return inputs


def load_inputs(path: str) -> tuple[Any, ...]:
    inputs = torch.load(path, weights_only=True)
    return tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)


def describe_outputs(outputs: Any) -> list[dict[str, Any]]:
    described = []
    for item in flatten_outputs(outputs):
        if isinstance(item, torch.Tensor):
            described.append({"device": str(item.device), "shape": list(item.shape), "dtype": str(item.dtype)})
        else:
            described.append({"value": repr(item)})
    return described


def run_cpu_reference(path: str, inputs: tuple[Any, ...]) -> tuple[Any, str | None]:
    try:
        module = load_module(path, "cpu")
        with torch.no_grad():
            return module(*inputs), None
    except Exception as error:  # noqa: BLE001 - the failure is the report
        return None, error_text(error)


def add_comparisons(report: dict[str, Any], outputs: Any, args: argparse.Namespace, inputs: tuple[Any, ...]) -> None:
    if args.compare_with:
        original_outputs, original_error = run_cpu_reference(args.compare_with, inputs)
        if original_error is not None:
            report["original_error"] = original_error
        else:
            comparison = compare_outputs(outputs, original_outputs)
            report["equal_to_original"] = comparison["equal"]
            report["allclose_to_original"] = comparison["allclose"]
    if args.expected:
        expected = torch.load(args.expected, weights_only=True)
        comparison = compare_outputs(outputs, expected)
        report["equal_to_expected"] = comparison["equal"]
        report["allclose_to_expected"] = comparison["allclose"]


def command_run(args: argparse.Namespace) -> dict[str, Any]:
    device = args.device
    map_location = args.map_location
    if map_location is None and device in ("cpu", "meta"):
        map_location = device
    report: dict[str, Any] = {"file": args.file, "device": device, "map_location": map_location}

    cpu_inputs = load_inputs(args.inputs)
    try:
        module = load_module(args.file, map_location)
    except Exception as error:  # noqa: BLE001 - the failure is the report
        report.update({"loads": False, "ok": False, "error": error_text(error)})
        return report
    report["loads"] = True

    try:
        with torch.no_grad():
            outputs = module(*move_inputs(cpu_inputs, device))
    except Exception as error:  # noqa: BLE001 - the failure is the report
        report.update({"ok": False, "error": error_text(error)})
        return report
    report["ok"] = True
    report["outputs"] = describe_outputs(outputs)

    if device == "cpu":
        add_comparisons(report, outputs, args, cpu_inputs)
    return report


def command_lite(args: argparse.Namespace) -> dict[str, Any]:
    from torch.jit.mobile import _load_for_lite_interpreter

    report: dict[str, Any] = {"file": args.file}
    inputs = load_inputs(args.inputs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = _load_for_lite_interpreter(args.file, map_location="cpu")
    except Exception as error:  # noqa: BLE001 - the failure is the report
        report.update({"loads": False, "ok": False, "error": error_text(error)})
        return report
    report["loads"] = True

    try:
        with torch.no_grad():
            outputs = module(*inputs)
    except Exception as error:  # noqa: BLE001 - the failure is the report
        report.update({"ok": False, "error": error_text(error)})
        return report
    report["ok"] = True
    report["outputs"] = describe_outputs(outputs)
    add_comparisons(report, outputs, args, inputs)
    return report


def read_raw_records(path: str) -> tuple[list[dict[str, Any]], bytes]:
    """Locate each record's data through its local header, as PyTorch's reader does."""
    with open(path, "rb") as handle:
        content = handle.read()
    records = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            offset = info.header_offset
            header = content[offset:offset + LOCAL_HEADER_SIZE]
            if header[:4] != LOCAL_HEADER_SIGNATURE:
                raise ValueError(f"{path}: record {info.filename}: no local header at offset {offset}")
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            data_offset = offset + LOCAL_HEADER_SIZE + name_length + extra_length
            records.append({
                "name": info.filename,
                "data_offset": data_offset,
                "compress_type": info.compress_type,
                "compress_size": info.compress_size,
                "file_size": info.file_size,
                "crc": info.CRC,
            })
    return records, content


def command_zipcheck(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"file": args.file}
    try:
        with zipfile.ZipFile(args.file) as archive:
            report["bad_crc_record"] = archive.testzip()
    except Exception as error:  # noqa: BLE001 - the failure is the report
        report.update({"ok": False, "error": error_text(error)})
        return report
    report["crc_ok"] = report["bad_crc_record"] is None

    records, content = read_raw_records(args.file)
    names = [record["name"] for record in records]
    top_folders = sorted({name.split("/", 1)[0] if "/" in name else "" for name in names})
    report["records"] = [strip_top_folder(name) for name in names]
    report["top_folder"] = names[0].split("/", 1)[0] if names and "/" in names[0] else None
    report["single_top_folder"] = len(top_folders) == 1 and top_folders[0] != ""
    report["misaligned"] = [
        strip_top_folder(record["name"]) for record in records if record["data_offset"] % ALIGNMENT != 0
    ]

    if args.original:
        original_records, original_content = read_raw_records(args.original)
        original_by_name = {strip_top_folder(record["name"]): record for record in original_records}
        identical: list[str] = []
        changed: list[str] = []
        for record in records:
            name = strip_top_folder(record["name"])
            original = original_by_name.get(name)
            if original is None:
                continue
            raw = content[record["data_offset"]:record["data_offset"] + record["compress_size"]]
            original_raw = original_content[
                original["data_offset"]:original["data_offset"] + original["compress_size"]
            ]
            same = raw == original_raw and record["compress_type"] == original["compress_type"]
            (identical if same else changed).append(name)
        file_names = set(report["records"])
        report["identical"] = identical
        report["changed"] = changed
        report["only_in_original"] = [name for name in original_by_name if name not in file_names]
        report["only_in_file"] = [name for name in report["records"] if name not in original_by_name]
        report["original_records"] = [strip_top_folder(record["name"]) for record in original_records]

    report["ok"] = report["crc_ok"] and report["single_top_folder"] and not report["misaligned"]
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    inspect = commands.add_parser("inspect", help="list the devices PyTorch sees in an archive")
    inspect.add_argument("file")
    inspect.add_argument("--map-location", default=None, help="device passed to torch.jit.load as map_location")
    inspect.add_argument("--print-graph", action="store_true", help="include the printed inlined graph")

    run = commands.add_parser("run", help="run forward on inputs moved to a device")
    run.add_argument("file")
    run.add_argument("--device", required=True, help="device the inputs are moved to, for example cpu or meta")
    run.add_argument("--inputs", required=True, help="inputs saved with torch.save as a tuple")
    run.add_argument("--map-location", default=None, help="map_location for loading; default: DEVICE for cpu and meta")
    run.add_argument("--compare-with", default=None, help="original archive run on CPU for comparison")
    run.add_argument("--expected", default=None, help="expected outputs saved with torch.save")

    lite = commands.add_parser("lite", help="load with the lite interpreter and run on CPU")
    lite.add_argument("file")
    lite.add_argument("--inputs", required=True, help="inputs saved with torch.save as a tuple")
    lite.add_argument("--compare-with", default=None, help="original archive run on CPU with torch.jit.load")
    lite.add_argument("--expected", default=None, help="expected outputs saved with torch.save")

    zipcheck = commands.add_parser("zipcheck", help="check CRCs, alignment and unchanged records")
    zipcheck.add_argument("file")
    zipcheck.add_argument("--original", default=None, help="archive to compare raw record bytes with")

    batch = commands.add_parser("batch", help="run a JSON array of argument lists in one process")
    batch.add_argument("jobs", help="JSON file with an array of argument lists")
    return parser


COMMANDS = {
    "inspect": command_inspect,
    "run": command_run,
    "lite": command_lite,
    "zipcheck": command_zipcheck,
}


def run_job(parser: argparse.ArgumentParser, argv: list[str]) -> dict[str, Any]:
    try:
        args = parser.parse_args(argv)
        if args.command == "batch":
            raise ValueError("batch jobs cannot contain another batch")
        return COMMANDS[args.command](args)
    except SystemExit as exit_error:
        return {"argv": argv, "ok": False, "error": f"invalid arguments (exit {exit_error.code})"}
    except Exception as error:  # noqa: BLE001 - one failed job must not end the batch
        return {"argv": argv, "ok": False, "error": error_text(error), "traceback": traceback.format_exc()}


def main(argv: list[str]) -> int:
    torch.manual_seed(0)
    torchvision_library = define_torchvision_schemas()  # noqa: F841 - must stay alive while loading
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "batch":
        with open(args.jobs, encoding="utf-8") as handle:
            jobs = json.load(handle)
        result: Any = [run_job(parser, [str(item) for item in job]) for job in jobs]
    else:
        result = COMMANDS[args.command](args)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
