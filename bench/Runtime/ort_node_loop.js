// Times ONNX Runtime's own Node binding (onnxruntime-node) running one model in a loop, as the
// reference for bench/Runtime/OrtRunBenchmarks.cs. Uses the package's native addon directly, so the
// onnxruntime-common dependency (not in the cached tarball) is not needed: the addon only wants a
// Tensor constructor, which a four-field class satisfies.
//
// usage: node ort_node_loop.js <extracted package dir> <model.onnx> <input name> <batch> <intra-op threads>
//                              <optimisation level: disabled|basic|extended|all> <warm-up runs> <timed runs | serve>
// With a run count: warms up, times that many runs with process.hrtime and prints one JSON line
//   {"batch":..,"threads":..,"runs":..,"meanMicroseconds":..,"version":..}.
// With "serve": warms up, then for every number N read from stdin times N runs and prints
//   {"meanMicroseconds":..} (one line each), so the C# benchmark can interleave node's blocks with its own.
'use strict';
const path = require('path');
const readline = require('readline');

const [pkgDir, modelPath, inputName, batchArg, threadsArg, level, warmupArg, runsArg] = process.argv.slice(2);
if (runsArg === undefined) {
  console.error('usage: node ort_node_loop.js <pkg dir> <model> <input name> <batch> <threads> <level> <warm-up> <runs|serve>');
  process.exit(2);
}
const batch = Number(batchArg), threads = Number(threadsArg), warmup = Number(warmupArg);

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
let sink = 0;

function timeRuns(runs) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) sink += session.run(feeds, fetches, {}).logits.data[0];
  return Number(process.hrtime.bigint() - start) / runs / 1000;
}

timeRuns(warmup);
if (runsArg === 'serve') {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const runs = Number(line.trim());
    if (!(runs > 0)) { lines.close(); return; }
    console.log(JSON.stringify({ meanMicroseconds: timeRuns(runs) }));
  });
  lines.on('close', () => session.dispose());
} else {
  const runs = Number(runsArg);
  const pkg = require(path.join(pkgDir, 'package.json'));
  console.log(JSON.stringify({ batch, threads, runs, meanMicroseconds: timeRuns(runs), version: pkg.version, sink }));
  session.dispose();
}
