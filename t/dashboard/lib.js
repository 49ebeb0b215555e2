// Shared bootstrap of the browser drivers (t/dashboard/*.js): headless
// Chromium through playwright-core, named steps that record their
// duration or error, a page's console and page errors, and the one JSON
// object a driver prints for its .t file to judge.
//
//   const d = require('./lib.js').driver({ extra: 'fields of out' });
//   d.run(async () => {
//     const browser = await d.step('launch', () => d.launch(cfg));
//     ...
//   });
'use strict';

const { chromium } = require('playwright-core');

function driver(init) {
  const out = Object.assign({ steps: {}, console_errors: [],
                              page_errors: [] }, init || {});
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function log(msg) {
    if (process.env.VKSTREAM_DASH_VERBOSE) {
      process.stderr.write('# [' + now() + ' ms] ' + msg + '\n');
    }
  }

  // Runs one named step; records its duration, or its error and rethrows.
  async function step(name, fn) {
    const start = Date.now();
    log(name);
    try {
      const v = await fn();
      out.steps[name] = { ok: true, ms: Date.now() - start };
      return v;
    } catch (e) {
      out.steps[name] = { ok: false, ms: Date.now() - start,
                          error: String(e && e.message || e).split('\n')[0] };
      throw e;
    }
  }

  // Chromium with autoplay allowed and muted (the players are muted).
  function launch(cfg) {
    const args = ['--autoplay-policy=no-user-gesture-required',
                  '--mute-audio'];
    if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
    return chromium.launch({
      executablePath: cfg.chromium || '/usr/bin/chromium', args });
  }

  // Console errors (with their URL) and page errors of a page go to out.
  function watch(page) {
    page.on('console', (m) => {
      if (m.type() === 'error') {
        out.console_errors.push(m.text() + ' @ ' + (m.location().url || ''));
      }
    });
    page.on('pageerror', (e) => out.page_errors.push(String(e)));
    return page;
  }

  // Runs main, then prints out (with the error that stopped it, if any);
  // the promise settles once it is printed.
  function run(main) {
    return main().catch((e) => {
      out.error = String(e && e.message || e).split('\n')[0];
    }).finally(() => {
      out.total_ms = now();
      process.stdout.write(JSON.stringify(out) + '\n');
    });
  }

  return { out, now, sleep, log, step, launch, watch, run };
}

module.exports = { driver };
