// Browser driver of t/83-llhls-browser.t: LL-HLS in headless Chromium
// (playwright-core) with hls.js' lowLatencyMode.  It plays a rendition's
// LL-HLS media playlist, the LL-HLS master (switching renditions), a copy
// rendition's playlist, and opens the dashboard on the LL stream.  It
// asserts nothing: it prints one JSON object with what it saw (frames,
// times, sizes, latencies) and the .t file judges it.
//
//   node t/dashboard/llhls.js CONFIG.json
//
// CONFIG: {origin, ui, api, chromium, hls_js, stream: {app, name},
//          media: SUFFIX, copy: SUFFIX, screenshot}
// The players run in a blank page of the nginx origin (so playlists are
// same-origin) that loads the dashboard's hls.min.js.
'use strict';

const fs = require('fs');
const path = require('path');
const d = require('./lib.js').driver({ media: {}, master: {}, copy: {},
                                       dashboard: {} });
const { out, step, sleep } = d;

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const PAGE = cfg.origin + '/__llhls_test/player.html';
const HTML = '<!doctype html><html><head><meta charset="utf-8">'
  + '<title>LL-HLS test player</title></head><body>'
  + '<video muted playsinline width="640" height="360"></video>'
  + '<script src="' + cfg.hls_js + '"></script></body></html>';

async function apiStream() {
  const s = cfg.stream;
  const res = await fetch(cfg.api + 'streams/' + encodeURIComponent(s.app)
                          + '/' + encodeURIComponent(s.name));
  return res.ok ? res.json() : null;
}

// Waits until url answers 200 with a body matching re.
async function waitUrl(url, re, ms) {
  const end = Date.now() + ms;
  let last = 'never asked';
  while (Date.now() < end) {
    try {
      const res = await fetch(url, { cache: 'no-store' });
      const text = await res.text();
      if (res.ok && re.test(text)) return text;
      last = res.status + ' ' + text.slice(0, 80);
    } catch (e) {
      last = String(e);
    }
    await sleep(250);
  }
  throw new Error(url + ': not ready (' + last + ')');
}

// A blank page of the origin running hls.js on url; window.__t records
// the levels, switches and errors.
async function player(browser, url) {
  const page = d.watch(await browser.newPage());
  await page.route(PAGE, (r) => r.fulfill({ contentType: 'text/html',
                                            body: HTML }));
  page.__requests = [];
  page.on('request', (r) => page.__requests.push(r.url()));
  await page.goto(PAGE, { waitUntil: 'load', timeout: 10000 });
  await page.evaluate((u) => {
    const video = document.querySelector('video');
    const t = window.__t = { levels: null, switched: [], errors: [] };
    const hls = window.__hls = new window.Hls({ lowLatencyMode: true,
                                                liveDurationInfinity: true });
    hls.on(window.Hls.Events.MANIFEST_PARSED, (e, m) => {
      t.levels = m.levels.map((l) => ({ width: l.width, height: l.height,
                                        bitrate: l.bitrate,
                                        codecs: [l.videoCodec, l.audioCodec]
                                          .filter(Boolean).join(','),
                                        url: l.url && l.url[0] }));
      video.play().catch(() => {});
    });
    hls.on(window.Hls.Events.LEVEL_SWITCHED, (e, x) => {
      t.switched.push({ level: x.level, at: performance.now() });
    });
    hls.on(window.Hls.Events.ERROR, (e, x) => {
      t.errors.push((x.fatal ? 'fatal ' : '') + x.type + ' ' + x.details);
    });
    hls.loadSource(u);
    hls.attachMedia(video);
  }, url);
  return page;
}

// What the player shows now.
function sample(page) {
  return page.evaluate(() => {
    const v = document.querySelector('video'), h = window.__hls;
    const q = v.getVideoPlaybackQuality();
    const date = h.playingDate;
    const lvl = h.levels && h.levels[h.currentLevel];
    const det = lvl && lvl.details;
    return {
      time: v.currentTime, frames: q.totalVideoFrames,
      dropped: q.droppedVideoFrames, width: v.videoWidth,
      height: v.videoHeight, paused: v.paused,
      playing_date: date ? date.getTime() : null,
      latency_ms: date ? Date.now() - date.getTime() : null,
      hls_latency: h.latency, target_latency: h.targetLatency,
      low_latency_mode: h.lowLatencyMode, level: h.currentLevel,
      parts: det && det.partList ? det.partList.length : 0,
      part_target: det ? det.partTarget : null,
      can_block_reload: det ? !!det.canBlockReload : null,
    };
  });
}

