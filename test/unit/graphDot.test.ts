import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { graphToDot, quote } from '../../server/src/graph/graphDot';
import type { ModelGraph } from '../../server/src/graph/graphTypes';

const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
const source = { record: 'code/__torch__.py', range };

/** A graph with a nested group and labels that try to break out of DOT strings. */
const hostileGraph: ModelGraph = {
  nodes: [
    { id: 'input@x', kind: 'input', label: 'x', source },
    { id: 'device@1:2', kind: 'device', label: 'cuda"];evil[label="', device: 'cuda"];evil[label="', source },
    { id: 'op@2:2', kind: 'op', label: 'torch.to', name: 'back\\slash\\', source },
    { id: 'module@3:2', kind: 'module', label: 'block1', source },
    { id: 'block1/input@x', kind: 'input', label: 'x', group: 'block1', source },
    { id: 'block1/op@1:1', kind: 'op', label: 'line\nbreak\u0007', group: 'block1', source },
    { id: 'block1.conv/op@1:1', kind: 'op', label: 'torch.conv2d', group: 'block1.conv', source },
    { id: 'output@4:2', kind: 'output', label: 'output', source },
  ],
  edges: [
    { from: 'input@x', to: 'op@2:2' },
    { from: 'device@1:2', to: 'op@2:2' },
    { from: 'op@2:2', to: 'block1/input@x' },
    { from: 'block1/input@x', to: 'block1/op@1:1' },
    { from: 'block1/op@1:1', to: 'block1.conv/op@1:1' },
    { from: 'block1.conv/op@1:1', to: 'output@4:2' },
  ],
  groups: [
    { id: 'block1', label: 'block1: Block', node: 'module@3:2', collapsed: true },
    { id: 'block1.conv', label: 'block1.conv: "Conv2d"', parent: 'block1', node: 'block1/op@1:1', collapsed: true },
  ],
};

describe('graphToDot', () => {
  test('quote escapes quotes and backslashes', () => {
    assert.equal(quote('a"b'), '"a\\"b"');
    assert.equal(quote('a\\'), '"a\\\\"');
    assert.equal(quote('a\nb'), '"a\\nb"');
    assert.equal(quote('a\r\nb'), '"a\\nb"');
    assert.equal(quote('bell\u0007'), '"bell "');
    assert.equal(quote('<b>&'), '"<b>&"');
  });

  test('every quoted string is closed', () => {
    const dot = graphToDot(hostileGraph);
    // Removing the quoted strings must leave only DOT syntax, with no stray label text.
    const outside = dot.replace(/"(?:[^"\\]|\\.)*"/g, 'Q');
    assert.doesNotMatch(outside, /evil|slash|break|Conv2d/);
    assert.doesNotMatch(outside, /"/);
  });

  test('groups become nested clusters', () => {
    const dot = graphToDot(hostileGraph);
    const outer = dot.indexOf('subgraph "cluster_block1" {');
    const inner = dot.indexOf('subgraph "cluster_block1.conv" {');
    assert.ok(outer >= 0, 'the outer cluster exists');
    assert.ok(inner > outer, 'the inner cluster follows the outer one');
    assert.match(dot, /\n {4}"block1\/input@x" \[/);
    assert.match(dot, /\n {6}"block1\.conv\/op@1:1" \[/);
  });

  test('group call nodes are left out', () => {
    const dot = graphToDot(hostileGraph);
    assert.doesNotMatch(dot, /"module@3:2"/);
    assert.doesNotMatch(dot, /"block1\/op@1:1" \[label="block1/);
  });

  test('device nodes and their edges are red', () => {
    const dot = graphToDot(hostileGraph);
    assert.match(dot, /"device@1:2" \[label="cuda\\"\];evil\[label=\\"", shape=octagon, style="filled,bold"/);
    assert.match(dot, /"device@1:2" -> "op@2:2" \[color="#c62828", penwidth=2\];/);
    assert.match(dot, /"input@x" -> "op@2:2";/);
  });

  test('Graphviz parses the output', (t) => {
    const probe = spawnSync('dot', ['-V']);
    if (probe.error) {
      t.skip('Graphviz (dot) is not installed');
      return;
    }
    const result = spawnSync('dot', ['-Tsvg'], { input: graphToDot(hostileGraph), encoding: 'utf8' });
    assert.equal(result.stderr, '');
    assert.equal(result.status, 0);
    assert.match(result.stdout, /cuda&quot;\];evil\[label=&quot;/);
    assert.match(result.stdout, /back\\slash\\/);
  });
});
