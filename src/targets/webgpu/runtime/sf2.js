// sf2.js: runs a face-embedding model exported by sf2-export on WebGPU.
// No dependencies. The model (model.json + weights.bin) carries its own WGSL
// kernels, generated at export time for its exact shapes; this file only uploads
// weights, allocates activation buffers and dispatches the kernels in order.
//
//   import { load } from './sf2.js';
//   const model = await load(new URL('./', import.meta.url));        // or { manifest, weights }
//   const e = await model.embed(pixels, { flipTTA: true, normalize: true });
//   const t = await model.selfTest();    // or load(url, { selfTest: true }): the golden set on this device
//   model.dispose();
//
// Inputs: a Float32Array of N x 3 x H x W preprocessed values (NCHW, RGB,
// (pixel - mean) / std), or RGBA pixels normalized on the GPU: a Uint8Array /
// Uint8ClampedArray of N x H x W x 4, an ImageData, an ImageBitmap (or canvas,
// image, video frame), or an array of those. Output: Float32Array N x D, raw
// embeddings, or f(x) + f(flip x) with flipTTA, L2-normalized with normalize.

const FORMAT = 'sf2-webgpu';
const VERSION = 1;

/** Every error this module throws: `code` is one of the documented codes. */
export class Sf2Error extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'Sf2Error';
    this.code = code;
  }
}

const GPUBufferUsageC = () => globalThis.GPUBufferUsage;

/**
 * Load a bundle. `source`: the bundle folder's URL (string or URL; model.json and
 * weights.bin are fetched from it), or { manifest, weights } with the parsed
 * model.json and weights.bin's bytes (ArrayBuffer or a typed array).
 * options.device: a GPUDevice to use (its limits and features are respected);
 * otherwise navigator.gpu is asked for an adapter and a device.
 * options.arithmetic: 'auto' (f16 kernels when the bundle has them and the device
 * has shader-f16), 'f16' (require them) or 'f32'.
 * options.maxBindingSize: use at most this many bytes per buffer binding (default:
 * the device's maxStorageBufferBindingSize); weights are spread over several
 * buffers and big batches run in several passes to stay under it.
 * options.selfTest: run model.selfTest() once before resolving; a failure disposes
 * the model and throws Sf2Error 'self-test' (err.result holds the result).
 * With { manifest, weights }, source.golden (golden.bin's bytes) is the golden set.
 */
export async function load(source, options = {}) {
  const { manifest, weights, dir } = await readSource(source);
  checkManifest(manifest, weights);
  const gpu = await openDevice(manifest, options);
  gpu.arithmetic = options.arithmetic || 'auto';
  gpu.maxBindingSize = options.maxBindingSize;
  const model = new Model(manifest, weights, gpu);
  // Self-test (golden.bin beside model.json, or source.golden): weights fetched from a URL are hashed (WebCrypto) for it.
  model._golden = { dir, bytes: source && source.golden, weightsSha: dir ? goldenSha256(weights) : null };
  try {
    await model._init();
  } catch (e) {
    model.dispose();
    throw e;
  }
  if (options.selfTest) {
    let r;
    try {
      r = await model.selfTest();
    } catch (e) {
      model.dispose();
      throw e;
    }
    if (!r.pass) {
      model.dispose();
      const a = r.adapter;
      const err = new Sf2Error('self-test', `self-test failed on ${a.vendor || 'this'} ${a.architecture || ''} adapter${a.isFallbackAdapter ? ' (fallback)' : ''}: ${r.failures.join('; ')}`);
      err.result = r;
      throw err;
    }
  }
  return model;
}

async function readSource(source) {
  if (source && typeof source === 'object' && !(source instanceof URL) && 'manifest' in source) {
    const w = source.weights;
    let bytes;
    if (w instanceof ArrayBuffer) bytes = new Uint8Array(w);
    else if (ArrayBuffer.isView(w)) bytes = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    else throw new Sf2Error('bundle', 'load({ manifest, weights }): weights must be an ArrayBuffer or a typed array');
    const manifest = typeof source.manifest === 'string' ? JSON.parse(source.manifest) : source.manifest;
    return { manifest, weights: bytes };
  }
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw new Sf2Error('bundle', 'load(source): source must be the bundle folder URL or { manifest, weights }');
  }
  let dir;
  try {
    dir = new URL(String(source), globalThis.location && globalThis.location.href).href;
  } catch (e) {
    throw new Sf2Error('bundle', `load(${JSON.stringify(String(source))}): not a URL (in Node, pass { manifest, weights } or a file: URL)`, { cause: e });
  }
  if (!dir.endsWith('/') && !dir.endsWith('model.json')) dir += '/';
  const url = (name) => new URL(name, dir).href;
  const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(url('model.json'))));
  const weights = await fetchBytes(url(manifest.weights?.file ?? 'weights.bin'));
  return { manifest, weights, dir };
}

