// Benchmark peer: ONNX Runtime (onnxruntime-node, CPU) on the same model and input.
// usage: node bench/ort_bench.js MODEL.onnx INPUT.npy THREADS RUNS [OUT.npy]
// Prints `ort latency_ms min=X median=Y runs=N threads=T` (one warm-up run first).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

// Reads a float32 C-order .npy file into {dims, data}.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'<f4'")) throw new Error(`${file}: only float32 .npy is supported`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const start = 10 + hlen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  return { dims: shape, data };
}

// Writes a float32 tensor as .npy (format 1.0).
function writeNpy(file, dims, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const [model, input, threads = '1', runs = '10', out] = process.argv.slice(2);
  if (!model || !input) throw new Error('usage: ort_bench.js MODEL.onnx INPUT.npy THREADS RUNS [OUT.npy]');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
  });
  const x = readNpy(input);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims) };
  let result = await session.run(feeds); // warm-up
  const times = [];
  for (let i = 0; i < Number(runs); i++) {
    const t0 = process.hrtime.bigint();
    result = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  console.log(`ort latency_ms min=${times[0].toFixed(3)} median=${median.toFixed(3)} runs=${times.length} threads=${threads}`);
  if (out) {
    const y = result[session.outputNames[0]];
    writeNpy(out, y.dims, y.data);
  }
}

main().catch(e => { console.error(`ort_bench: error: ${e.message}`); process.exit(1); });
