#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (onnxruntime-node, CPU) on a float32 .npy batch and writes the
// first output as .npy: the independent check of qforge's QDQ exports.
//   node tools/ort/run_ort.js MODEL.onnx INPUT.npy OUTPUT.npy [--batch B] [--threads T] [--bench N]
// --batch splits the input into chunks of B (default: all at once); --bench N times N runs of one
// chunk after a warm-up and prints {"median_ms", "min_ms"} as JSON on stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

function fail(msg) {
  process.stderr.write(`run_ort: error: ${msg}\n`);
  process.exit(1);
}

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    fail(`${file}: cannot read (${e.message})`);
  }
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  if (!/'descr':\s*'<f4'/.test(header)) fail(`${file}: expected float32 ('<f4'), header ${header.trim()}`);
  if (/'fortran_order':\s*True/.test(header)) fail(`${file}: Fortran order is not supported`);
  const m = header.match(/'shape':\s*\(([^)]*)\)/);
  if (!m) fail(`${file}: no shape in header`);
  const shape = m[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  if (buf.length - off !== 4 * n) fail(`${file}: holds ${buf.length - off} data bytes, shape ${shape} needs ${4 * n}`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; ++i) data[i] = buf.readFloatLE(off + 4 * i);
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const tmp = file + '.tmp';
  fs.writeFileSync(tmp, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
  fs.renameSync(tmp, file);
}

async function main() {
  const args = process.argv.slice(2);
  const opt = { batch: 0, threads: 0, bench: 0 };
  const pos = [];
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--batch') opt.batch = Number(args[++i]);
    else if (args[i] === '--threads') opt.threads = Number(args[++i]);
    else if (args[i] === '--bench') opt.bench = Number(args[++i]);
    else pos.push(args[i]);
  }
  if (pos.length !== 3) fail('usage: run_ort.js MODEL.onnx INPUT.npy OUTPUT.npy [--batch B] [--threads T] [--bench N]');
  const [model, input, output] = pos;
  const x = readNpy(input);
  const so = { graphOptimizationLevel: 'all' };
  if (opt.threads > 0) so.intraOpNumThreads = opt.threads;
  let session;
  try {
    session = await ort.InferenceSession.create(model, so);
  } catch (e) {
    fail(`${model}: ONNX Runtime cannot load it: ${e.message}`);
  }
  const n = x.shape[0];
  const per = x.data.length / n;
  const batch = opt.batch > 0 ? opt.batch : n;
  const outs = [];
  let outShape = null;
  const chunk = async (b, e) => {
    const t = new ort.Tensor('float32', x.data.subarray(b * per, e * per), [e - b, ...x.shape.slice(1)]);
    const r = await session.run({ [session.inputNames[0]]: t });
    return r[session.outputNames[0]];
  };
  if (opt.bench > 0) {
    const e = Math.min(batch, n);
    for (let i = 0; i < 3; ++i) await chunk(0, e);
    const times = [];
    for (let i = 0; i < opt.bench; ++i) {
      const t0 = process.hrtime.bigint();
      await chunk(0, e);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({ batch: e, runs: opt.bench, median_ms: times[Math.floor(times.length / 2)], min_ms: times[0] }) + '\n');
    return;
  }
  for (let b = 0; b < n; b += batch) {
    const y = await chunk(b, Math.min(n, b + batch));
    outs.push(y.data);
    outShape = y.dims;
  }
  const total = outs.reduce((a, o) => a + o.length, 0);
  const all = new Float32Array(total);
  let k = 0;
  for (const o of outs) {
    all.set(o, k);
    k += o.length;
  }
  writeNpy(output, [n, ...outShape.slice(1)], all);
}

main().catch((e) => fail(e.message));
