// Times ONNX Runtime's own Node binding (onnxruntime-node) running one model in a loop, as the
// reference for bench/Runtime/OrtRunBenchmarks.cs. Uses the package's native addon directly, so the
// onnxruntime-common dependency (not in the cached tarball) is not needed: the addon only wants a
// Tensor constructor, which a four-field class satisfies.
//
// usage: node ort_node_loop.js <extracted package dir> <model.onnx> <input name> <batch> <intra-op threads>
//                              <optimisation level: disabled|basic|extended|all> <warm-up runs> <timed runs>
// prints one JSON line: {"batch":..,"threads":..,"runs":..,"meanMicroseconds":..,"medianBlockMicroseconds":..,"minBlockMicroseconds":..,"version":..}
// The timed runs are split into 20 blocks. Other work on a shared machine only ever adds time, so the
// fastest block mean is the steadiest figure; it pairs with BenchmarkDotNet's Min over its iterations.
'use strict';
const path = require('path');

const [pkgDir, modelPath, inputName, batchArg, threadsArg, level, warmupArg, runsArg] = process.argv.slice(2);
if (runsArg === undefined) {
  console.error('usage: node ort_node_loop.js <pkg dir> <model> <input name> <batch> <threads> <level> <warm-up> <runs>');
  process.exit(2);
}
const batch = Number(batchArg), threads = Number(threadsArg), warmup = Number(warmupArg), runs = Number(runsArg);

class Tensor {
  constructor(type, data, dims) {
    this.type = type;
    this.data = data;
    this.dims = dims;
    this.location = 'cpu';
  }
}

const binding = require(path.join(pkgDir, 'bin', 'napi-v6', process.platform, process.arch, 'onnxruntime_binding.node'));
binding.initOrtOnce(3 /* error */, Tensor, true);
const session = new binding.InferenceSession();
session.loadModel(modelPath, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: level,
});

// Same input as the C# side: a fixed ramp, so both runs do identical arithmetic.
const pixels = new Float32Array(batch * 3 * 28 * 28);
for (let i = 0; i < pixels.length; i++) pixels[i] = (i % 255) / 255;
const feeds = { [inputName]: new Tensor('float32', pixels, [batch, 3, 28, 28]) };
const fetches = { logits: null };

for (let i = 0; i < warmup; i++) session.run(feeds, fetches, {});
const blocks = 20, perBlock = Math.max(1, Math.floor(runs / blocks));
const blockMeans = [];
let totalNs = 0, sink = 0;
for (let b = 0; b < blocks; b++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < perBlock; i++) sink += session.run(feeds, fetches, {}).logits.data[0];
  const ns = Number(process.hrtime.bigint() - start);
  totalNs += ns;
  blockMeans.push(ns / perBlock / 1000);
}
blockMeans.sort((a, b) => a - b);
const median = (blockMeans[blocks / 2 - 1] + blockMeans[blocks / 2]) / 2;
const pkg = require(path.join(pkgDir, 'package.json'));
console.log(JSON.stringify({
  batch, threads, runs: blocks * perBlock, meanMicroseconds: totalNs / (blocks * perBlock) / 1000,
  medianBlockMicroseconds: median, minBlockMicroseconds: blockMeans[0], version: pkg.version, sink,
}));
session.dispose();
