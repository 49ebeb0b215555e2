// Browser driver of t/82-dashboard-cluster.t: the dashboard of one node
// of a three-node cluster, in headless Chromium (playwright-core).  It
// records what the page shows and requests; it asserts nothing: it prints
// one JSON object (the last line of its output) and the .t file judges it.
//
//   node t/dashboard/cluster.js CONFIG.json
//
// CONFIG: {url, api, chromium, streams, max_auto, viewport: {width,
//          height}, screenshot, screenshot_down,
//          nodes: {NAME: URL}, self, live_per_node,
//          node_of: {STREAM_NAME: NODE}}
//
// Talking to the .t while it runs: the driver prints "@@ stop-redis" (or
// "@@ start-redis") on a line of its own and waits for a line on its
// standard input, which the .t writes once it has done it; the waits that
// follow are timed from then.
//
// As t/dashboard/many.js does, an init script (test instrumentation, the
// page is unchanged) records every hls.js instance (made, its source,
// destroyed) and samples every 50 ms the instances alive, the <video>s
// holding media and the ones playing; Playwright's request events and the
// page's Resource Timing give every playlist and segment request with its
// URL, so that the node (port) each one went to can be checked.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const d = require('./lib.js').driver({
  api_requests: {}, hls_requests: [], alive_checks: [] });
const { out, now, step } = d;
const N = cfg.streams;
const MAX = cfg.max_auto;

// Lines from the .t on standard input, one per request made.
const lines = [];
let lineWaiter = null;
readline.createInterface({ input: process.stdin }).on('line', (l) => {
  if (lineWaiter) {
    const w = lineWaiter;
    lineWaiter = null;
    w(l);
  } else {
    lines.push(l);
  }
});
function ask(what, ms) {
  process.stdout.write('@@ ' + what + '\n');
  return new Promise((resolve, reject) => {
    if (lines.length) return resolve(lines.shift());
    const timer = setTimeout(() => reject(new Error('no answer to ' + what)),
                             ms);
    lineWaiter = (l) => {
      clearTimeout(timer);
      resolve(l);
    };
  });
}


// "a07" from http://127.0.0.1:PORT/hls/a07.m3u8, a07_tiny.m3u8, a07_tiny-3.ts
function streamOf(url) {
  const m = /\/hls\/([A-Za-z]+\d+)(?:_[^/-]*)?(?:-\d+)?\.(?:m3u8|ts)$/
    .exec(new URL(url).pathname);
  return m ? m[1] : null;
}

// Runs in the page before its scripts.
function instrument() {
  const st = window.__vks = {
    hlog: [], created: 0, destroyed: 0, alive: 0,
    maxAlive: 0, maxAttached: 0, maxPlaying: 0,
  };
  try {
    performance.setResourceTimingBufferSize(100000);
  } catch (e) {
    /* the default is enough for a short run */
  }
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
  setInterval(() => {
    const vs = [...document.querySelectorAll('video')];
    const attached = vs.filter((v) => v.getAttribute('src')).length;
    const playing = vs.filter((v) => v.getAttribute('src') && !v.paused
                              && v.readyState >= 2).length;
    st.maxAttached = Math.max(st.maxAttached, attached);
    st.maxPlaying = Math.max(st.maxPlaying, playing);
  }, 50);
}

// Page-side queries (run with page.evaluate).
function cardsState() {
  const vh = window.innerHeight;
  return [...document.querySelectorAll('#streams > .stream')].map((c) => {
    const r = c.getBoundingClientRect();
    const vis = Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
    const v = c.querySelector('video');
    const nb = c.querySelector('.badge.node');
    return {
      key: c.dataset.stream, player: c.dataset.player,
      mode: c.dataset.playerMode || '',
      shown: vis >= 0.5 * r.height || vis >= 0.5 * vh,
      src: !!v.getAttribute('src'), time: v.currentTime, paused: v.paused,
      node_text: nb.hidden ? null : nb.textContent, node_title: nb.title,
      meta: c.querySelector('.meta').textContent,
    };
  });
}

