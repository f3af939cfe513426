"""Print the Device constants of an archive's inlined forward graph, as seen by PyTorch.

Loads the archive with torch.jit.load and map_location="cpu" (so an archive retargeted to
CUDA loads on a machine without a GPU; map_location moves storages but leaves the code's
device constants as written) and prints one JSON object on stdout:

  {"torch": "<version>", "devices": ["<device>", ...]}

with every `prim::Constant` of type Device in `forward`'s inlined graph, one entry per
constant node, in graph order.

Usage: python device_constants.py ARCHIVE
"""

import json
import sys

import torch


def declare_torchvision_operators():
    """Declare the torchvision operators that detection models call, when torchvision is absent.

    torch.jit.load resolves every operator of the code, so d2go_optimized.pt (which calls
    `ops.torchvision.nms` and `roi_align`) would not load without them. Schemas only, no
    kernels: the graph can be read but not run. The schemas are those of torchvision's
    csrc/ops/nms.cpp and roi_align.cpp. Returns the library, which must stay alive.
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


def device_constants(graph: torch.Graph) -> list:
    devices = []
    for node in graph.nodes():
        for block in node.blocks():
            devices.extend(device_constants(block))
        if node.kind() == "prim::Constant" and node.output().type().kind() == "DeviceObjType":
            devices.append(str(node.output().toIValue()))
    return devices


def main() -> None:
    torchvision_library = declare_torchvision_operators()  # noqa: F841 - keeps the schemas registered
    module = torch.jit.load(sys.argv[1], map_location="cpu")
    print(json.dumps({"torch": torch.__version__, "devices": device_constants(module.inlined_graph)}))


if __name__ == "__main__":
    main()
