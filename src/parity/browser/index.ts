/** The headless-Chromium harness (harness.ts) and its static server (server.ts). */
export { BrowserHarness, chromiumProbe, chromiumPath, CHROMIUM_ARGS, type BrowserPageOptions, type ChromiumProbe } from './harness.js';
export { startStaticServer, packageDir, MIME, type StaticServer, type StaticServerOptions } from './server.js';