function panelState() {
  const txt = (id) => {
    const e = document.getElementById(id);
    return e ? e.textContent.trim() : null;
  };
  const badge = document.getElementById('cluster-badge');
  return {
    hidden: document.getElementById('nodes').hidden,
    state: document.getElementById('nodes').dataset.state || null,
    state_badge: txt('cluster-state'),
    down_text: document.getElementById('cluster-down').hidden ? null
      : txt('cluster-down'),
    header_badge: badge.hidden ? null : badge.textContent,
    header_badge_state: badge.dataset.state || null,
    meta: txt('cluster-meta'),
    rows: [...document.querySelectorAll('#nodes-table tbody tr')].map((tr) => {
      const a = tr.querySelector('td:first-child a');
      return {
        node: tr.dataset.node,
        name: tr.querySelector('.name') && tr.querySelector('.name')
          .textContent,
        href: a ? a.href : null,
        badges: [...tr.querySelectorAll('td:first-child .badge')]
          .map((b) => b.textContent),
        live: tr.querySelector('td.live').textContent,
        transcodes: tr.querySelector('td.transcodes').textContent,
        cpu: tr.querySelector('td.cpu').textContent,
        age: tr.querySelector('td.age').textContent,
        self: tr.classList.contains('self'),
      };
    }),
  };
}