// Waits for playback, then for "secs" more of it; returns the first and
// the last sample.
async function plays(page, secs, timeout) {
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v.currentTime > 0 && !v.paused
      && v.getVideoPlaybackQuality().totalVideoFrames > 0;
  }, null, { timeout: timeout || 40000, polling: 100 });
  const first = await sample(page);
  await page.waitForFunction(([t, f]) => {
    const v = document.querySelector('video');
    return v.currentTime >= t
      && v.getVideoPlaybackQuality().totalVideoFrames > f;
  }, [first.time + secs, first.frames], { timeout: (secs + 20) * 1000,
                                          polling: 100 });
  return { first, last: await sample(page) };
}

// Latency samples (Date.now() - playingDate) every 250 ms for "ms".
async function latencies(page, ms) {
  const v = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const s = await sample(page);
    if (s.latency_ms !== null) v.push(s.latency_ms);
    await sleep(250);
  }
  return v;
}

function ofRequests(page) {
  const r = page.__requests;
  return {
    playlists: r.filter((u) => /\.m3u8/.test(u)).length,
    blocking: r.filter((u) => /[?&]_HLS_msn=/.test(u)).length,
    parts: r.filter((u) => /\/p\d+\.m4s/.test(u)).length,
    segments: r.filter((u) => /\/s\d+\.m4s/.test(u)).length,
  };
}

