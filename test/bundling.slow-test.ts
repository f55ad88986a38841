// The one test that really builds the function: `cargo lambda build --release`
// through cargo-lambda-cdk, for the host architecture (other targets may need
// a Rust std this machine cannot download). Minutes cold, seconds warm.
// Run through `npm run test:cdk:bundle` with cargo-lambda on PATH
// (`source scripts/ensure-tools.sh && ensure_python_tools`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { buildSseApp } from '../cdk/sse-app';
import { CDK_JSON_CONTEXT } from './helpers';

const HOST = { x64: { architecture: 'x86_64', elfMachine: 0x3e }, arm64: { architecture: 'arm64', elfMachine: 0xb7 } }[process.arch as 'x64' | 'arm64'];

it('bundles an executable bootstrap for the host architecture', { timeout: 15 * 60_000 }, () => {
  assert.ok(HOST, `no Lambda architecture for host ${process.arch}`);
  // Without cargo-lambda, cargo-lambda-cdk falls back to Docker; say what is missing instead.
  const cargoLambda = spawnSync('cargo', ['lambda', '--version'], { encoding: 'utf8' });
  assert.equal(cargoLambda.status, 0, 'cargo-lambda is not on PATH: run `source scripts/ensure-tools.sh && ensure_python_tools` first');

  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'sse-bundle-'));
  try {
    // No aws:cdk:bundling-stacks key: bundle every stack, as `cdk synth` does.
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'sse:architecture': HOST.architecture }, outdir });
    const stack = buildSseApp(app);
    const assembly = app.synth();

    const template = assembly.getStackArtifact(stack.artifactId).template;
    const fn = Object.values(template.Resources as Record<string, { Type: string; Properties: { Code: { S3Key: string }; Architectures: string[] } }>)
      .find((r) => r.Type === 'AWS::Lambda::Function');
    assert.ok(fn);
    assert.deepEqual(fn.Properties.Architectures, [HOST.architecture]);

    // The template's code object is the zip of exactly this asset directory.
    const assetHash = fn.Properties.Code.S3Key.replace(/\.zip$/, '');
    const assetDir = path.join(outdir, `asset.${assetHash}`);
    assert.deepEqual(fs.readdirSync(assetDir), ['bootstrap']);

    const bootstrap = path.join(assetDir, 'bootstrap');
    const stat = fs.statSync(bootstrap);
    assert.ok(stat.isFile());
    assert.ok((stat.mode & 0o111) !== 0, `bootstrap is not executable (mode ${stat.mode.toString(8)})`);
    const header = Buffer.alloc(20);
    const fd = fs.openSync(bootstrap, 'r');
    fs.readSync(fd, header, 0, 20, 0);
    fs.closeSync(fd);
    assert.deepEqual([...header.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46], 'bootstrap is not an ELF binary');
    assert.equal(header.readUInt16LE(18), HOST.elfMachine, 'bootstrap is built for another machine');
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
