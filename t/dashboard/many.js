// Browser driver of t/81-dashboard-many.t: the dashboard with many live
// streams in headless Chromium (playwright-core).  It scrolls and clicks
// and records what the page did; it asserts nothing: it prints one JSON
// object and the .t file judges it.
//
//   node t/dashboard/many.js CONFIG.json
//
// CONFIG: {url, api, chromium, streams, max_auto, viewport: {width,
//          height}, screenshot}
//
// What the page does is recorded in the page, on its own clock
// (performance.now()), by an init script (test instrumentation, not a
// change of the page): every hls.js instance (made, its source, destroyed),
// every start of a card's player (its data-player-mode set), and every
// 50 ms the hls.js instances alive, the <video>s holding media and the
// ones playing.  With the Resource Timing entries this tells
// whether each playlist or segment request was made while its stream's
// player existed.  Playwright's request events count requests by URL.
'use strict';

const fs = require('fs');
const path = require('path');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const d = require('./lib.js').driver({
  api_requests: {}, requests_by_stream: {}, alive_checks: [] });
const { out, now, step } = d;
const N = cfg.streams;
const MAX = cfg.max_auto;

// "many07" from /hls/many07.m3u8, /hls/many07_tiny.m3u8, /hls/many07_tiny-3.ts
function streamOf(url) {
  const m = /\/hls\/([A-Za-z]+\d+)(?:_[^/-]*)?(?:-\d+)?\.(?:m3u8|ts)$/
    .exec(new URL(url).pathname);
  return m ? m[1] : null;
}

// Runs in the page before its scripts.
function instrument() {
  const st = window.__vks = {
    hlog: [], starts: [], created: 0, destroyed: 0, alive: 0,
    maxAlive: 0, maxAttached: 0, maxPlaying: 0,
  };
  try {
    performance.setResourceTimingBufferSize(100000);
  } catch (e) {
    /* the default is enough for a short run */
  }
  // hls.min.js sets globalThis.Hls: wrap the class it sets.
  let Wrapped;
  Object.defineProperty(window, 'Hls', {
    configurable: true,
    get() { return Wrapped; },
    set(Orig) {
      Wrapped = class extends Orig {
        constructor(c) {
          super(c);
          st.created++;
          st.alive++;
          st.maxAlive = Math.max(st.maxAlive, st.alive);
          this.__rec = { seq: st.created, t0: performance.now(), t1: null,
                         url: null };
          st.hlog.push(this.__rec);
        }
        loadSource(url) {
          this.__rec.url = new URL(url, location.href).href;
          return super.loadSource(url);
        }
        destroy() {
          if (this.__rec.t1 === null) {
            this.__rec.t1 = performance.now();
            st.destroyed++;
            st.alive--;
          }
          return super.destroy();
        }
      };
    },
  });
  const sample = () => {
    const vs = [...document.querySelectorAll('video')];
    const attached = vs.filter((v) => v.getAttribute('src')).length;
    const playing = vs.filter((v) => v.getAttribute('src') && !v.paused
                              && v.readyState >= 2).length;
    st.maxAttached = Math.max(st.maxAttached, attached);
    st.maxPlaying = Math.max(st.maxPlaying, playing);
  };
  setInterval(sample, 50);
  document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver((ms) => {
      for (const m of ms) {
        const mode = m.target.dataset.playerMode;
        if (mode && mode !== m.oldValue) {
          st.starts.push({ key: m.target.dataset.stream, mode });
        }
      }
    }).observe(document.body, { subtree: true, attributes: true,
                                attributeOldValue: true,
                                attributeFilter: ['data-player-mode'] });
  });
}

// Page-side queries (run with page.evaluate).
function cardsState() {
  const vh = window.innerHeight;
  return [...document.querySelectorAll('#streams > .stream')].map((c) => {
    const r = c.getBoundingClientRect();
    const vis = Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
    const v = c.querySelector('video');
    return {
      key: c.dataset.stream, player: c.dataset.player,
      mode: c.dataset.playerMode || '',
      shown: vis >= 0.5 * r.height || vis >= 0.5 * vh,
      src: !!v.getAttribute('src'), time: v.currentTime, paused: v.paused,
    };
  });
}