async function main() {
  const browser = await step('launch', () => d.launch(cfg));
  try {
    // --- can this Chromium play H.264/AAC through MSE at all? -----------
    const probe = d.watch(await browser.newPage());
    await probe.route(PAGE, (r) => r.fulfill({ contentType: 'text/html',
                                               body: HTML }));
    await probe.goto(PAGE, { waitUntil: 'load', timeout: 10000 });
    out.mse = await probe.evaluate(() => typeof MediaSource !== 'undefined'
      && MediaSource.isTypeSupported(
        'video/mp4; codecs="avc1.64001f,mp4a.40.2"'));
    out.hls_supported = await probe.evaluate(() => window.Hls.isSupported());
    out.hls_version = await probe.evaluate(() => window.Hls.version);
    await probe.close();
    if (!out.mse) return;

    const st = await step('stream_listed', async () => {
      const end = Date.now() + 40000;
      for (;;) {
        const s = await apiStream();
        if (s && s.llhls && s.renditions.length
            && s.renditions.every((r) => r.state === 'running')) {
          return s;
        }
        if (Date.now() > end) throw new Error('no running LL stream');
        await sleep(250);
      }
    });
    out.api_llhls = st.llhls;

    // --- one rendition's media playlist -----------------------------------
    await step('media_playlist', async () => {
      const url = st.llhls.playlists[cfg.media];
      await waitUrl(url, /#EXT-X-PART:/, 30000);
      const page = await player(browser, url);
      const p = await plays(page, 3);
      out.media = Object.assign(out.media, p, {
        url, latencies_ms: await latencies(page, 4000),
        requests: ofRequests(page),
        errors: await page.evaluate(() => window.__t.errors),
      });
      await page.close();
    });

    // --- the LL-HLS master: levels and switches ---------------------------
    await step('master', async () => {
      // written once a rendition's playlist exists, then one variant more
      // with each: wait for two
      const url = st.llhls.master;
      out.master.text = await waitUrl(url,
        /#EXT-X-STREAM-INF[^]*#EXT-X-STREAM-INF/, 30000);
      const page = await player(browser, url);
      out.master.url = url;
      await page.waitForFunction(() => window.__t.levels,
                                 null, { timeout: 30000 });
      out.master.levels = await page.evaluate(() => window.__t.levels);
      out.master.start = (await plays(page, 1)).last;
      // to the widest level of another size than the one shown, then to
      // the narrowest of another size than that one
      const lv = out.master.levels.map((l, i) => Object.assign({ i }, l))
        .sort((a, b) => a.width - b.width);
      out.master.switches = [];
      for (const pick of [(w) => lv.filter((l) => l.width !== w).pop(),
                          (w) => lv.filter((l) => l.width !== w)[0]]) {
        // from a settled player: its own start-up switching (ABR) can
        // leave it loading the level wanted while the video still shows
        // another, and a switch to the current level is no switch
        await page.waitForFunction(() => {
          const h = window.__hls;
          const l = window.__t.levels[h.currentLevel];
          return l && document.querySelector('video').videoWidth === l.width;
        }, null, { timeout: 30000, polling: 100 });
        const before = await sample(page);
        const tg = pick(before.width);
        if (!tg) throw new Error('no level of another size');
        const n = await page.evaluate(() => window.__t.switched.length);
        const t0 = Date.now();
        await page.evaluate((i) => { window.__hls.currentLevel = i; }, tg.i);
        try {
          await page.waitForFunction(([i, k, w]) =>
            window.__t.switched.slice(k).some((x) => x.level === i)
              && document.querySelector('video').videoWidth === w,
          [tg.i, n, tg.width], { timeout: 30000, polling: 100 });
        } catch (e) {
          out.master.stuck = { target: tg, before, now: await sample(page),
            switched: await page.evaluate(() => window.__t.switched),
            errors: await page.evaluate(() => window.__t.errors) };
          throw e;
        }
        const switched_ms = Date.now() - t0;
        const at = await sample(page);
        const p = await plays(page, 1);
        out.master.switches.push({ level: tg.i, want_width: tg.width,
                                   want_height: tg.height, before,
                                   at, after: p.last, switched_ms });
      }
      out.master.errors = await page.evaluate(() => window.__t.errors);
      out.master.requests = ofRequests(page);
      await page.close();
    }).catch(() => {});

    // --- a video=copy audio=copy rendition --------------------------------
    await step('copy_rendition', async () => {
      const url = st.llhls.playlists[cfg.copy];
      await waitUrl(url, /#EXT-X-PART:/, 30000);
      const page = await player(browser, url);
      const p = await plays(page, 2);
      out.copy = Object.assign(out.copy, p, {
        url, errors: await page.evaluate(() => window.__t.errors),
      });
      await page.close();
    });

    // --- the dashboard: LL-HLS by default, its latency shown ---------------
    await step('dashboard', async () => {
      const page = d.watch(await browser.newPage({
        viewport: { width: 1360, height: 900 } }));
      // Test instrumentation: the hls.js configs the page makes.
      await page.addInitScript(() => {
        window.__configs = [];
        let W;
        Object.defineProperty(window, 'Hls', {
          configurable: true,
          get() { return W; },
          set(Orig) {
            W = class extends Orig {
              constructor(c) {
                super(c);
                window.__configs.push({
                  lowLatencyMode: !!(c && c.lowLatencyMode),
                  liveDurationInfinity: !!(c && c.liveDurationInfinity) });
              }
            };
          },
        });
      });
      await page.goto(cfg.ui, { waitUntil: 'load', timeout: 10000 });
      const card = '[data-stream="' + cfg.stream.app + '/' + cfg.stream.name
        + '"]';
      // the choice the page made, before it plays
      await page.waitForSelector(card + ' select.source option',
                                 { state: 'attached', timeout: 20000 });
      const D = out.dashboard;
      D.sources = await page.$$eval(card + ' select.source option',
                                    (os) => os.map((o) => o.textContent));
      D.selected = await page.$eval(card + ' select.source',
                                    (s) => s.selectedOptions[0].textContent);
      await page.waitForSelector(card + '[data-player="playing"]',
                                 { timeout: 40000 });
      D.player_state = await page.textContent(card + ' .player-state');
      const lat = card + ' .latency';
      await page.waitForFunction((sel) => {
        const e = document.querySelector(sel);
        return e && !e.hidden && e.dataset.ms !== '';
      }, lat, { timeout: 20000, polling: 100 });
      const read = () => page.$eval(lat, (e) => ({
        text: e.textContent, ms: e.dataset.ms, kind: e.dataset.kind,
        title: e.title }));
      D.latency = await read();
      await page.waitForFunction(([sel, ms]) =>
        document.querySelector(sel).dataset.ms !== ms,
      [lat, D.latency.ms], { timeout: 10000, polling: 100 });
      D.latency_later = await read();
      D.configs = await page.evaluate(() => window.__configs);
      fs.mkdirSync(path.dirname(cfg.screenshot), { recursive: true });
      await page.screenshot({ path: cfg.screenshot });
      D.screenshot_bytes = fs.statSync(cfg.screenshot).size;
      await page.close();
    });
  } finally {
    await browser.close();
  }
}

d.run(main);
