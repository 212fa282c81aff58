import { describe, expect, it } from 'vitest';
import { cloneModel } from '../../src/ir/clone.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { Model } from '../../src/ir/model.js';

describe('cloneModel', () => {
  it('copies every ModelProto field; arrays it may edit are copies, the graph a deep copy', () => {
    const m = new Model();
    const b = new GraphBuilder(m.graph);
    b.output(b.op('Relu', [b.input('x', ['N', 4])], ['N', 4], 'relu'), 'y');
    Object.assign(m, { irVersion: 7, producerName: 'p', producerVersion: '1', domain: 'd', modelVersion: 3n, docString: 'doc', path: '/m.onnx', fileBytes: 12 });
    m.opsetImports = [{ domain: '', version: 11 }];
    m.metadataProps = [{ key: 'k', value: 'v' }];
    m.warnings = ['w'];
    const c = cloneModel(m);
    const { graph: _g, ...fields } = m;
    const { graph: cg, ...cfields } = c;
    void _g;
    expect(cfields).toEqual(fields);
    expect(c.opsetImports).not.toBe(m.opsetImports);
    expect(c.metadataProps[0]).not.toBe(m.metadataProps[0]);
    expect(c.warnings).not.toBe(m.warnings);
    expect(cg).not.toBe(m.graph);
    expect(cg.nodes.map((n) => n.op)).toEqual(['Relu']);
    expect(cg.outputs.map((v) => v.name)).toEqual(['y']);
  });
});