async function fetchBytes(href) {
  if (href.startsWith('file:')) {
    // Node: fetch() does not read files; use the file system (no bundler sees this import).
    const fs = await import(/* @vite-ignore */ ['node', 'fs/promises'].join(':'));
    const b = await fs.readFile(new URL(href));
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  let r;
  try {
    r = await fetch(href);
  } catch (e) {
    throw new Sf2Error('bundle', `cannot fetch ${href}: ${e && e.message}`, { cause: e });
  }
  if (!r.ok) throw new Sf2Error('bundle', `cannot fetch ${href}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function checkManifest(m, weights) {
  if (!m || m.format !== FORMAT) throw new Sf2Error('bundle', `not an sf2-export WebGPU model (format ${m && m.format}, expected ${FORMAT})`);
  if (m.version !== VERSION) throw new Sf2Error('bundle', `model.json version ${m.version} is not supported by this sf2.js (version ${VERSION}); use the sf2.js written beside it`);
  if (weights.byteLength !== m.weights.byteLength) {
    throw new Sf2Error('bundle', `weights.bin has ${weights.byteLength} bytes, model.json expects ${m.weights.byteLength}: the files do not belong together or the download was cut`);
  }
}

async function openDevice(manifest, options) {
  const wantF16 = options.arithmetic !== 'f32' && Object.values(manifest.variants).some((v) => v.requires.includes('shader-f16'));
  if (options.device) return { device: options.device, owned: false, adapterInfo: adapterInfoOf(options.device.adapterInfo) };
  const gpu = globalThis.navigator && globalThis.navigator.gpu;
  if (!gpu) throw new Sf2Error('no-webgpu', 'WebGPU is not available here (navigator.gpu is missing): use a browser with WebGPU, or pass { device } (in Node, from the "webgpu" package)');
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference || 'high-performance' });
  if (!adapter) throw new Sf2Error('no-adapter', 'no WebGPU adapter: the browser or driver offers no GPU (check chrome://gpu, or enable a software adapter)');
  const requiredFeatures = [];
  if (wantF16 && adapter.features.has('shader-f16')) requiredFeatures.push('shader-f16');
  // Ask for the largest buffers the adapter allows: activations of a batch can be big.
  const requiredLimits = {};
  for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension']) {
    if (adapter.limits[k] !== undefined) requiredLimits[k] = adapter.limits[k];
  }
  let device;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (e) {
    throw new Sf2Error('no-adapter', `the WebGPU adapter refused a device: ${e && e.message}`, { cause: e });
  }
  return { device, owned: true, adapterInfo: adapterInfoOf(adapter.info) };
}

function adapterInfoOf(info) {
  if (!info) return { vendor: '', architecture: '', description: '', isFallbackAdapter: false };
  return {
    vendor: info.vendor || '',
    architecture: info.architecture || '',
    description: info.description || '',
    isFallbackAdapter: !!info.isFallbackAdapter,
  };
}

function pickVariant(manifest, device, arithmetic) {
  const has = (v) => v.requires.every((f) => device.features.has(f));
  const vs = manifest.variants;
  if (arithmetic === 'f16') {
    if (!vs.f16) throw new Sf2Error('bundle', `arithmetic 'f16' asked for, but this ${manifest.precision} bundle has no f16 kernels`);
    if (!has(vs.f16)) throw new Sf2Error('limits', "arithmetic 'f16' asked for, but the device has no 'shader-f16'");
    return 'f16';
  }
  if (arithmetic !== 'f32' && vs.f16 && has(vs.f16)) return 'f16';
  if (!vs.f32) throw new Sf2Error('bundle', 'the bundle has no f32 kernels');
  return 'f32';
}

const ceilDiv = (a, b) => Math.floor((a + b - 1) / b);
const round16 = (x) => Math.max(16, Math.ceil(x / 16) * 16);

class Model {
  constructor(manifest, weights, gpu) {
    this.manifest = manifest;
    this._weightsBytes = weights;
    this.device = gpu.device;
    this._ownsDevice = gpu.owned;
    this._maxBindingSize = gpu.maxBindingSize;
    this._lost = null;
    this._disposed = false;
    this._chain = Promise.resolve();
    this._buffers = [];
    this._cap = 0;
    const m = manifest;
    this.inputShape = [3, m.input.height, m.input.width];
    this.dim = m.output.dim;
    this.variant = pickVariant(m, this.device, gpu.arithmetic);
    this.info = {
      precision: m.precision,
      variant: this.variant,
      arithmetic: this.variant === 'f16' ? 'f16' : 'f32',
      adapter: gpu.adapterInfo,
      inputShape: this.inputShape,
      dim: this.dim,
      maxBatch: 0,
    };
    this.device.lost.then((info) => {
      this._lost = info;
    });
  }

  async _init() {
    const m = this.manifest;
    const d = this.device;
    const lim = d.limits;
    this._bindLimit = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize, this._maxBindingSize || Infinity);
    // Weights: tensors packed into buffers no larger than one binding may be.
    const U = GPUBufferUsageC();
    this._weightBinding = [];
    let cur = null;
    const bytes = this._weightsBytes;
    const flush = () => {
      if (!cur) return;
      const size = Math.ceil((cur.end - cur.start) / 4) * 4;
      const buf = d.createBuffer({ size, usage: U.STORAGE | U.COPY_DST, mappedAtCreation: true, label: `sf2 weights @${cur.start}` });
      new Uint8Array(buf.getMappedRange()).set(bytes.subarray(cur.start, cur.end));
      buf.unmap();
      this._buffers.push(buf);
      for (const t of cur.tensors) this._weightBinding[t.index] = { buffer: buf, offset: t.offset - cur.start, size: Math.ceil(t.byteLength / 4) * 4 };
      cur = null;
    };
    m.weights.tensors.forEach((t, index) => {
      if (t.byteLength > this._bindLimit) {
        throw new Sf2Error('limits', `weight tensor ${t.name} needs ${t.byteLength} bytes in one binding; this device allows ${this._bindLimit} (maxStorageBufferBindingSize)`);
      }
      if (cur && t.offset + t.byteLength - cur.start > this._bindLimit) flush();
      if (!cur) cur = { start: t.offset, end: t.offset, tensors: [] };
      cur.end = t.offset + t.byteLength;
      cur.tensors.push({ index, offset: t.offset, byteLength: t.byteLength });
    });
    flush();
    this._weightsBytes = null;

    this._params = d.createBuffer({ size: 16, usage: U.UNIFORM | U.COPY_DST, label: 'sf2 params' });
    this._buffers.push(this._params);

    // Pipelines for every shader of the chosen variant.
    const v = m.variants[this.variant];
    const used = new Set([...v.steps, v.io.inputF32, v.io.inputRgba, v.io.inputTexture, v.io.finish]);
    const pipelines = [];
    await Promise.all(
      [...used].map(async (i) => {
        const module = d.createShaderModule({ code: v.shaders[i], label: `sf2 shader ${i}` });
        try {
          pipelines[i] = await d.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: `sf2 shader ${i}` });
        } catch (e) {
          let detail = '';
          try {
            const info = await module.getCompilationInfo();
            detail = info.messages.map((x) => `${x.type} ${x.lineNum}:${x.linePos} ${x.message}`).join('; ');
          } catch {
            /* no compilation info */
          }
          throw new Sf2Error('shader', `shader ${i} of variant ${this.variant} failed to compile: ${(e && e.message) || e}${detail ? ` (${detail})` : ''}`, { cause: e });
        }
      }),
    );
    this._pipelines = pipelines;
    this._v = v;

    // The largest network batch every buffer and dispatch allows.
    const actBytes = v.activation === 'f16' ? 2 : 4;
    this._slotBytes = m.slots.map((s) => s.elementsPerImage * (s.kind === 'f32' ? 4 : actBytes));
    const hw = m.input.height * m.input.width;
    let maxN = Math.floor(this._bindLimit / Math.max(...this._slotBytes, 3 * hw * 4, this.dim * 4));
    const maxWg = lim.maxComputeWorkgroupsPerDimension;
    const dispatches = [...m.steps.map((s) => s.dispatch), ...Object.values(m.io).map((s) => s.dispatch)];
    for (const dsp of dispatches) {
      for (const dim of [dsp.x, dsp.y, dsp.z]) {
        const per = dim.perN + dim.perK;
        if (per > 0) maxN = Math.min(maxN, Math.floor((maxWg * dim.div - dim.add) / per));
        else if (ceilDiv(dim.add, dim.div) > maxWg) throw new Sf2Error('limits', `a kernel needs ${ceilDiv(dim.add, dim.div)} workgroups in one dimension; this device allows ${maxWg}`);
      }
    }
    if (maxN < 2) throw new Sf2Error('limits', `one image needs more memory per binding than this device allows (maxStorageBufferBindingSize ${lim.maxStorageBufferBindingSize})`);
    this._maxN = maxN;
    this.info.maxBatch = Math.floor(maxN / 2);
  }

  /** Grow the activation and staging buffers to hold a network batch of n (k caller images). */
  _ensure(n) {
    if (n <= this._cap) return;
    const d = this.device;
    const U = GPUBufferUsageC();
    for (const b of this._actBuffers || []) b.destroy();
    const cap = Math.min(this._maxN, Math.max(n, this._cap * 2));
    const m = this.manifest;
    const hw = m.input.height * m.input.width;
    this._actBuffers = this._slotBytes.map((b, i) => d.createBuffer({ size: round16(b * cap), usage: U.STORAGE, label: `sf2 slot ${i}` }));
    this._inputF32 = d.createBuffer({ size: round16(cap * 3 * hw * 4), usage: U.STORAGE | U.COPY_DST, label: 'sf2 input f32' });
    this._inputRgba = d.createBuffer({ size: round16(cap * hw * 4), usage: U.STORAGE | U.COPY_DST, label: 'sf2 input rgba' });
    this._output = d.createBuffer({ size: round16(cap * this.dim * 4), usage: U.STORAGE | U.COPY_SRC, label: 'sf2 output' });
    this._actBuffers.push(this._inputF32, this._inputRgba, this._output);
    this._cap = cap;
    const bg = (shader, bindings, input) => {
      const p = this._pipelines[shader];
      return d.createBindGroup({ layout: p.getBindGroupLayout(0), entries: bindings.map((b, i) => ({ binding: i, resource: this._resource(b, input) })) });
    };
    const v = this._v;
    this._stepGroups = m.steps.map((s, i) => bg(v.steps[i], s.bindings, null));
    this._ioGroups = {
      f32: bg(v.io.inputF32, m.io.inputF32.bindings, this._inputF32),
      rgba: bg(v.io.inputRgba, m.io.inputRgba.bindings, this._inputRgba),
      finish: bg(v.io.finish, m.io.finish.bindings, null),
    };
  }

  _resource(b, input) {
    switch (b.buffer) {
      case 'params': return { buffer: this._params };
      case 'slot': return { buffer: this._actBuffers[b.slot] };
      case 'weights': return this._weightBinding[b.tensor];
      case 'input': return { buffer: input };
      case 'texture': return input;
      case 'output': return { buffer: this._output };
      default: throw new Sf2Error('bundle', `unknown binding ${JSON.stringify(b)}`);
    }
  }

  _check() {
    if (this._disposed) throw new Sf2Error('disposed', 'the model was disposed');
    if (this._lost) throw new Sf2Error('device-lost', `the GPU device was lost (${this._lost.reason}: ${this._lost.message}); load the model again`);
  }

  /**
   * Embed a batch. Returns Float32Array N x D. options.flipTTA: f(x) + f(flip x);
   * options.normalize: divide each row by its L2 norm.
   */
  embed(input, options = {}) {
    const run = this._chain.then(() => this._embed(input, options));
    this._chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Diagnostics: run the batch once more with every dispatch submitted on its own and
   * timed to completion (CPU clock around onSubmittedWorkDone, so it includes submit
   * overhead). Returns [{ name, ms }] in execution order, 'input' and 'finish' included.
   */
  profile(input, options = {}) {
    const run = this._chain.then(() => this._embed(input, { ...options, _profile: [] }));
    this._chain = run.catch(() => undefined);
    return run;
  }

  async _embed(input, options) {
    this._check();
    const src = classify(input, this.manifest);
    const flip = !!options.flipTTA;
    const k = src.count;
    const out = new Float32Array(k * this.dim);
    if (k === 0) return out;
    const perChunk = Math.max(1, Math.floor(this._maxN / (flip ? 2 : 1)));
    const chunkK = Math.min(k, src.kind === 'texture' ? Math.min(perChunk, this.device.limits.maxTextureArrayLayers) : perChunk);
    this._ensure(chunkK * (flip ? 2 : 1));
    const d = this.device;
    const U = GPUBufferUsageC();
    const readback = d.createBuffer({ size: round16(out.byteLength), usage: U.MAP_READ | U.COPY_DST, label: 'sf2 readback' });
    const m = this.manifest;
    const v = this._v;
    const hw = m.input.height * m.input.width;
    const textures = [];
    try {
      for (let i0 = 0; i0 < k; i0 += chunkK) {
        const kc = Math.min(chunkK, k - i0);
        const n = flip ? 2 * kc : kc;
        d.queue.writeBuffer(this._params, 0, new Uint32Array([n, kc, flip ? 1 : 0, options.normalize ? 1 : 0]));
        let ioShader, ioGroup, ioDispatch;
        if (src.kind === 'f32') {
          d.queue.writeBuffer(this._inputF32, 0, src.data, i0 * 3 * hw, kc * 3 * hw);
          [ioShader, ioGroup, ioDispatch] = [v.io.inputF32, this._ioGroups.f32, m.io.inputF32.dispatch];
        } else if (src.kind === 'rgba') {
          const bytes = src.rgba(i0, kc);
          d.queue.writeBuffer(this._inputRgba, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
          [ioShader, ioGroup, ioDispatch] = [v.io.inputRgba, this._ioGroups.rgba, m.io.inputRgba.dispatch];
        } else {
          const tex = d.createTexture({
            size: [m.input.width, m.input.height, kc],
            format: 'rgba8unorm',
            usage: globalThis.GPUTextureUsage.TEXTURE_BINDING | globalThis.GPUTextureUsage.COPY_DST | globalThis.GPUTextureUsage.RENDER_ATTACHMENT,
            label: 'sf2 input images',
          });
          textures.push(tex);
          for (let j = 0; j < kc; j++) {
            d.queue.copyExternalImageToTexture({ source: src.images[i0 + j] }, { texture: tex, origin: [0, 0, j] }, [m.input.width, m.input.height, 1]);
          }
          const view = tex.createView({ dimension: '2d-array' });
          const p = this._pipelines[v.io.inputTexture];
          ioGroup = d.createBindGroup({ layout: p.getBindGroupLayout(0), entries: m.io.inputTexture.bindings.map((b, i) => ({ binding: i, resource: this._resource(b, view) })) });
          ioShader = v.io.inputTexture;
          ioDispatch = m.io.inputTexture.dispatch;
        }
        const prof = options._profile;
        let enc = d.createCommandEncoder({ label: 'sf2 embed' });
        let pass = enc.beginComputePass();
        const dispatch = async (shader, group, dsp, name) => {
          pass.setPipeline(this._pipelines[shader]);
          pass.setBindGroup(0, group);
          const g = (x) => ceilDiv(n * x.perN + kc * x.perK + x.add, x.div);
          pass.dispatchWorkgroups(g(dsp.x), g(dsp.y), g(dsp.z));
          if (prof) {
            pass.end();
            const t0 = performance.now();
            d.queue.submit([enc.finish()]);
            await d.queue.onSubmittedWorkDone();
            prof.push({ name, ms: performance.now() - t0 });
            enc = d.createCommandEncoder({ label: 'sf2 profile' });
            pass = enc.beginComputePass();
          }
        };
        await dispatch(ioShader, ioGroup, ioDispatch, 'input');
        for (let s = 0; s < m.steps.length; s++) await dispatch(v.steps[s], this._stepGroups[s], m.steps[s].dispatch, m.steps[s].kernel);
        await dispatch(v.io.finish, this._ioGroups.finish, m.io.finish.dispatch, 'finish');
        pass.end();
        enc.copyBufferToBuffer(this._output, 0, readback, i0 * this.dim * 4, kc * this.dim * 4);
        d.queue.submit([enc.finish()]);
      }
      try {
        await readback.mapAsync(globalThis.GPUMapMode.READ);
      } catch (e) {
        this._check();
        throw new Sf2Error('device-lost', `reading the result back failed: ${e && e.message}`, { cause: e });
      }
      out.set(new Float32Array(readback.getMappedRange(), 0, out.length));
      readback.unmap();
    } finally {
      readback.destroy();
      for (const t of textures) t.destroy();
    }
    return options._profile || out;
  }

  /**
   * Run the bundle's golden set (golden.bin) through this model on this device and
   * compare with the reference embeddings at the precision's parity threshold.
   * Resolves to { pass, minCosine, maxAbsDiff, rows, worstRow, threshold, failures,
   * adapter, backend, precision, weights, synthetic, ms }; weights is 'ok' or
   * 'mismatch' when weights.bin was fetched and hashed, else 'not-checked'.
   * options.golden: the golden set's URL or bytes instead.
   */
  async selfTest(options = {}) {
    const t0 = performance.now();
    this._check();
    const g = this._golden || {};
    const src = options.golden ?? g.bytes ?? (g.dir ? new URL('golden.bin', g.dir).href : null);
    if (!src) throw new Sf2Error('golden', 'selfTest(): no golden set: load the bundle from its URL, pass { manifest, weights, golden } to load(), or call selfTest({ golden })');
    const { golden, failures } = await goldenLoad(src, 'selfTest');
    let weights = 'not-checked';
    const want = golden.header.weights[0];
    const have = g.weightsSha ? await g.weightsSha : null;
    if (want && have) {
      weights = have === want.sha256 ? 'ok' : 'mismatch';
      if (weights === 'mismatch') failures.push(`weights.bin: sha256 ${have.slice(0, 16)}... is not the ${want.sha256.slice(0, 16)}... the bundle was exported with (damaged or partial download?)`);
    }
    const out = await this.embed(golden.inputs);
    const a = this.info.adapter;
    const adapter = { vendor: a.vendor, architecture: a.architecture, isFallbackAdapter: a.isFallbackAdapter };
    return goldenResult(golden, goldenCompare(golden, out), failures, weights, adapter, `webgpu ${this.variant}`, t0);
  }

  /** Free every GPU buffer (and the device when load() created it). */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    for (const b of this._buffers) b.destroy();
    for (const b of this._actBuffers || []) b.destroy();
    if (this._ownsDevice) this.device.destroy();
  }
}

/** What kind of input this is, how many images, and how to get its bytes. */
function classify(input, m) {
  const H = m.input.height, W = m.input.width;
  const chw = 3 * H * W, hw4 = 4 * H * W;
  const wrongSize = (what) => new Sf2Error('input-size', `${what}; this model takes ${W}x${H} aligned faces (Float32Array of N*3*${H}*${W}, or RGBA pixels of N*${H}*${W}*4)`);
  if (input instanceof Float32Array) {
    if (input.length % chw !== 0) throw wrongSize(`Float32Array of ${input.length} values is not a whole number of 3x${H}x${W} images`);
    return { kind: 'f32', count: input.length / chw, data: input };
  }
  if (input instanceof Uint8Array || input instanceof Uint8ClampedArray) {
    if (input.length % hw4 !== 0) throw wrongSize(`${input.constructor.name} of ${input.length} bytes is not a whole number of ${H}x${W} RGBA images`);
    return { kind: 'rgba', count: input.length / hw4, rgba: (i0, k) => input.subarray(i0 * hw4, (i0 + k) * hw4) };
  }
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) return { kind: 'f32', count: 0, data: new Float32Array(0) };
  const isImageData = (x) => x && typeof x === 'object' && 'data' in x && (x.data instanceof Uint8ClampedArray || x.data instanceof Uint8Array) && typeof x.width === 'number';
  const size = (x) => [x.displayWidth ?? x.videoWidth ?? x.naturalWidth ?? x.width, x.displayHeight ?? x.videoHeight ?? x.naturalHeight ?? x.height];
  for (const x of list) {
    if (!x || typeof x !== 'object') throw new Sf2Error('input-type', `cannot embed ${typeof x}: pass a Float32Array, RGBA bytes, ImageData or ImageBitmap`);
    const [w, h] = size(x);
    if (w !== W || h !== H) throw wrongSize(`an image of ${w}x${h}`);
  }
  if (list.every(isImageData)) {
    return {
      kind: 'rgba',
      count: list.length,
      rgba: (i0, k) => {
        const out = new Uint8Array(k * hw4);
        for (let j = 0; j < k; j++) out.set(list[i0 + j].data, j * hw4);
        return out;
      },
    };
  }
  if (list.some(isImageData)) throw new Sf2Error('input-type', 'do not mix ImageData with other image sources in one batch');
  return { kind: 'texture', count: list.length, images: list };
}
