/**
 * Archives written by the real torch in .venv for the pickle scan and rewrite tests, with
 * what torch itself reports about them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runPythonJson, torchPython } from './picklePython';

export interface TorchArchives {
  dir: string;
  /** torch.jit.script module with Device, List[Device], Optional[Device], Dict[str, Device] and str attributes. */
  scripted: string;
  /** The same module saved for the lite interpreter. */
  scriptedMobile: string;
  /** A module traced on CPU with `torch.ones(x.shape, device=x.device)` and a tensor constant, saved for the lite interpreter. */
  tracedMobile: string;
  /** The traced module saved with torch.jit.save. */
  traced: string;
  /** A scripted module that builds `torch.device("cuda", 1)`, saved for the lite interpreter. */
  twoArgumentMobile: string;
  /** A torch.save checkpoint with device objects and tensors. */
  checkpoint: string;
  /** A torch.save checkpoint with numpy values, builtins, and quantized, sparse and meta tensors. */
  mixedCheckpoint: string;
  /** Names of the parameters and buffers of the scripted module, as torch lists them. */
  scriptedTensorNames: string[];
  /** Device constants of the traced module's inlined graph, as torch prints them. */
  tracedGraphDevices: string[];
}

const BUILD_SCRIPT = String.raw`
import json, os, sys, warnings
from typing import Dict, List, Optional
import torch

warnings.simplefilter('ignore')
out = sys.argv[1]

class Sub(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dev_str = 'cuda:0'

    def forward(self, x):
        return x

class Devices(torch.nn.Module):
    dev: torch.device
    devs: List[torch.device]
    odev: Optional[torch.device]
    onone: Optional[torch.device]
    devmap: Dict[str, torch.device]
    dev_names: List[str]

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 3)
        self.dev = torch.device('cuda:0')
        self.devs = [torch.device('cuda:0'), torch.device('cpu'), torch.device('cuda', 1)]
        self.odev = torch.device('cpu')
        self.onone = None
        self.devmap = {'main': torch.device('cuda:2')}
        self.name = 'cuda:0'
        self.other = 'cpu'
        self.dev_names = ['cuda:0', 'cpu']
        self.sub = Sub()
        self.register_buffer('buf', torch.arange(4.0))

    def forward(self, x):
        return self.lin(x)

class Traced(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 2)

    def forward(self, x):
        return self.lin(x) + torch.ones(x.shape, device=x.device) + torch.tensor([1.0, 2.0])

class TwoArgument(torch.nn.Module):
    def forward(self, x):
        d = torch.device('cuda', 1)
        return x.to(d) if x.is_cuda else x

torch.manual_seed(0)
scripted = torch.jit.script(Devices())
scripted.save(os.path.join(out, 'scripted.pt'))
scripted._save_for_lite_interpreter(os.path.join(out, 'scripted.ptl'))

traced = torch.jit.trace(Traced(), torch.randn(3, 2))
traced.save(os.path.join(out, 'traced.pt'))
traced._save_for_lite_interpreter(os.path.join(out, 'traced.ptl'))

torch.jit.script(TwoArgument())._save_for_lite_interpreter(os.path.join(out, 'two_argument.ptl'))

checkpoint = {
    'two': torch.device('cuda', 1), 'plain': torch.device('cpu'), 'weights': torch.arange(3.0),
    'param': torch.nn.Parameter(torch.ones(2)), 'device_name': 'cuda:0',
}
torch.save(checkpoint, os.path.join(out, 'checkpoint.pt'))

import collections
import numpy as np
mixed = {
    'array': np.arange(3), 'scalar': np.float64(1.5), 'dtype': np.dtype('float32'), 'set': {1}, 'frozenset': frozenset({2}),
    'slice': slice(1, 2), 'ordered': collections.OrderedDict(a=1), 'bytes': b'ab', 'bytearray': bytearray(b'x'),
    'complex': 1 + 2j, 'range': range(3), 'size': torch.Size([2, 3]), 'torch_dtype': torch.float16,
    'quantized': torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.qint8), 'sparse': torch.ones(2, 2).to_sparse(),
    'meta': torch.empty(2, device='meta'),
}
torch.save(mixed, os.path.join(out, 'mixed.pt'))

graph_devices = [str(node.output().toIValue()) for node in traced.inlined_graph.nodes()
                 if node.kind() == 'prim::Constant' and node.output().type().kind() == 'DeviceObjType']
tensor_names = [name for name, _ in scripted.named_parameters()] + [name for name, _ in scripted.named_buffers()]
print(json.dumps({'scriptedTensorNames': tensor_names, 'tracedGraphDevices': graph_devices}))
`;

export function buildTorchArchives(): TorchArchives {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickle-torch-'));
  // torch.jit.script reads the source of the classes it compiles, so the script must be a file.
  const script = path.join(dir, 'build_archives.py');
  fs.writeFileSync(script, BUILD_SCRIPT);
  const facts = runPythonJson<{ scriptedTensorNames: string[]; tracedGraphDevices: string[] }>(
    torchPython, 'import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")', [script, dir],
  );

  return {
    dir,
    scripted: path.join(dir, 'scripted.pt'),
    scriptedMobile: path.join(dir, 'scripted.ptl'),
    tracedMobile: path.join(dir, 'traced.ptl'),
    traced: path.join(dir, 'traced.pt'),
    twoArgumentMobile: path.join(dir, 'two_argument.ptl'),
    checkpoint: path.join(dir, 'checkpoint.pt'),
    mixedCheckpoint: path.join(dir, 'mixed.pt'),
    ...facts,
  };
}
