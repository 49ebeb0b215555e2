// Browser driver of t/80-dashboard.t: opens the dashboard in headless
// Chromium (playwright-core), publishes a stream, plays it, edits its
// keywords, injects a VK match and writes a screenshot.  It asserts
// nothing: it prints one JSON object with what it saw and how long each
// step took, and the .t file judges it.
//
//   node t/dashboard/check.js CONFIG.json
//
// CONFIG: {url, api, stream: {app, name}, publish: [argv], token,
//          inject_vk: REQUEST, inject_match: REQUEST, match_text,
//          screenshot, chromium}
// A REQUEST is {method, url, headers, body}; "%TAG%" in its body becomes
// the stream's VK tag, so a match can be fed through the API's test
// endpoint or, later, through the VK emulator's admin port.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const d = require('./lib.js').driver({ foreign_requests: [],
                                       failed_responses: [] });
const { out, now, sleep, step } = d;
let publisher = null;

// build/artifacts/dashboard.png -> build/artifacts/dashboard-WHAT.png
function shot(what) {
  fs.mkdirSync(path.dirname(cfg.screenshot), { recursive: true });
  return cfg.screenshot.replace(/(\.png)?$/, '-' + what + '.png');
}

async function request(req, tag) {
  let body = req.body === undefined ? undefined : JSON.stringify(req.body);
  if (body !== undefined && tag) body = body.split('%TAG%').join(tag);
  const res = await fetch(req.url, { method: req.method || 'POST',
                                     headers: req.headers || {}, body });
  const text = await res.text();
  if (!res.ok) throw new Error(req.url + ': ' + res.status + ' ' + text);
  return text;
}

async function apiGet(p) {
  const res = await fetch(cfg.api + p);
  return { status: res.status, json: res.ok ? await res.json() : null };
}

function stopPublisher() {
  if (publisher && publisher.exitCode === null) publisher.kill('SIGINT');
}
process.on('exit', () => {
  if (publisher && publisher.exitCode === null) publisher.kill('SIGKILL');
});

