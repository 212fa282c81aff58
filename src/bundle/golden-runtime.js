
// ---------------------------------------------------------------------------
// sf2-export golden set self-test (appended to sf2.js, sf2-tfjs.js and sf2-ort.js
// at export; the format is written by src/targets/golden-set.ts).
//
// golden.bin: "SF2G", u32 header length, JSON header, then the inputs (rows x
// 3 x H x W as 'u8' pixels, 'f16' or 'f32', NCHW) and the reference raw
// embeddings (rows x D float32). A row passes when the runtime's output is
// finite and cos(output, reference) >= header.thresholds.minCosine (the parity
// threshold of the bundle's precision); the self-test passes when every row
// does, the data's sha256 is the header's digest, and the weights (when their
// bytes are at hand) have the sha256 the golden set was made for.
// ---------------------------------------------------------------------------

function goldenF16(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Parse golden.bin bytes into { header, inputs (Float32Array, NCHW), embeddings, data }. */
function goldenParse(bytes) {
  const bad = (why) => new Sf2Error('golden', `not an sf2-export golden set (${why}): use the golden.bin written beside the model`);
  if (bytes.byteLength < 8 || String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) !== 'SF2G') throw bad('no SF2G magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hl = dv.getUint32(4, true);
  if (8 + hl > bytes.byteLength) throw bad('cut short');
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hl)));
  } catch (e) {
    throw bad('header is not JSON');
  }
  if (header.format !== 'sf2-golden' || header.version !== 1) throw bad(`format ${header.format} version ${header.version}`);
  const data = bytes.subarray(8 + hl);
  const [c, h, w] = header.inputShape;
  const plane = h * w, n = header.rows * c * plane;
  const inp = header.inputs, enc = inp.encoding;
  const size = enc === 'u8' ? 1 : enc === 'f16' ? 2 : 4;
  if (inp.byteLength !== n * size || inp.offset + inp.byteLength > data.byteLength) throw bad('inputs cut short');
  if (header.embeddings.offset + header.rows * header.dim * 4 > data.byteLength) throw bad('embeddings cut short');
  const raw = new Uint8Array(data.subarray(inp.offset, inp.offset + inp.byteLength));
  const inputs = new Float32Array(n);
  if (enc === 'f32') inputs.set(new Float32Array(raw.buffer));
  else if (enc === 'f16') {
    const u = new Uint16Array(raw.buffer);
    for (let i = 0; i < n; i++) inputs[i] = goldenF16(u[i]);
  } else {
    for (let i = 0; i < n; i++) {
      const ch = Math.floor(i / plane) % c;
      inputs[i] = (raw[i] - inp.mean[ch]) / inp.std[ch];
    }
  }
  const eo = header.embeddings.offset;
  const embeddings = new Float32Array(new Uint8Array(data.subarray(eo, eo + header.rows * header.dim * 4)).buffer);
  return { header, inputs, embeddings, data };
}

