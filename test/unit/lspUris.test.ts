import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codeRecordUri, fileUriFromPath, hasArchiveExtension, parseCodeRecordUri, pathFromFileUri } from '../../server/src/lsp/uris';

describe('fileUriFromPath', () => {
  it('prints file URIs as VS Code does', () => {
    // Expected strings are what VS Code 1.100's Uri.file(path).toString() returns.
    assert.equal(fileUriFromPath('/home/user/models/d2go.pt'), 'file:///home/user/models/d2go.pt');
    assert.equal(fileUriFromPath('/tmp/my model#1.pt'), 'file:///tmp/my%20model%231.pt');
    assert.equal(fileUriFromPath('/tmp/a+b=c&d.pt'), 'file:///tmp/a%2Bb%3Dc%26d.pt');
    assert.equal(fileUriFromPath('/tmp/模型.pt'), 'file:///tmp/%E6%A8%A1%E5%9E%8B.pt');
    assert.equal(fileUriFromPath('/tmp/100%.pt'), 'file:///tmp/100%25.pt');
    assert.equal(fileUriFromPath("/tmp/it's (v2)!*.pt"), 'file:///tmp/it%27s%20%28v2%29%21%2A.pt');
  });

  it('round-trips through pathFromFileUri', () => {
    for (const fsPath of ['/home/user/x.pt', '/tmp/my model#1.pt', '/tmp/100%.pt', '/tmp/模型 [v2].pth', "/tmp/it's?.ptl"]) {
      assert.equal(pathFromFileUri(fileUriFromPath(fsPath)), fsPath);
    }
  });
});

describe('pathFromFileUri', () => {
  it('rejects other schemes and malformed URIs', () => {
    assert.equal(pathFromFileUri('untitled:Untitled-1'), undefined);
    assert.equal(pathFromFileUri('torchscript-code:/code/x.py?archive=file%3A%2F%2F%2Fx.pt'), undefined);
    assert.equal(pathFromFileUri('file://remote-host/share/x.pt'), undefined);
  });
});

describe('codeRecordUri', () => {
  it('builds the documented form', () => {
    assert.equal(
      codeRecordUri('file:///home/user/d2go.pt', 'code/__torch__/___torch_mangle_636.py'),
      'torchscript-code:/d2go.pt/code/__torch__/___torch_mangle_636.py?archive%3Dfile%3A%2F%2F%2Fhome%2Fuser%2Fd2go.pt',
    );
  });

  it('takes the archive from the query', () => {
    // The file name in the path is only a label: the query decides the archive.
    const parsed = parseCodeRecordUri('torchscript-code:/renamed.pt/code/__torch__.py?archive%3Dfile%3A%2F%2F%2Fhome%2Fuser%2Fmodel.pt');
    assert.deepEqual(parsed, { archiveUri: 'file:///home/user/model.pt', record: 'code/__torch__.py' });
  });

  it('round-trips archives with reserved characters', () => {
    const archiveUri = fileUriFromPath('/tmp/my model#1 100%.pt');
    const uri = codeRecordUri(archiveUri, 'code/__torch__/models/a b.py');
    assert.deepEqual(parseCodeRecordUri(uri), { archiveUri, record: 'code/__torch__/models/a b.py' });
    assert.equal(pathFromFileUri(parseCodeRecordUri(uri)!.archiveUri), '/tmp/my model#1 100%.pt');
  });
});

describe('parseCodeRecordUri', () => {
  it('accepts the raw archive= query form', () => {
    const parsed = parseCodeRecordUri('torchscript-code:/my%20model.pt/code/__torch__.py?archive=file%3A%2F%2F%2Ftmp%2Fmy%2520model.pt');
    assert.deepEqual(parsed, { archiveUri: 'file:///tmp/my%20model.pt', record: 'code/__torch__.py' });
  });

  it('accepts an empty authority', () => {
    const parsed = parseCodeRecordUri('torchscript-code:///x.pt/code/__torch__.py?archive%3Dfile%3A%2F%2F%2Fx.pt');
    assert.deepEqual(parsed, { archiveUri: 'file:///x.pt', record: 'code/__torch__.py' });
  });

  it('rejects URIs without an archive', () => {
    assert.equal(parseCodeRecordUri('torchscript-code:/x.pt/code/__torch__.py'), undefined);
    assert.equal(parseCodeRecordUri('torchscript-code:/x.pt/code/__torch__.py?other=1'), undefined);
    assert.equal(parseCodeRecordUri('torchscript-code:/x.pt/code/__torch__.py?archive%3Dhttps%3A%2F%2Fexample.com%2Fx.pt'), undefined);
    assert.equal(parseCodeRecordUri('torchscript-code:/?archive%3Dfile%3A%2F%2F%2Fx.pt'), undefined);
    assert.equal(parseCodeRecordUri('torchscript-code:/x.pt?archive%3Dfile%3A%2F%2F%2Fx.pt'), undefined, 'a path without a record');
    assert.equal(parseCodeRecordUri('torchscript-code:/x.pt/code/x.py?archive%3Dfile%3A%2F%2F%2Fx.pt%ZZ'), undefined);
  });

  it('rejects other schemes', () => {
    assert.equal(parseCodeRecordUri('file:///x.pt/code/__torch__.py?archive=file%3A%2F%2F%2Fx.pt'), undefined);
  });
});

describe('hasArchiveExtension', () => {
  it('matches archive extensions in any case', () => {
    for (const name of ['a.pt', 'a.PT', 'a.pth', 'b.ptl', 'model.TorchScript']) assert.ok(hasArchiveExtension(`/tmp/${name}`), name);
    for (const name of ['a.py', 'a.pt.bak', 'pt', 'a.zip']) assert.ok(!hasArchiveExtension(`/tmp/${name}`), name);
  });
});