const nameOf = (key) => key.split('/').pop();
const sorted = (a) => a.slice().sort();

async function main() {
  const browser = await step('launch', () => d.launch(cfg));
  try {
    const context = await browser.newContext({ viewport: cfg.viewport });
    await context.addInitScript(instrument);
    const page = d.watch(await context.newPage());
    const apiPath = new URL(cfg.api).pathname;
    const uiPath = new URL(cfg.url).pathname;
    let hlsRequests = 0;
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith(apiPath) && !u.pathname.startsWith(uiPath)) {
        const k = r.method() + ' ' + u.pathname.slice(apiPath.length);
        out.api_requests[k] = (out.api_requests[k] || 0) + 1;
      }
      const s = streamOf(r.url());
      if (s) {
        hlsRequests++;
        out.requests_by_stream[s] = (out.requests_by_stream[s] || 0) + 1;
      }
    });
    const cards = () => page.evaluate(cardsState);
    const pageStats = () => page.evaluate(() => ({
      alive: window.__vks.alive,
      running: document.querySelectorAll(
        '#streams > .stream[data-player-mode="auto"],'
        + ' #streams > .stream[data-player-mode="click"]').length,
    }));
    const checkAlive = async (when) => {
      const s = await pageStats();
      out.alive_checks.push({ when, alive: s.alive, running: s.running });
    };
    // Waits until fn(cards) is true; returns the cards then.
    const until = async (what, fn, ms) => {
      const end = Date.now() + ms;
      for (;;) {
        const cs = await cards();
        if (fn(cs)) return cs;
        if (Date.now() > end) throw new Error('timed out: ' + what);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // Waits until each of the cards' videos is `by` s further; returns the
    // smallest advance.
    const advance = async (keys, by, ms) => {
      const first = new Map((await cards()).filter((c) => keys.includes(c.key))
        .map((c) => [c.key, c.time]));
      const cs = await until('videos of ' + keys.join(' ') + ' advance', (cs) =>
        keys.every((k) => {
          const c = cs.find((x) => x.key === k);
          return c && c.player === 'playing' && !c.paused
            && c.time >= first.get(k) + by;
        }), ms);
      return Math.min(...keys.map((k) =>
        cs.find((x) => x.key === k).time - first.get(k)));
    };

    const loadAt = now();
    await step('load', async () => {
      await page.goto(cfg.url, { waitUntil: 'load', timeout: 20000 });
      await page.waitForSelector('#conn[data-state="live"]',
                                 { timeout: 20000 });
    });

    await step('cards', async () => {
      await page.waitForFunction((n) => document.querySelectorAll(
        '#streams > .stream[data-stream]').length === n, N,
      { timeout: 20000, polling: 100 });
      out.cards = await page.$$eval('#streams > .stream[data-stream]',
                                    (cs) => cs.length);
      out.count_text = await page.textContent('#stream-count');
      out.nodes_hidden = await page.isHidden('#nodes');
    });

    // --- the shown cards start, at most MAX ---------------------------------
    await step('initial_players', async () => {
      const cs = await until(MAX + ' players playing', (cs) =>
        cs.filter((c) => c.player === 'playing').length >= MAX, 40000);
      const shown = cs.filter((c) => c.shown);
      out.shown_at_start = shown.length;
      out.initial_expected = sorted(shown.slice(0, MAX).map((c) => c.key));
      out.initial_playing = sorted(cs.filter((c) => c.mode).map((c) => c.key));
      out.initial_advance = await advance(out.initial_playing, 1, 30000);
      const idle = shown.find((c) => !c.mode);
      if (idle) {
        const b = '[data-stream="' + idle.key + '"] button.play';
        out.idle_button_visible = await page.isVisible(b);
        out.idle_button_text = (await page.innerText(b)).replace(/\s+/g, ' ')
          .trim();
      }
      out.requested_initial = sorted(Object.keys(out.requests_by_stream))
        .map((s) => 'live/' + s);
      await checkAlive('initial');
    });

    // --- scrolling: the ones scrolled away stop, the ones shown start -------
    await step('scroll', async () => {
      const before = await cards();
      // The first card below the shown ones, plus a margin: after the
      // scroll none of the first ones is in view.
      const k = Math.min(before.filter((c) => c.shown).length + 3, N - MAX - 1);
      await page.evaluate((i) => {
        const c = document.querySelectorAll('#streams > .stream')[i];
        window.scrollTo(0, c.getBoundingClientRect().top + window.scrollY
                           - 8);
      }, k);
      const cs = await until('the players follow the scroll', (cs) =>
        out.initial_playing.every((k) => {
          const c = cs.find((x) => x.key === k);
          return !c.mode && !c.shown;
        }) && cs.filter((c) => c.player === 'playing').length >= MAX, 40000);
      out.scrolled_out_stopped = sorted(out.initial_playing.filter((k) =>
        !cs.find((x) => x.key === k).mode));
      out.scrolled_out_media = cs.filter((c) =>
        out.initial_playing.includes(c.key) && c.src).length;
      const shown = cs.filter((c) => c.shown);
      out.scrolled_in = shown[0] && shown[0].key;
      out.scrolled_in_advance = await advance([out.scrolled_in], 1, 30000);
      out.after_scroll_playing = (await cards()).filter((c) =>
        c.player === 'playing').length;
      await checkAlive('after scroll');
    });

    // --- a click plays an idle card, the oldest auto player stops ------------
    await step('click', async () => {
      const cs = await cards();
      const idle = cs.find((c) => c.shown && !c.mode && c.player === 'idle');
      if (!idle) throw new Error('no shown idle card to click');
      out.clicked = idle.key;
      // The oldest auto-started of the running players: the one whose
      // last start came first.
      const runningBefore = cs.filter((c) => c.mode).map((c) => c.key);
      const starts = await page.evaluate(() => window.__vks.starts);
      const last = new Map();
      starts.forEach((s, i) => last.set(s.key, i));
      out.click_oldest_auto = cs.filter((c) => c.mode === 'auto')
        .map((c) => c.key).sort((a, b) => last.get(a) - last.get(b))[0];
      await page.click('[data-stream="' + idle.key + '"] button.play');
      out.clicked_advance = await advance([idle.key], 1, 30000);
      const after = await until(MAX + ' playing after the click', (cs) =>
        cs.filter((c) => c.player === 'playing').length >= MAX, 30000);
      out.clicked_mode = after.find((c) => c.key === idle.key).mode;
      const stopped = runningBefore.filter((k) =>
        !after.find((c) => c.key === k).mode);
      out.click_stopped = stopped.join(' ');
      out.after_click_playing = after.filter((c) =>
        c.player === 'playing').length;
      await checkAlive('after click');
    });

    await step('screenshot', async () => {
      fs.mkdirSync(path.dirname(cfg.screenshot), { recursive: true });
      await page.screenshot({ path: cfg.screenshot });
      out.screenshot_bytes = fs.statSync(cfg.screenshot).size;
    });

    // --- what the page did, on its own clock ----------------------------------
    await step('requests', async () => {
      const r = await page.evaluate(() => ({
        st: window.__vks,
        res: performance.getEntriesByType('resource').map((e) =>
          ({ url: e.name, t: e.startTime })),
      }));
      const st = r.st;
      out.hls_created = st.created;
      out.hls_destroyed = st.destroyed;
      out.hls_alive_end = st.alive;
      out.max_hls_alive = st.maxAlive;
      out.max_videos_attached = st.maxAttached;
      out.max_videos_playing = st.maxPlaying;
      out.hls_requests = hlsRequests;
      const runs = {};
      for (const h of st.hlog) {
        const s = h.url && streamOf(h.url);
        if (s) (runs[s] = runs[s] || []).push(h);
      }
      out.requests_outside_players = r.res.filter((e) => {
        const s = streamOf(e.url);
        return s && !(runs[s] || []).some((h) =>
          h.t0 <= e.t && (h.t1 === null || e.t <= h.t1));
      }).map((e) => e.url + ' at ' + e.t.toFixed(1));
      const keys = await page.$$eval('#streams > .stream',
                                     (cs) => cs.map((c) => c.dataset.stream));
      out.never_started = keys.map(nameOf).filter((s) => !runs[s]);
    });
    out.api_window_ms = now() - loadAt;
  } finally {
    await browser.close();
  }
}

d.run(main);
