// Browser side of the latency benchmark (scripts/bench.pl, "latency"):
// plays the classic nginx-rtmp HLS and the LL-HLS of the same stream side
// by side in headless Chromium (playwright-core), hls.js with its
// defaults (lowLatencyMode on), and reads the capture time each shown
// frame carries (the barcode of scripts/bench-clock-src.c).  It judges
// nothing: it prints one JSON object with the raw samples, and bench.pl
// computes the figures.
//
//   node scripts/bench-latency.js CONFIG.json
//
// CONFIG: {origin, players: [{name, url}], warmup_s, duration_s,
//          chromium, hls_js, modules, hls_config (added to hls.js'
//          defaults; none by default)}
// Every player's samples: [t, glass, pdt, target, rate, hlsLatency] per
// frame shown (t in ms since the players were created; glass = shown -
// captured in ms; pdt = shown - hls.playingDate in ms or null); events:
// playing, waiting after playing started, BUFFER_STALLED_ERROR, fatal
// errors, each with its t.
'use strict';

const fs = require('fs');
const path = require('path');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
cfg.warmup_s = Number(cfg.warmup_s);
cfg.duration_s = Number(cfg.duration_s);
const { chromium } = require(path.join(cfg.modules, 'playwright-core'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const T0 = Date.now();
const log = (m) => process.stderr.write('[' + (Date.now() - T0) + ' ms] ' + m
                                        + '\n');
// never outlive the run by much, whatever the browser does
setTimeout(() => {
  process.stdout.write(JSON.stringify({ error: 'timed out' }) + '\n');
  process.exit(2);
}, (cfg.warmup_s + cfg.duration_s + 60) * 1000).unref();

// The page: one <video> per player, each drawn into its own canvas (only
// the barcode strip) on every frame the compositor shows.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>latency</title>
<script src="/__bench/hls.min.js"></script></head>
<body style="margin:0;background:#000">
<script>
'use strict';
const BITS = 64, COLS = 32;

function crc16(bytes) {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) {
      crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff
                           : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

// The capture time (ms since the epoch) in the strip of the frame now in
// the video element, or null when the check field does not match.
function readClock(video, ctx) {
  const w = video.videoWidth, h = video.videoHeight;
  if (!w || !h) return null;
  const bh = h / 18, top = h / 18, bw = w / COLS;
  const sh = Math.ceil(2 * bh);
  if (ctx.canvas.width !== w || ctx.canvas.height !== sh) {
    ctx.canvas.width = w;
    ctx.canvas.height = sh;
  }
  ctx.drawImage(video, 0, top, w, sh, 0, 0, w, sh);
  const img = ctx.getImageData(0, 0, w, sh).data;
  const bits = [];
  const r = Math.max(1, Math.floor(Math.min(bw, bh) / 6));
  for (let i = 0; i < BITS; i++) {
    const row = Math.floor(i / COLS), col = i % COLS;
    const cx = Math.floor((col + 0.5) * bw), cy = Math.floor((row + 0.5) * bh);
    let sum = 0, n = 0;
    for (let y = cy - r; y <= cy + r; y++) {
      for (let x = cx - r; x <= cx + r; x++) {
        const o = (y * w + x) * 4;
        sum += 0.299 * img[o] + 0.587 * img[o + 1] + 0.114 * img[o + 2];
        n++;
      }
    }
    bits.push(sum / n > 128 ? 1 : 0);
  }
  let ms = 0;
  for (let i = 0; i < 48; i++) ms = ms * 2 + bits[i];
  let check = 0;
  for (let i = 48; i < 64; i++) check = check * 2 + bits[i];
  const bytes = [];
  for (let i = 0; i < 6; i++) {
    let b = 0;
    for (let j = 0; j < 8; j++) b = b * 2 + bits[i * 8 + j];
    bytes.push(b);
  }
  return crc16(bytes) === check ? ms : null;
}

window.bench = { t0: 0, players: {} };

function startPlayer(name, url) {
  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  video.width = 480;
  document.body.appendChild(video);
  const ctx = document.createElement('canvas')
                      .getContext('2d', { willReadFrequently: true });
  const p = { samples: [], unread: 0, events: [], playing: false,
              frames: 0 };
  window.bench.players[name] = p;
  const t = () => Date.now() - window.bench.t0;
  // hls.js defaults; lowLatencyMode is on by default, said here anyway
  const hls = new Hls(Object.assign({ lowLatencyMode: true },
                                    window.bench.hlsConfig));
  p.hls = hls;
  hls.on(Hls.Events.ERROR, (ev, d) => {
    if (d.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) {
      p.events.push({ t: t(), what: 'stalled' });
    } else if (d.fatal) {
      p.events.push({ t: t(), what: 'fatal', details: d.details });
    } else {
      p.events.push({ t: t(), what: 'error', details: d.details });
    }
  });
  video.addEventListener('playing', () => {
    if (!p.playing) p.events.push({ t: t(), what: 'playing' });
    p.playing = true;
  });
  video.addEventListener('waiting', () => {
    if (p.playing) p.events.push({ t: t(), what: 'waiting' });
  });
  const sample = (shown) => {
    p.frames++;
    const cap = readClock(video, ctx);
    if (cap === null) {
      p.unread++;
      return;
    }
    const pd = hls.playingDate;
    p.samples.push([shown - window.bench.t0, shown - cap,
                    pd ? shown - pd.getTime() : null,
                    hls.targetLatency, video.playbackRate, hls.latency]);
  };
  if ('requestVideoFrameCallback' in video) {
    const cb = (now, meta) => {
      sample(performance.timeOrigin + meta.expectedDisplayTime);
      video.requestVideoFrameCallback(cb);
    };
    video.requestVideoFrameCallback(cb);
    p.method = 'requestVideoFrameCallback';
  } else {
    video.addEventListener('timeupdate', () => sample(Date.now()));
    p.method = 'timeupdate';
  }
  hls.loadSource(url);
  hls.attachMedia(video);
}

window.benchStart = (players, hlsConfig) => {
  window.bench.t0 = Date.now();
  window.bench.hlsConfig = hlsConfig || {};
  for (const pl of players) startPlayer(pl.name, pl.url);
  return { hls: Hls.version, mse: Hls.isSupported(),
           h264: MediaSource.isTypeSupported(
             'video/mp4; codecs="avc1.64001f,mp4a.40.2"') };
};

window.benchResult = () => {
  const out = {};
  for (const [name, p] of Object.entries(window.bench.players)) {
    out[name] = { samples: p.samples, unread: p.unread, frames: p.frames,
                  events: p.events, method: p.method };
  }
  return out;
};
</script></body></html>`;

async function main() {
  const args = ['--autoplay-policy=no-user-gesture-required', '--mute-audio'];
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  const out = { console_errors: [] };
  log('launch');
  const browser = await chromium.launch({
    executablePath: cfg.chromium || '/usr/bin/chromium', args });
  log('launched');
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') out.console_errors.push(m.text());
    });
    // the page and hls.js come from the nginx origin, so every request
    // is same-origin and the canvas stays readable
    await page.route('**/__bench/**', (route) => {
      const u = new URL(route.request().url());
      if (u.pathname.endsWith('/hls.min.js')) {
        return route.fulfill({ status: 200, contentType: 'text/javascript',
                               body: fs.readFileSync(cfg.hls_js) });
      }
      return route.fulfill({ status: 200, contentType: 'text/html',
                             body: PAGE });
    });
    await page.goto(cfg.origin + '/__bench/latency.html',
                    { waitUntil: 'load', timeout: 20000 });
    log('loaded');
    out.t_start = Date.now();
    out.env = await page.evaluate((a) => window.benchStart(a[0], a[1]),
                                  [cfg.players, cfg.hls_config || {}]);
    await sleep((cfg.warmup_s + cfg.duration_s) * 1000);
    log('collecting');
    out.players = await page.evaluate(() => window.benchResult());
    log('collected');
    out.t_end = Date.now();
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) })
                       + '\n');
  process.exit(1);
});