/** Bytes of a golden set or weight file: a URL (http(s): fetched, file: read in Node), an ArrayBuffer or a typed array. */
async function goldenBytes(src, what) {
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  let href;
  try {
    href = new URL(String(src), globalThis.location && globalThis.location.href).href;
  } catch (e) {
    throw new Sf2Error('golden', `${what}: ${JSON.stringify(String(src))} is not a URL (in Node pass a file: URL or the bytes)`, { cause: e });
  }
  if (href.startsWith('file:')) {
    const fs = await import(/* @vite-ignore */ ['node', 'fs/promises'].join(':'));
    try {
      const b = await fs.readFile(new URL(href));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      throw new Sf2Error('golden', `${what}: cannot read ${href}: ${e && e.message}`, { cause: e });
    }
  }
  let r;
  try {
    r = await fetch(href);
  } catch (e) {
    throw new Sf2Error('golden', `${what}: cannot fetch ${href}: ${e && e.message}`, { cause: e });
  }
  if (!r.ok) throw new Sf2Error('golden', `${what}: cannot fetch ${href}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Lower-case hex sha256 through WebCrypto, or null where there is none (an insecure http: page). */
async function goldenSha256(bytes) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) return null;
  const d = new Uint8Array(await subtle.digest('SHA-256', bytes));
  let s = '';
  for (const b of d) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * Check weight files against the golden set: `files` maps a path relative to the
 * golden file's folder to its bytes. Returns failures (strings) and 'ok',
 * 'mismatch' or 'not-checked' (nothing given, or no WebCrypto).
 */
async function goldenCheckWeights(header, files) {
  const failures = [];
  let checked = 0;
  for (const w of header.weights) {
    const b = files && files.get(w.path);
    if (!b) continue;
    const h = await goldenSha256(b);
    if (h === null) return { weights: 'not-checked', failures };
    checked++;
    if (b.byteLength !== w.bytes || h !== w.sha256) failures.push(`${w.path}: sha256 ${h.slice(0, 16)}... is not the ${w.sha256.slice(0, 16)}... the bundle was exported with (damaged or partial download?)`);
  }
  return { weights: failures.length ? 'mismatch' : checked ? 'ok' : 'not-checked', failures };
}

/** Compare a runtime's raw outputs (rows x D) with the golden embeddings. */
function goldenCompare(golden, out) {
  const { header, embeddings } = golden;
  const d = header.dim, rows = header.rows, t = header.thresholds.minCosine;
  const failures = [];
  let minCosine = 1, maxAbsDiff = 0, worstRow = 0;
  if (!out || out.length !== rows * d) {
    failures.push(`the model gave ${out ? out.length : 0} values, expected ${rows} x ${d}`);
    return { pass: false, minCosine: NaN, maxAbsDiff: NaN, rows, worstRow: 0, failures };
  }
  for (let r = 0; r < rows; r++) {
    let ab = 0, aa = 0, bb = 0, finite = true;
    for (let j = r * d; j < (r + 1) * d; j++) {
      const a = out[j], b = embeddings[j];
      if (!Number.isFinite(a)) finite = false;
      ab += a * b;
      aa += a * a;
      bb += b * b;
      const diff = Math.abs(a - b);
      if (!(diff <= maxAbsDiff)) maxAbsDiff = diff;
    }
    const cos = finite && aa > 0 ? ab / Math.sqrt(aa * bb) : NaN;
    if (!(cos >= minCosine)) {
      minCosine = cos;
      worstRow = r;
    }
    if (!(cos >= t)) failures.push(`row ${r}: cosine ${Number.isNaN(cos) ? 'NaN (output not finite or zero)' : cos.toPrecision(7)} < ${t}`);
  }
  return { pass: failures.length === 0, minCosine, maxAbsDiff, rows, worstRow, failures };
}

/** golden.bin parsed and its data digest checked: { golden, failures }. */
async function goldenLoad(src, what) {
  const bytes = await goldenBytes(src, what);
  const golden = goldenParse(bytes);
  const failures = [];
  const h = await goldenSha256(golden.data);
  if (h !== null && h !== golden.header.digest) failures.push('golden.bin: its rows do not match its digest (damaged download?)');
  return { golden, failures };
}

/** The golden inputs in the layout the model is fed (NCHW as stored, or NHWC). */
function goldenFeed(golden, layout) {
  const x = golden.inputs;
  if (layout !== 'NHWC') return x;
  const [c, h, w] = golden.header.inputShape;
  const n = golden.header.rows, y = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) y[(b * h * w + i) * c + k] = x[(b * c + k) * h * w + i];
  return y;
}

/** The result object every helper returns. */
function goldenResult(golden, cmp, extraFailures, weights, adapter, backend, t0) {
  const failures = [...extraFailures, ...cmp.failures];
  return {
    pass: cmp.pass && extraFailures.length === 0,
    minCosine: cmp.minCosine,
    maxAbsDiff: cmp.maxAbsDiff,
    rows: cmp.rows,
    worstRow: cmp.worstRow,
    threshold: golden.header.thresholds.minCosine,
    failures,
    adapter,
    backend,
    precision: golden.header.precision,
    weights,
    synthetic: !!golden.header.reference.synthetic,
    ms: Math.round((performance.now() - t0) * 10) / 10,
  };
}