async function main() {
  const s = cfg.stream;
  const key = s.app + '/' + s.name;
  const card = '[data-stream="' + key + '"]';

  const browser = await step('launch', () => d.launch(cfg));
  try {
    const context = await browser.newContext({
      viewport: { width: 1360, height: 900 } });
    const page = d.watch(await context.newPage());
    const origin = new URL(cfg.url).origin;
    // API requests of the main page, by path (hls and the page excluded).
    out.api_requests = {};
    const apiPath = new URL(cfg.api).pathname;
    const uiPath = new URL(cfg.url).pathname;
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith(apiPath) && !u.pathname.startsWith(uiPath)) {
        const k = r.method() + ' ' + u.pathname.slice(apiPath.length);
        out.api_requests[k] = (out.api_requests[k] || 0) + 1;
      }
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('blob:')
          && !r.url().startsWith('data:')) {
        out.foreign_requests.push(r.url());
      }
    });
    page.on('response', (r) => {
      if (r.status() >= 400) {
        out.failed_responses.push(r.status() + ' ' + r.url());
      }
    });

    await step('load', async () => {
      await page.goto(cfg.url, { waitUntil: 'load', timeout: 10000 });
      await page.waitForSelector('#conn[data-state="live"]',
                                 { timeout: 10000 });
    });
    await step('empty_state', async () => {
      await page.waitForSelector('#streams-empty', { state: 'visible',
                                                     timeout: 5000 });
      out.empty_text = await page.textContent('#streams-empty');
      await page.screenshot({ path: shot('empty') });
    });
    out.vk_off_shown = await page.isVisible('#vk-off');
    out.console_errors_at_load = out.console_errors.length;
    out.load_console_errors = out.console_errors.slice();

    // --- a stream appears ---------------------------------------------------
    const appeared = await step('stream_appears', async () => {
      const spawned = now();
      publisher = spawn(cfg.publish[0], cfg.publish.slice(1),
                        { stdio: 'ignore' });
      let inApi = null;
      const poll = (async () => {
        while (inApi === null && now() - spawned < 20000) {
          const r = await apiGet('streams/' + encodeURIComponent(s.app) + '/'
                                 + encodeURIComponent(s.name));
          if (r.status === 200) inApi = now();
          else await sleep(25);
        }
      })();
      await page.waitForSelector(card, { timeout: 20000 });
      const inDom = now();
      await poll;
      out.appear_ms_after_spawn = inDom - spawned;
      out.appear_ms_after_api = inApi === null ? null : inDom - inApi;
      return true;
    });
    if (!appeared) return;

    await step('renditions_running', async () => {
      await page.waitForSelector(card + ' tr[data-suffix] .badge[data-state="running"]',
                                 { timeout: 20000 });
      out.card_text = (await page.textContent(card + ' header')).trim();
      out.facts_text = (await page.textContent(card + ' .facts')).trim();
      out.renditions_text = (await page.textContent(card + ' .renditions tbody')).trim();
      out.sources = await page.$$eval(card + ' select.source option',
                                      (os) => os.map((o) => o.textContent));
    });

    // --- the player plays ---------------------------------------------------
    const video = card + ' video';
    const ct = () => page.$eval(video, (v) => v.currentTime);
    await step('video_plays', async () => {
      await page.waitForFunction((sel) => {
        const v = document.querySelector(sel);
        return v && v.currentTime > 0 && !v.paused;
      }, video, { timeout: 40000, polling: 100 });
      const first = await ct();
      out.video_first_time = first;
      const target = Math.max(3, first + 3);
      await page.waitForFunction(([sel, t]) =>
        document.querySelector(sel).currentTime >= t,
      [video, target], { timeout: 20000, polling: 100 });
      out.video_time = await ct();
      out.video_info = await page.$eval(video, (v) => ({
        width: v.videoWidth, height: v.videoHeight, paused: v.paused,
        frames: v.getVideoPlaybackQuality().totalVideoFrames }));
      out.player_state = await page.textContent(card + ' .player-state');
    });

    // --- the rendition switcher -----------------------------------------------
    if (out.sources.length > 1) {
      await step('switch_rendition', async () => {
        const values = await page.$$eval(card + ' select.source option',
                                         (os) => os.map((o) => o.value));
        const target = values[values.length - 1];
        await page.selectOption(card + ' select.source', target);
        await page.waitForFunction((sel) => {
          const v = document.querySelector(sel);
          return v && v.currentTime > 1 && !v.paused;
        }, video, { timeout: 30000, polling: 100 });
        out.switched_to = await page.$eval(card + ' select.source',
          (sel) => sel.selectedOptions[0].textContent);
        out.switched_state = await page.textContent(card + ' .player-state');
      });
    }

    // --- keywords: refused without the token, saved with it -------------------
    const kw = card + ' form.keywords';
    await step('keywords_need_token', async () => {
      await page.fill(kw + ' input', 'dashboard test');
      await page.click(kw + ' button[type="submit"]');
      await page.waitForFunction((sel) =>
        /token/.test(document.querySelector(sel).textContent),
      kw + ' .kw-msg', { timeout: 5000 });
      out.kw_msg_no_token = await page.textContent(kw + ' .kw-msg');
    });
    await step('keywords_saved', async () => {
      await page.fill('#token', cfg.token);
      await page.click('#token-form button[type="submit"]');
      await page.fill(kw + ' input', 'dashboard test');
      await page.click(kw + ' button[type="submit"]');
      await page.waitForFunction((sel) =>
        document.querySelector(sel).textContent === 'saved',
      kw + ' .kw-msg', { timeout: 5000 });
      const r = await apiGet('streams/' + encodeURIComponent(s.app) + '/'
                             + encodeURIComponent(s.name));
      out.api_keywords = r.json && r.json.vk.keywords;
      out.rule_badge = await page.textContent(kw + ' .rule-state');
      out.token_in_storage = await page.evaluate(() =>
        sessionStorage.getItem('vkstream.token'));
      await page.waitForSelector('#conn[data-state="live"]',
                                 { timeout: 5000 });
    });

    // --- VK state and a match -------------------------------------------------
    if (cfg.inject_vk) {
      await step('vk_state', async () => {
        await request(cfg.inject_vk);
        await page.waitForFunction(() =>
          document.getElementById('vk').dataset.state === 'connected',
        null, { timeout: 8000, polling: 100 });
        out.vk_text = (await page.textContent('#vk-state')).trim();
        out.vk_off_after = await page.isVisible('#vk-off');
      });
    }
    await step('match_appears', async () => {
      const r = await apiGet('streams/' + encodeURIComponent(s.app) + '/'
                             + encodeURIComponent(s.name));
      const tag = r.json.vk.tag;
      const sent = now();
      await request(cfg.inject_match, tag);
      await page.waitForFunction(([sel, text]) =>
        [...document.querySelectorAll(sel)].some((li) =>
          li.textContent.includes(text)),
      [card + ' ol.matches li.match', cfg.match_text],
      { timeout: 10000, polling: 'raf' });
      out.match_ms = now() - sent;
      out.match_html_elements = await page.$$eval(
        card + ' ol.matches li.match .text *', (els) => els.length);
      out.match_item = await page.$eval(card + ' ol.matches li.match',
        (li) => ({ text: li.querySelector('.text').textContent,
                   head: li.querySelector('.match-head').textContent,
                   link: li.querySelector('a.link')
                     ? li.querySelector('a.link').href : null }));
      out.xss_fired = await page.evaluate(() => window.__xss === true);
    });

    await step('screenshot', async () => {
      fs.mkdirSync(path.dirname(cfg.screenshot), { recursive: true });
      await page.screenshot({ path: cfg.screenshot, fullPage: true });
      out.screenshot_bytes = fs.statSync(cfg.screenshot).size;
    });

    // --- the stream ends --------------------------------------------------------
    await step('stream_ends', async () => {
      stopPublisher();
      await page.waitForSelector(card + '[data-state="ended"]',
                                 { timeout: 15000 });
      out.ended_player_state = await page.textContent(card + ' .player-state');
    });

    // --- API unreachable (its requests fail in a second page) -----------------
    await step('unreachable', async () => {
      const p2 = await context.newPage();
      await p2.route((u) => u.pathname.startsWith(new URL(cfg.api).pathname)
                     && !u.pathname.startsWith(new URL(cfg.url).pathname),
                     (route) => route.abort('connectionrefused'));
      await p2.goto(cfg.url, { waitUntil: 'load', timeout: 10000 });
      await p2.waitForSelector('#banner', { state: 'visible', timeout: 10000 });
      out.unreachable_banner = await p2.textContent('#banner');
      out.unreachable_conn = await p2.textContent('#conn');
      await p2.screenshot({ path: shot('unreachable') });
      await p2.close();
    });
  } finally {
    stopPublisher();
    await browser.close();
  }
}

d.run(main);
