import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * The plotting library the HTML report inlines (uPlot: no dependencies, ~50 KB minified, a
 * self-executing browser build that defines the global `uPlot`). Its files are read from
 * node_modules at run time, once, so every report.html carries the library's code and opens
 * offline.
 */
export interface PlotLibrary {
  name: string;
  version: string;
  license: string;
  /** The browser build, safe to place between <script> and </script>. */
  js: string;
  /** Its stylesheet, safe to place between <style> and </style>. */
  css: string;
}

const PACKAGE = 'uplot';
let cached: PlotLibrary | null = null;

/** Makes text safe as the body of a <script> or <style> element (HTML ends those at `</tag`). */
export function inlineSafe(text: string, tag: 'script' | 'style'): string {
  // `<\/` means the same as `</` inside JS strings, regexes and comments, the only places a JS
  // build can hold it; `<!--` inside a script opens the "escaped" tokenizer state, so break it too.
  const closing = new RegExp(`</(${tag})`, 'gi');
  let out = text.replace(closing, '<\\/$1');
  if (tag === 'script') out = out.replace(/<!--/g, '<\\!--');
  return out;
}

export function plotLibrary(): PlotLibrary {
  if (cached !== null) return cached;
  const require = createRequire(import.meta.url);
  let pkgPath: string;
  try {
    pkgPath = require.resolve(`${PACKAGE}/package.json`);
  } catch {
    throw new Error(
      `the plotting library '${PACKAGE}' is not installed (run npm install in numatier's directory)`,
    );
  }
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string; license: string };
  const js = readFileSync(require.resolve(`${PACKAGE}/dist/uPlot.iife.min.js`), 'utf8');
  const css = readFileSync(require.resolve(`${PACKAGE}/dist/uPlot.min.css`), 'utf8');
  const license = readFileSync(require.resolve(`${PACKAGE}/LICENSE`), 'utf8');
  cached = {
    name: 'uPlot',
    version: pkg.version,
    license,
    js: inlineSafe(js, 'script'),
    css: inlineSafe(css, 'style'),
  };
  return cached;
}