const nameOf = (key) => key.split('/').pop();
const sorted = (a) => a.slice().sort();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const browser = await step('launch', () => d.launch(cfg));
  try {
    const context = await browser.newContext({ viewport: cfg.viewport });
    await context.addInitScript(instrument);
    const page = d.watch(await context.newPage());
    const apiUrl = new URL(cfg.api);
    const uiPath = new URL(cfg.url).pathname;
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin === apiUrl.origin && u.pathname.startsWith(apiUrl.pathname)
          && !u.pathname.startsWith(uiPath)) {
        const k = r.method() + ' ' + u.pathname.slice(apiUrl.pathname.length);
        out.api_requests[k] = (out.api_requests[k] || 0) + 1;
      }
      const s = streamOf(r.url());
      if (s) out.hls_requests.push({ stream: s, origin: u.origin });
    });
    const cards = () => page.evaluate(cardsState);
    const panel = () => page.evaluate(panelState);
    const checkAlive = async (when) => {
      out.alive_checks.push(await page.evaluate((w) => ({
        when: w, alive: window.__vks.alive,
        running: document.querySelectorAll(
          '#streams > .stream[data-player-mode="auto"],'
          + ' #streams > .stream[data-player-mode="click"]').length,
      }), when));
    };
    // Waits until fn(value of get()) is true; returns that value.
    const until = async (what, get, fn, ms) => {
      const end = Date.now() + ms;
      for (;;) {
        const v = await get();
        if (fn(v)) return v;
        if (Date.now() > end) throw new Error('timed out: ' + what);
        await sleep(100);
      }
    };
    const advance = async (key, by, ms) => {
      const first = (await cards()).find((c) => c.key === key).time;
      const cs = await until(key + ' advances ' + by + ' s', cards, (cs) => {
        const c = cs.find((x) => x.key === key);
        return c && c.player === 'playing' && !c.paused
          && c.time >= first + by;
      }, ms);
      return cs.find((x) => x.key === key).time - first;
    };
    const liveOk = (p) => p.rows.length === Object.keys(cfg.nodes).length
      && p.rows.every((r) => Number(r.live) === cfg.live_per_node);

    const loadAt = now();
    await step('load', async () => {
      await page.goto(cfg.url, { waitUntil: 'load', timeout: 60000 });
      await page.waitForSelector('#conn[data-state="live"]',
                                 { timeout: 60000 });
    });

    // --- every stream of every node, each naming its node --------------------
    await step('cards', async () => {
      await page.waitForFunction((n) => document.querySelectorAll(
        '#streams > .stream[data-stream]').length === n, N,
      { timeout: 60000, polling: 100 });
      const cs = await until('every card names its node', cards,
        (cs) => cs.every((c) => c.node_text), 60000);
      out.cards = cs.length;
      out.count_text = await page.textContent('#stream-count');
      out.card_nodes = {};
      out.card_node_urls = {};
      out.card_metas = {};
      for (const c of cs) {
        out.card_nodes[nameOf(c.key)] = c.node_text;
        out.card_node_urls[nameOf(c.key)] = c.node_title;
        out.card_metas[nameOf(c.key)] = c.meta;
      }
    });

    // --- the Nodes panel -------------------------------------------------------
    await step('nodes_panel', async () => {
      const p = await until('the Nodes panel lists every node with its '
        + 'streams', panel, (p) => !p.hidden && p.state === 'connected'
        && liveOk(p), 60000);
      out.panel = p;
    });

    // --- lazy players; a stream of another node plays from that node ---------
    await step('initial_players', async () => {
      const cs = await until(MAX + ' players playing', cards, (cs) =>
        cs.filter((c) => c.player === 'playing').length >= MAX, 90000);
      const shown = cs.filter((c) => c.shown);
      out.shown_at_start = shown.length;
      out.initial_expected = sorted(shown.slice(0, MAX).map((c) => c.key));
      out.initial_playing = sorted(cs.filter((c) => c.mode).map((c) => c.key));
      await checkAlive('initial');
    });

    await step('remote_play', async () => {
      // A card of cfg.remote (not this node): a playing one, else a shown
      // idle one clicked, else one scrolled into view (and then clicked if
      // it does not start by being shown).
      const onRemote = (c) => cfg.node_of[nameOf(c.key)] === cfg.remote;
      let cs = await cards();
      let card = cs.find((c) => onRemote(c) && c.player === 'playing');
      if (card) {
        out.remote_how = 'auto';
      } else {
        card = cs.find((c) => onRemote(c) && c.shown && !c.mode);
        if (!card) {
          card = cs.find(onRemote);
          await page.evaluate((key) => {
            const c = document.querySelector('[data-stream="' + key + '"]');
            window.scrollTo(0, c.getBoundingClientRect().top + window.scrollY
                               - 8);
          }, card.key);
          // The cards scrolled away stop, and it starts as the top shown
          // one (the click below only if it does not).
          const key = card.key;
          cs = await until(key + ' shown', cards, (cs) =>
            cs.find((c) => c.key === key).shown, 10000);
          try {
            cs = await until(key + ' starts', cards, (cs) =>
              cs.find((c) => c.key === key).mode, 10000);
          } catch (e) {
            cs = await cards();
          }
        }
        if (!cs.find((c) => c.key === card.key).mode) {
          await page.click('[data-stream="' + card.key + '"] button.play',
                           { timeout: 10000 });
          out.remote_how = 'click';
        } else {
          out.remote_how = 'scroll';
        }
      }
      out.remote_stream = nameOf(card.key);
      out.remote_advance = await advance(card.key, 1, 90000);
      out.remote_sources = await page.$$eval('[data-stream="' + card.key
        + '"] select.source option', (os) => os.map((o) => o.value));
      const r = await page.evaluate(() => ({
        hlog: window.__vks.hlog,
        res: performance.getEntriesByType('resource').map((e) => e.name),
      }));
      out.remote_hls_sources = r.hlog.map((h) => h.url)
        .filter((u) => u && streamOf(u) === out.remote_stream);
      out.remote_resources = r.res.filter((u) =>
        streamOf(u) === out.remote_stream);
      out.after_remote_playing = (await cards()).filter((c) =>
        c.player === 'playing').length;
      await checkAlive('after remote play');
    });

    await step('screenshot', async () => {
      // At the top: the header, the Nodes panel and the top cards (after a
      // scroll back, their players started; playing, if they get there
      // soon: the picture is not what is tested).
      if (await page.evaluate(() => window.scrollY) > 0) {
        await page.evaluate(() => window.scrollTo(0, 0));
        await until(MAX + ' players at the top', cards, (cs) =>
          cs.filter((c) => c.shown && c.mode).length >= MAX, 30000);
        await until('them playing', cards, (cs) => cs.filter((c) =>
          c.shown && c.player === 'playing').length >= MAX, 20000)
          .catch(() => {});
      }
      fs.mkdirSync(path.dirname(cfg.screenshot), { recursive: true });
      await page.screenshot({ path: cfg.screenshot });
      out.screenshot_bytes = fs.statSync(cfg.screenshot).size;
    });

    // --- Redis stopped: "cluster: disconnected" ---------------------------------
    await step('redis_down', async () => {
      // the page's clock (hls.js runs are on it) before the outage
      out.outage_at = await page.evaluate(() => performance.now());
      await ask('stop-redis', 30000);
      const at = Date.now();
      const p = await until('cluster: disconnected shown', panel, (p) =>
        p.header_badge === 'cluster: disconnected'
        && p.state === 'disconnected', 60000);
      out.down_ms = Date.now() - at;
      out.panel_down = p;
      out.header_badge_color = await page.$eval('#cluster-badge', (b) =>
        getComputedStyle(b).backgroundColor);
      // The other nodes' records expire in Redis after the TTL: this node
      // ends their streams and lists itself only, and the page shows that
      // (the list may be read before the panel's next read: both waited
      // for).
      const perNode = cfg.live_per_node;
      const want = '(' + perNode + ' live, ' + (N - perNode) + ' ended)';
      const r = await until('the other nodes\' streams ended, ' + cfg.self
        + ' alone in the panel', async () => ({
        count: await page.textContent('#stream-count'), panel: await panel(),
      }), (r) => r.count === want && r.panel.rows.length === 1, 60000);
      out.count_text_down = r.count;
      out.panel_down_ended = r.panel;
      out.ended_ms = Date.now() - at;
      out.cards_down = (await cards()).length;
      fs.mkdirSync(path.dirname(cfg.screenshot_down), { recursive: true });
      await page.screenshot({ path: cfg.screenshot_down });
      out.screenshot_down_bytes = fs.statSync(cfg.screenshot_down).size;
    });

    // --- Redis back: connected again, the view converges ------------------------
    await step('redis_up', async () => {
      await ask('start-redis', 30000);
      const at = Date.now();
      await until('cluster: connected again', panel, (p) =>
        p.header_badge === null && p.state === 'connected', 60000);
      out.up_ms = Date.now() - at;
      const p = await until('every node listed again with its streams',
        panel, (p) => p.state === 'connected' && liveOk(p), 60000);
      out.converged_ms = Date.now() - at;
      out.panel_up = p;
      const cs = await until('every card back', cards, (cs) =>
        cs.length === N && cs.every((c) => c.node_text), 60000);
      out.cards_up = cs.length;
      out.count_text_up = await until('every stream live again',
        () => page.textContent('#stream-count'),
        (t) => t === '(' + N + ' live, 0 ended)', 60000);
      out.card_nodes_up = {};
      for (const c of cs) out.card_nodes_up[nameOf(c.key)] = c.node_text;
    });

    // --- what the page did, on its own clock -------------------------------------
    await step('requests', async () => {
      const r = await page.evaluate(() => ({
        st: window.__vks,
        res: performance.getEntriesByType('resource').map((e) =>
          ({ url: e.name, t: e.startTime })),
      }));
      const st = r.st;
      out.hls_created = st.created;
      out.hls_destroyed = st.destroyed;
      out.max_hls_alive = st.maxAlive;
      out.max_videos_attached = st.maxAttached;
      out.max_videos_playing = st.maxPlaying;
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
      // Every playlist and segment from the node that has the stream.
      out.hls_wrong_node = out.hls_requests.filter((q) =>
        new URL(cfg.nodes[cfg.node_of[q.stream]]).origin !== q.origin)
        .map((q) => q.stream + ' from ' + q.origin);
      out.hls_origins = {};
      for (const q of out.hls_requests) {
        out.hls_origins[q.origin] = (out.hls_origins[q.origin] || 0) + 1;
      }
      out.played = sorted(Object.keys(runs));
      out.played_before_outage = out.played.filter((s) =>
        runs[s].some((h) => h.t0 < out.outage_at));
      out.play_runs = {};
      for (const s of out.played) {
        out.play_runs[s] = runs[s].map((h) => Math.round(h.t0) + '-'
          + (h.t1 === null ? 'end' : Math.round(h.t1)));
      }
    });
    out.api_window_ms = now() - loadAt;
  } finally {
    await browser.close();
  }
}

d.run(main).then(() => process.exit(0));
