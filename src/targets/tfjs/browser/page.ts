/**
 * A plain web page that runs a tfjs bundle the way a site would: the published
 * UMD builds of @tensorflow/tfjs-core, tfjs-converter and one backend as
 * <script> tags (global `tf`), then `tf.loadGraphModel(url)` over HTTP.
 * The parity runtime for Chromium (src/parity/runtimes/tfjs-browser.ts) serves
 * it with the bundle; docs/targets.md shows the same code.
 *
 * The page defines window.sf2tfjs = { init, load, run, release } and sets
 * window.sf2tfjsReady. `run` takes NCHW float32 data and transposes it for a
 * bundle written with an NHWC input (as the bundle's metadata says).
 */
export type TfjsBrowserBackend = 'webgl' | 'webgpu' | 'wasm' | 'cpu';

/** Script files (relative to the mount of each package's dist/) in load order. */
export const TFJS_SCRIPTS: Readonly<Record<string, { readonly pkg: string; readonly file: string }>> = {
  core: { pkg: '@tensorflow/tfjs-core', file: 'tf-core.min.js' },
  converter: { pkg: '@tensorflow/tfjs-converter', file: 'tf-converter.min.js' },
  webgl: { pkg: '@tensorflow/tfjs-backend-webgl', file: 'tf-backend-webgl.min.js' },
  webgpu: { pkg: '@tensorflow/tfjs-backend-webgpu', file: 'tf-backend-webgpu.min.js' },
  wasm: { pkg: '@tensorflow/tfjs-backend-wasm', file: 'tf-backend-wasm.min.js' },
};

/** The mount path of a package's dist/ on the page's server. */
export function scriptMount(key: string): string {
  return `/tfjs-${key}/`;
}

export function tfjsPageHtml(backend: TfjsBrowserBackend): string {
  const keys = ['core', 'converter', ...(backend === 'cpu' ? [] : [backend])];
  const scripts = keys.map((k) => `<script src="${scriptMount(k)}${TFJS_SCRIPTS[k]!.file}"></script>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>sf2-export tfjs ${backend}</title>
${scripts}
</head><body>
<script>
let model, inputKey, nhwc = false;
window.sf2tfjs = {
  async init() {
    ${backend === 'wasm' ? `tf.wasm.setWasmPaths('${scriptMount('wasm')}');` : ''}
    if (!(await tf.setBackend('${backend}'))) throw new Error('tfjs backend ${backend} does not start');
    await tf.ready();
    // Only this backend's script is on the page, so nothing can fall back to another one.
    const info = { backend: tf.getBackend(), version: tf.version_core, registered: Object.keys(tf.engine().registryFactory) };
    if ('${backend}' === 'webgl') {
      const gl = document.createElement('canvas').getContext('webgl2');
      const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
      info.renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : (gl ? gl.getParameter(gl.RENDERER) : 'no webgl2');
      info.vendor = ext ? gl.getParameter(ext.UNMASKED_VENDOR_WEBGL) : (gl ? gl.getParameter(gl.VENDOR) : '');
      info.float32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
    }
    return info;
  },
  async load(url) {
    model = await tf.loadGraphModel(url);
    inputKey = Object.keys(model.modelSignature.inputs)[0];
    const meta = (model.metadata && model.metadata.sf2Export) || {};
    nhwc = !!(meta.input && meta.input.layout === 'NHWC' && meta.input.sourceLayout !== 'NHWC');
    return { inputKey, nhwc, embeddingDim: meta.embeddingDim };
  },
  async run(data, dims) {
    if (tf.getBackend() !== '${backend}') throw new Error('tfjs is on ' + tf.getBackend() + ', not ${backend}');
    const y = tf.tidy(() => {
      const x = tf.tensor4d(data, dims);
      return model.execute({ [inputKey]: nhwc ? tf.transpose(x, [0, 2, 3, 1]) : x });
    });
    const out = await y.data();
    y.dispose();
    return new Float32Array(out);
  },
  release() { if (model) model.dispose(); model = undefined; },
};
window.sf2tfjsReady = true;
</script></body></html>`;
}
