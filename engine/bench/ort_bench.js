#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
// ort_bench.js - the ONNX Runtime side of the peer benchmark, the counterpart of ens-bench:
// one process, one session, times `runs` forwards after `warmup` and prints one JSON line.
//
//   node ort_bench.js --model M.onnx [--batch N] [--threads T] [--runs R] [--warmup W]
//                     [--input FILE.f32] [--logits-out FILE.f32] [--times]
//
// Same input as ens-bench: sin(i) over one image, repeated over the batch, or a raw float32
// image (--input). Needs onnxruntime-node on NODE_PATH (peer_bench.sh installs it).
'use strict';
const fs = require('fs');

function parseArgs(argv) {
  const a = { batch: 1, threads: 2, runs: 20, warmup: 3, times: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--times') { a.times = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${k} needs a value`);
    if (k === '--model') a.model = v;
    else if (k === '--input') a.input = v;
    else if (k === '--logits-out') a.logitsOut = v;
    else if (['--batch', '--threads', '--runs', '--warmup'].includes(k)) a[k.slice(2)] = parseInt(v, 10);
    else throw new Error(`unknown option ${k}`);
  }
  if (!a.model) throw new Error('--model is required');
  return a;
}

async function main() {
  let a;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`ort_bench: ${e.message}`);
    process.exit(2);
  }
  const rssBaseMb = process.resourceUsage().maxRSS / 1024; // node runtime alone
  const ort = require('onnxruntime-node');
  const sess = await ort.InferenceSession.create(a.model, {
    intraOpNumThreads: a.threads, interOpNumThreads: 1, executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  const img = 3 * 224 * 224;
  const x = new Float32Array(img * a.batch);
  if (a.input) {
    const b = fs.readFileSync(a.input);
    if (b.length !== img * 4) throw new Error(`${a.input}: expected ${img} float32 values`);
    x.set(new Float32Array(b.buffer, b.byteOffset, img));
  } else {
    for (let i = 0; i < img; i++) x[i] = Math.fround(Math.sin(i));
  }
  for (let b = 1; b < a.batch; b++) x.copyWithin(b * img, 0, img);
  const feeds = { input: new ort.Tensor('float32', x, [a.batch, 3, 224, 224]) };
  let r;
  for (let i = 0; i < a.warmup; i++) r = await sess.run(feeds);
  const t = [];
  for (let i = 0; i < a.runs; i++) {
    const t0 = process.hrtime.bigint();
    r = await sess.run(feeds);
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  if (a.logitsOut) {
    const l = r.logits.data;
    fs.writeFileSync(a.logitsOut, Buffer.from(l.buffer, l.byteOffset, l.byteLength));
  }
  const s = [...t].sort((p, q) => p - q);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  const p90 = s[Math.max(0, Math.ceil(0.9 * n) - 1)];
  const out = {
    engine: 'onnxruntime-node ' + require('onnxruntime-node/package.json').version,
    batch: a.batch, threads: a.threads, runs: a.runs, median_ms: median, p90_ms: p90, min_ms: s[0],
    ms_per_image: median / a.batch, images_per_s: 1e3 * a.batch / median,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024, node_base_rss_mb: rssBaseMb,
  };
  if (a.times) out.times_ms = t;
  console.log(JSON.stringify(out));
  await sess.release();
}

main().catch((e) => { console.error(`ort_bench: ${e.message}`); process.exit(1); });
