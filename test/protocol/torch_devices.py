"""Print the devices real PyTorch finds in a TorchScript archive, as one JSON object on stdout.

Usage: python torch_devices.py ARCHIVE

  graphDevices        every Device constant of forward's inlined graph, loaded with
                      map_location="cpu" (code constants are not remapped by it)
  codeDeviceLiterals  the torch.device("...") literals in the code records, read with zipfile
  loadsOnCpu          whether torch.jit.load without map_location succeeds on this CPU-only
                      build, which fails as soon as a storage is located on CUDA
  loadError           the first line of that failure, or null

The torchvision ops some archives call (nms, roi_align) are registered as schemas only, so
that such archives load without torchvision installed; nothing here runs them.
"""

import json
import re
import sys
import warnings
import zipfile

import torch

warnings.filterwarnings("ignore")


def register_torchvision_schemas() -> None:
    try:
        library = torch.library.Library("torchvision", "DEF")
    except RuntimeError:
        return
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define(
        "roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
        "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor"
    )
    # Keep the library alive for the rest of the process.
    register_torchvision_schemas.library = library


def graph_devices(block) -> list:
    devices = []
    for node in block.nodes():
        if node.kind() == "prim::Constant" and node.output().type().kind() == "DeviceObjType":
            devices.append(str(node.output().toIValue()))
        for inner in node.blocks():
            devices.extend(graph_devices(inner))
    return devices


def main(archive: str) -> None:
    register_torchvision_schemas()
    module = torch.jit.load(archive, map_location="cpu")

    literals = []
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            if "/code/" in name and name.endswith(".py"):
                literals.extend(re.findall(r'torch\.device\("([^"]*)"', zipped.read(name).decode("utf-8")))

    load_error = None
    try:
        torch.jit.load(archive)
    except RuntimeError as error:
        load_error = str(error).strip().splitlines()[0]

    print(json.dumps({
        "graphDevices": graph_devices(module.inlined_graph),
        "codeDeviceLiterals": literals,
        "loadsOnCpu": load_error is None,
        "loadError": load_error,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
