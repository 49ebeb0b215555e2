/*
 * vkstream dashboard: one page on the HTTP control API.
 *
 * Data flow: GET /streams and /status once, then the /events SSE feed says
 * what changed and only that is fetched again (one stream, its new matches,
 * the rules).  Statistics (speed, bitrate, drops) have no events, so the list
 * and the status are refreshed every STATS_MS while the tab is visible
 * (and /cluster, when the status says cluster mode is on).  Events of many streams at once
 * (a burst of publishes) fold into one list request.
 *
 * Players are lazy: a card's hls.js player runs only while the card is shown
 * (IntersectionObserver), at most MAX_AUTO at once, or after a click on its
 * play button; a card scrolled away stops its player and frees its
 * MediaSource.
 *
 * A stream with LL-HLS (its "llhls" in the API) offers its LL-HLS master
 * and playlists first, so they are chosen by default, and plays them with
 * hls.js' lowLatencyMode (catching up to 1.5x speed when behind its
 * target).  Every running player shows its latency, updated
 * every LATENCY_MS: Date.now() - hls.playingDate when the playlist has
 * PROGRAM-DATE-TIME (the time since the picture reached the server), else
 * hls.latency (how far behind the live edge hls.js plays).
 *
 * Everything from the API is written with textContent, never as HTML.
 */
'use strict';

(function () {
  const params = new URLSearchParams(location.search);
  // The API location: by default the parent of the dashboard's
  // (/vkstream/ui/ -> /vkstream/); "?api=/other/" overrides it, on this
  // origin only (the token must not be sent elsewhere).
  const API = (() => {
    const def = new URL('../', location.href);
    try {
      const u = new URL(params.get('api') || '../', location.href);
      return u.origin === location.origin ? u.href : def.href;
    } catch (e) {
      return def.href;
    }
  })();
  const STATS_MS = 5000;
  const RETRY_MS = 2000;
  const MAX_MATCHES = 100;
  const MAX_AUTO = 4;               // players started by being shown
  const BATCH_MS = 100;             // events folded into one refresh
  const LATENCY_MS = 500;           // a playing player's latency readout
  const TOKEN_KEY = 'vkstream.token';

  const $ = (id) => document.getElementById(id);
  const views = new Map();          // "app/name" -> stream view
  const byNode = new WeakMap();     // card element -> stream view
  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let apiOk = false;
  let sseAbort = null;
  let lastGlobalMatch = 0;

  // ---- helpers -------------------------------------------------------------

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // One %-escaped path segment; "." and ".." must be escaped too.
  function seg(s) {
    const e = encodeURIComponent(s);
    return s === '.' || s === '..' ? e.replace(/\./g, '%2E') : e;
  }

  function streamPath(app, name) {
    return 'streams/' + seg(app) + '/' + seg(name);
  }

  // Only http(s) links from the data become hrefs.
  function safeUrl(u) {
    try {
      const url = new URL(u, location.href);
      return url.protocol === 'http:' || url.protocol === 'https:'
        ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function fmtDuration(sec) {
    sec = Math.max(0, Math.floor(sec));
    const h = Math.floor(sec / 3600), m = Math.floor(sec % 3600 / 60);
    const s = String(sec % 60).padStart(2, '0');
    return h ? h + ':' + String(m).padStart(2, '0') + ':' + s : m + ':' + s;
  }

  function num(v, digits, unit) {
    return v === null || v === undefined ? '–'
      : Number(v).toFixed(digits) + (unit || '');
  }

  function fmtTime(sec) {
    return sec ? new Date(sec * 1000).toLocaleString() : '–';
  }

  // Fills a <dl> from [label, value] pairs; returns the <dd>s by label.
  function setKV(dl, pairs) {
    const dds = {};
    dl.replaceChildren();
    for (const [k, v] of pairs) {
      dl.append(el('dt', null, k));
      dds[k] = dl.appendChild(el('dd', null, v));
    }
    return dds;
  }

  function badge(node, text, state) {
    node.textContent = text;
    node.dataset.state = state || text;
  }

  async function api(method, path, body) {
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(API + path, {
      method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      /* not JSON */
    }
    if (!res.ok) {
      const err = json && json.error;
      const e = new Error((err && err.message) || res.status + ' '
                          + res.statusText);
      e.status = res.status;
      throw e;
    }
    return json;
  }

  // ---- global state: banner, connection, VK ----------------------------------

  function setApiError(e) {
    apiOk = !e;
    const b = $('banner');
    b.hidden = !e;
    if (!e) return;
    if (e.status === 401) {
      b.textContent = 'The API asks for a token to read: paste it above.';
    } else if (e.status === 403) {
      b.textContent = 'The API refused the token (or this address).';
    } else if (e.status) {
      b.textContent = 'API error: ' + e.message;
    } else {
      b.textContent = 'API unreachable at ' + API + ' (' + e.message
        + '); retrying…';
    }
    b.dataset.kind = e.status ? 'error' : 'unreachable';
    renderEmpty();
  }

  function setConn(state, text) {
    badge($('conn'), text, state);
  }

  function renderStatus(st) {
    const vk = st.vk || {};
    $('vk-off').hidden = vk.state !== 'off';
    const dds = setKV($('vk-state'), [
      ['state', vk.state || 'unknown'],
      ['since', fmtTime(vk.since)],
      ['endpoint', vk.endpoint || '–'],
      ['events', 'received ' + (vk.received || 0) + ', stored '
       + (vk.stored || 0) + ', dropped ' + (vk.dropped || 0)
       + ', malformed ' + (vk.malformed || 0)],
      ['reconnects', vk.reconnects || 0],
      ['global rules', (vk.rules || 0) + ' (generation '
       + (vk.rules_generation || 0) + ')'],
      ['service message', vk.service_code
       ? vk.service_code + ': ' + (vk.service_message || '') : '–'],
      ['last error', vk.last_error || '–'],
    ]);
    dds.state.className = 'badge';
    dds.state.dataset.state = vk.state || 'unknown';
    $('vk').dataset.state = vk.state || 'unknown';
    // "cluster": null without cluster mode, else its short form.
    if (st.cluster && st.cluster.enabled !== false) {
      renderClusterState(st.cluster);
    } else if ('cluster' in st) {
      hideCluster();
    }
  }

  // ---- cluster: the Nodes panel ------------------------------------------------
  //
  // GET /status says whether cluster mode is on ("cluster": null when off,
  // else its state, node and VK holder); only then is GET /cluster asked,
  // with the status, every STATS_MS.  Without cluster mode the page makes
  // no /cluster request at all.

  let clusterAt = 0;                // when the ages below were read
  const nodeAges = [];              // [<td>, age_ms]

  function fmtAge(ms) {
    if (typeof ms !== 'number' || ms < 0) return '–';
    if (ms < 10000) return (ms / 1000).toFixed(1) + ' s ago';
    if (ms < 120000) return Math.round(ms / 1000) + ' s ago';
    return Math.round(ms / 60000) + ' min ago';
  }

  function hideCluster() {
    $('nodes').hidden = true;
    $('cluster-badge').hidden = true;
    nodeAges.length = 0;
  }

  async function loadCluster() {
    try {
      const c = await api('GET', 'cluster');
      if (!c || c.enabled === false || !Array.isArray(c.nodes)) {
        hideCluster();
        return;
      }
      renderCluster(c);
    } catch (e) {
      // 404: cluster mode went off since the status was read; otherwise
      // the status's state stays shown until the next read.
      if (e.status === 404) hideCluster();
    }
  }

  // The state, from /status (short form) or /cluster: the panel's badge and
  // alert, and the header's badge when it is not "connected".
  function renderClusterState(c) {
    const state = c.state || 'unknown';
    $('nodes').hidden = false;
    $('nodes').dataset.state = state;
    badge($('cluster-state'), state);
    const down = state !== 'connected';
    $('cluster-down').hidden = !down;
    $('cluster-down').textContent = 'cluster: ' + state
      + (down ? ' (this node serves its own streams; the view may be stale)'
        : '');
    // prominent in the page's header too
    $('cluster-badge').hidden = !down;
    badge($('cluster-badge'), 'cluster: ' + state, state);
    $('cluster-badge').title = down
      ? 'Redis ' + (c.redis || '') + ' is not reachable from node '
        + (c.node || '?') + (c.last_error ? ': ' + c.last_error : '')
      : '';
  }

  function renderCluster(c) {
    const vk = c.vk || {};
    renderClusterState(c);

    clusterAt = Date.now();
    nodeAges.length = 0;
    // By name: rows keep their place from one read to the next.
    const nodes = c.nodes.slice().sort((x, y) =>
      String(x.name) < String(y.name) ? -1 : String(x.name) > String(y.name)
        ? 1 : 0);
    $('nodes-table').tBodies[0].replaceChildren(...nodes.map((n) => {
      const tr = el('tr');
      tr.dataset.node = n.name;
      if (n.self) tr.classList.add('self');
      const name = tr.appendChild(el('td'));
      const url = safeUrl(n.url);
      const a = name.appendChild(el(url ? 'a' : 'span', 'name', n.name));
      if (url) {
        a.href = url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.title = url + (n.version ? ' (vkstream ' + n.version + ')' : '');
      }
      if (n.vk || (vk.holder && vk.holder === n.name)) {
        const b = name.appendChild(el('span', 'badge vk-holder', 'VK'));
        b.title = 'holds the VK connection'
          + (vk.token !== undefined && vk.token !== null
            ? ' (lease token ' + vk.token + ')' : '');
      }
      if (n.self) name.append(el('span', 'badge self', 'this node'));
      tr.append(el('td', 'live', n.live === undefined ? '–' : n.live));
      const max = n.max_transcodes;
      const tc = tr.appendChild(el('td', 'transcodes',
        (n.transcodes === undefined ? '–' : n.transcodes) + ' / '
        + (max ? max : '∞')));
      if (!max) tc.title = 'no maximum (vkstream_max_transcodes_total 0)';
      tr.append(el('td', 'cpu', typeof n.cpu_busy === 'number'
        ? Math.round(n.cpu_busy * 100) + ' %' : '–'));
      const age = tr.appendChild(el('td', 'age', fmtAge(n.age_ms)));
      if (n.heartbeat_ms) {
        age.title = new Date(n.heartbeat_ms).toLocaleString();
      }
      if (typeof n.age_ms === 'number') nodeAges.push([age, n.age_ms]);
      return tr;
    }));
    const meta = [];
    if (c.node) meta.push('this node: ' + c.node);
    if (c.redis) meta.push('redis: ' + c.redis);
    meta.push(vk.holder ? 'VK held by ' + vk.holder
      + (vk.token !== undefined && vk.token !== null
        ? ' (token ' + vk.token + ')' : '') : 'VK: no holder');
    // The last failure stays in /cluster after Redis answers again: shown
    // while the cluster is not connected only.
    if (c.last_error && c.state !== 'connected') {
      meta.push('last error: ' + c.last_error);
    }
    $('cluster-meta').textContent = meta.join(' · ');
  }

  async function loadRules() {
    try {
      const r = await api('GET', 'rules');
      const ul = $('rules');
      ul.replaceChildren(...(r.rules || []).map((rule) => {
        const li = el('li');
        li.append(el('span', 'tag', rule.tag), ' ',
                  el('span', 'value', rule.value), ' ');
        const b = li.appendChild(el('span', 'badge'));
        badge(b, rule.state);
        if (rule.error) li.append(' ', el('span', 'error', rule.error));
        return li;
      }));
      $('rules-empty').textContent = 'none';
      $('rules-empty').hidden = ul.children.length > 0;
    } catch (e) {
      /* the banner already says it when the API is down */
    }
  }

  let statusTimer = null;
  function scheduleStatus() {
    if (statusTimer) return;
    statusTimer = setTimeout(async () => {
      statusTimer = null;
      try {
        renderStatus(await api('GET', 'status'));
      } catch (e) {
        setApiError(e);
      }
    }, 300);
  }

  // The status, then the cluster if the status says cluster mode is on.
  async function loadStatus() {
    const st = await api('GET', 'status');
    renderStatus(st);
    if (st && st.cluster && st.cluster.enabled !== false) {
      await loadCluster();
    }
  }

  // ---- matches ----------------------------------------------------------------

  function matchItem(m) {
    const li = el('li', 'match');
    li.dataset.id = m.id;
    const head = li.appendChild(el('div', 'match-head'));
    head.append(el('span', 'badge type',
                   m.event_type + (m.action && m.action !== 'new'
                                   ? ' ' + m.action : '')));
    const who = m.author_id < 0 ? 'club' + -m.author_id
      : m.author_id ? 'id' + m.author_id : 'unknown author';
    const authorUrl = safeUrl(m.author_url);
    const author = el(authorUrl ? 'a' : 'span', 'author', who);
    if (authorUrl) {
      author.href = authorUrl;
      author.target = '_blank';
      author.rel = 'noopener noreferrer';
    }
    head.append(' ', author, ' ');
    const t = head.appendChild(el('time', null, fmtTime(m.created)));
    if (m.created) t.dateTime = new Date(m.created * 1000).toISOString();
    const url = safeUrl(m.url);
    if (url) {
      const a = head.appendChild(el('a', 'link', 'open'));
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
    }
    // VK texts carry <br> as line breaks: turn them into newlines, the
    // rest stays text.
    let text = String(m.text || '').replace(/<br\s*\/?>/gi, '\n').trim();
    if (text.length > 300) text = text.slice(0, 300) + '…';
    li.append(el('p', 'text', text));
    return li;
  }

  // Matches come oldest first; the list shows the newest first.
  function addMatches(list, empty, matches) {
    for (const m of matches) list.prepend(matchItem(m));
    while (list.children.length > MAX_MATCHES) list.lastChild.remove();
    empty.hidden = list.children.length > 0;
  }

  // Only a stream that has matches needs them fetched (a "match" event
  // fetches the new ones).
  function hasMatches(s) {
    return !s.vk || typeof s.vk.matches_total !== 'number'
      || s.vk.matches_total > 0;
  }

  async function loadMatches(v) {
    if (v.matchesBusy) {
      v.matchesAgain = true;
      return;
    }
    v.matchesBusy = true;
    try {
      do {
        v.matchesAgain = false;
        const id = v.data.id;
        const r = await api('GET', streamPath(v.data.app, v.data.name)
                            + '/matches?after=' + v.lastMatch
                            + '&limit=' + MAX_MATCHES);
        if (v.data.id !== id) {
          v.matchesAgain = true;          // republished meanwhile
          continue;
        }
        const fresh = r.matches.filter((m) => m.id > v.lastMatch);
        addMatches(v.matchList, v.matchesEmpty, fresh);
        for (const m of fresh) v.lastMatch = Math.max(v.lastMatch, m.id);
        v.matchCount.textContent = '(' + (r.total || 0) + ')';
        if (r.matches.length === MAX_MATCHES) v.matchesAgain = true;
      } while (v.matchesAgain);
    } catch (e) {
      if (e.status !== 404) setApiError(e);
    } finally {
      v.matchesBusy = false;
    }
  }

  let globalBusy = false;
  async function loadGlobalMatches() {
    if (globalBusy) return;
    globalBusy = true;
    try {
      const r = await api('GET', 'matches?after=' + lastGlobalMatch
                          + '&limit=' + MAX_MATCHES);
      const fresh = r.matches.filter((m) => m.id > lastGlobalMatch);
      $('global-matches-empty').textContent = 'none yet';
      addMatches($('global-matches'), $('global-matches-empty'), fresh);
      for (const m of fresh) lastGlobalMatch = Math.max(lastGlobalMatch, m.id);
    } catch (e) {
      /* shown by the banner if the API is down */
    } finally {
      globalBusy = false;
    }
  }

  // ---- player ----------------------------------------------------------------
  //
  // v.mode says whether a card's player runs: null (idle: the card shows its
  // play button), 'auto' (started because the card is shown) or 'click'
  // (started by its play button).  A running player holds a slot while it
  // loads, retries or plays; at most MAX_AUTO are started by being shown,
  // more only by clicks, and a click when MAX_AUTO run stops the oldest
  // auto-started one.  The card's data-player attribute says where it is:
  // idle, ended, waiting (for a rendition or a retry), loading, playing.

  let startSeq = 0;

  // LL-HLS first (the default choice), then classic HLS; "ll" says which
  // hls.js mode plays it.
  function sources(s) {
    const out = [];
    const add = (o, prefix, ll) => {
      if (!o) return;
      if (o.master) {
        out.push({ label: prefix + 'master (auto)', url: o.master, ll });
      }
      const pl = o.playlists || {};
      for (const suffix of Object.keys(pl).sort()) {
        out.push({ label: prefix + suffix, url: pl[suffix], ll });
      }
    };
    add(s.llhls, 'LL-HLS ', true);
    add(s.hls, '', false);
    return out;
  }

  function setPlayer(v, state, text) {
    v.node.dataset.player = state;
    if (text !== undefined) v.playerState.textContent = text;
  }

  // The running rendition exists (playlists appear with its first segment,
  // not before it runs) and a playlist is chosen.
  function startable(v) {
    return v.data.state === 'live' && !!v.sourceSel.value
      && (v.data.renditions || []).some((r) => r.state === 'running');
  }

  // Tears the hls.js instance down: its MediaSource, buffers and loaders.
  function stopPlayer(v, why) {
    clearTimeout(v.retry);
    v.retry = null;
    if (v.hls) {
      v.hls.destroy();
      v.hls = null;
    }
    if (v.video.getAttribute('src')) {
      v.video.removeAttribute('src');
      v.video.load();
    }
    v.playing = null;
    showLatency(v, null);
    if (why) v.playerState.textContent = why;
  }

  // The card's latency readout; its data-kind says what was measured
  // ("pdt": since the picture's PROGRAM-DATE-TIME, "edge": behind the live
  // edge), data-ms the value.
  function showLatency(v, hls) {
    const out = v.latency;
    let ms = null, kind = '';
    if (hls && hls.media && !hls.media.paused) {
      const date = hls.playingDate;
      if (date && !isNaN(date.getTime())) {
        ms = Date.now() - date.getTime();
        kind = 'pdt';
      } else if (Number.isFinite(hls.latency) && hls.latency > 0) {
        ms = hls.latency * 1000;
        kind = 'edge';
      }
    }
    out.hidden = !hls;
    out.dataset.kind = kind;
    out.dataset.ms = ms === null ? '' : String(Math.round(ms));
    if (ms === null) {
      out.textContent = 'latency –';
      out.title = '';
      return;
    }
    out.textContent = 'latency ' + (ms / 1000).toFixed(ms < 10000 ? 2 : 1)
      + ' s ' + (kind === 'pdt' ? '(PDT)' : '(live edge)');
    out.title = kind === 'pdt'
      ? 'now minus the PROGRAM-DATE-TIME of the frame shown: the time '
        + 'since the picture reached the server (hls.playingDate)'
      : 'how far behind the live edge of the playlist hls.js plays '
        + '(hls.latency; the playlist has no PROGRAM-DATE-TIME)';
  }

  // Stops a running player and gives its slot back.
  function release(v, why) {
    stopPlayer(v);
    if (v.mode) {
      v.mode = null;
      scheduleSoon();
    }
    v.node.dataset.playerMode = '';
    v.stopBtn.hidden = true;
    v.idleWhy = why || '';
    renderIdle(v);
  }

  function renderIdle(v) {
    const s = v.data;
    const ended = s.state !== 'live';
    const running = (s.renditions || []).filter((r) => r.state === 'running');
    let info;
    if (ended) {
      info = 'stream ended';
    } else if (!running.length) {
      info = 'live · waiting for a running rendition';
    } else {
      info = 'live · ' + running.map((r) => r.suffix
        + (r.width ? ' ' + r.width + '×' + r.height : '')).join(', ');
    }
    v.playBtn.disabled = ended;
    v.playInfo.textContent = info;
    v.playBtn.title = ended ? 'the stream has ended' : 'play ' + s.app + '/'
      + s.name;
    setPlayer(v, ended ? 'ended' : 'idle',
              ended ? 'stream ended' : v.idleWhy || 'not playing');
  }

  function running() {
    return [...views.values()].filter((v) => v.mode);
  }

  function start(v, mode) {
    v.mode = mode;
    v.startSeq = ++startSeq;
    v.userStopped = false;
    v.node.dataset.playerMode = mode;
    v.stopBtn.hidden = false;
    updatePlayer(v);
  }

  // Shown cards, top first, take the free slots.
  let scheduled = false;
  function scheduleSoon() {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      let n = running().length;
      for (const node of $('streams').children) {
        if (n >= MAX_AUTO) break;
        const v = byNode.get(node);
        if (v && v.shown && !v.mode && !v.userStopped && startable(v)) {
          start(v, 'auto');
          n++;
        }
      }
    });
  }

  function onPlayClick(v) {
    if (v.mode || v.data.state !== 'live') return;
    const r = running();
    if (r.length >= MAX_AUTO) {
      const auto = r.filter((x) => x.mode === 'auto')
        .sort((a, b) => a.startSeq - b.startSeq);
      if (auto.length) {
        release(auto[0], 'stopped to play ' + v.data.app + '/'
                + v.data.name);
      }
    }
    start(v, 'click');
  }

  // A card is shown when most of it is in the viewport, or, for a card
  // taller than that, when it fills half the viewport.
  const observer = 'IntersectionObserver' in window
    ? new IntersectionObserver((entries) => {
      for (const e of entries) {
        const v = byNode.get(e.target);
        if (!v) continue;
        const vh = e.rootBounds ? e.rootBounds.height : window.innerHeight;
        v.shown = e.isIntersecting && (e.intersectionRatio >= 0.5
          || e.intersectionRect.height >= vh * 0.5);
        if (!v.shown) {
          v.userStopped = false;
          if (v.mode) release(v, 'stopped: scrolled out of view');
        }
      }
      scheduleSoon();
    }, { threshold: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] })
    : null;

  function play(v, url) {
    stopPlayer(v);
    v.playing = url;
    setPlayer(v, 'loading', 'loading…');
    const video = v.video;
    const src = v.sources.find((x) => x.url === url);
    if (window.Hls && window.Hls.isSupported()) {
      const ll = !!(src && src.ll);
      // hls.js never plays faster than real time by default, so the time
      // it spends starting stays as latency: let LL-HLS catch it up
      const hls = new window.Hls({ liveDurationInfinity: true,
                                   lowLatencyMode: ll,
                                   maxLiveSyncPlaybackRate: ll ? 1.5 : 1 });
      v.hls = hls;
      showLatency(v, hls);
      hls.on(window.Hls.Events.MANIFEST_PARSED, () => {
        video.play().catch(() => {});
      });
      hls.on(window.Hls.Events.ERROR, (ev, data) => {
        if (!data.fatal || v.hls !== hls) return;
        // Mostly a playlist that has no segment yet: try again shortly.
        stopPlayer(v, 'waiting for HLS (' + data.details + ')');
        setPlayer(v, 'waiting');
        v.retry = setTimeout(() => {
          v.retry = null;
          if (v.mode && startable(v)) play(v, v.sourceSel.value);
        }, RETRY_MS);
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;
      video.play().catch(() => {});
    } else {
      setPlayer(v, 'waiting', 'this browser cannot play HLS');
    }
  }

  function updatePlayer(v) {
    const s = v.data, sel = v.sourceSel;
    const list = sources(s);
    const sig = list.map((x) => x.url).join('\n');
    v.sources = list;
    if (sig !== v.sourcesSig) {
      v.sourcesSig = sig;
      const prev = sel.value;
      sel.replaceChildren(...list.map((x) => {
        const o = el('option', null, x.label);
        o.value = x.url;
        return o;
      }));
      if (list.some((x) => x.url === prev)) sel.value = prev;
    }
    if (!v.mode || s.state !== 'live') {
      if (v.mode || v.playing || v.retry) release(v);
      else renderIdle(v);
      if (s.state === 'live') scheduleSoon();
    } else if (!startable(v)) {
      if (v.playing || v.retry) stopPlayer(v);
      setPlayer(v, 'waiting', 'waiting for a running rendition…');
    } else if (v.playing !== sel.value && !v.retry) {
      play(v, sel.value);
    }
  }

  // ---- streams ---------------------------------------------------------------

  function createView(s) {
    const node = $('stream-tpl').content.firstElementChild.cloneNode(true);
    const q = (sel) => node.querySelector(sel);
    const v = {
      node, data: s, lastMatch: 0, hls: null, playing: null, retry: null,
      sources: [], latency: q('.latency'),
      mode: null, shown: false, userStopped: false, startSeq: 0,
      video: q('video'), sourceSel: q('.source'), playBtn: q('button.play'),
      playInfo: q('.play-info'), stopBtn: q('button.stop'),
      playerState: q('.player-state'), facts: q('.facts'),
      rendBody: q('.renditions tbody'), kwForm: q('.keywords'),
      kwInput: q('.keywords input'), kwMsg: q('.kw-msg'),
      ruleState: q('.rule-state'), matchList: q('ol.matches'),
      matchesEmpty: q('.matches-empty'), matchCount: q('.match-count'),
      kwDirty: false,
    };
    v.video.addEventListener('playing', () => {
      if (!v.hls && !v.video.getAttribute('src')) return;
      const o = v.sourceSel.selectedOptions[0];
      setPlayer(v, 'playing', 'playing ' + (o ? o.textContent : ''));
    });
    v.video.addEventListener('waiting', () => {
      if (v.mode) v.playerState.textContent = 'buffering…';
    });
    v.sourceSel.addEventListener('change', () => {
      // The chosen playlist plays now if the player runs, else when it
      // starts.
      if (v.mode && startable(v)) play(v, v.sourceSel.value);
    });
    v.playBtn.addEventListener('click', () => onPlayClick(v));
    v.stopBtn.addEventListener('click', () => {
      v.userStopped = true;         // until it is scrolled away and back
      release(v, 'stopped');
    });
    byNode.set(node, v);
    v.kwInput.addEventListener('input', () => { v.kwDirty = true; });
    v.kwForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const kw = v.kwInput.value.trim();
      setKeywords(v, kw ? 'PUT' : 'DELETE', kw);
    });
    q('.kw-clear').addEventListener('click', () => setKeywords(v, 'DELETE'));
    return v;
  }

  async function setKeywords(v, method, kw) {
    v.kwMsg.textContent = 'saving…';
    try {
      const s = await api(method, streamPath(v.data.app, v.data.name)
                          + '/keywords',
                          method === 'PUT' ? { keywords: kw } : undefined);
      v.kwDirty = false;
      v.kwMsg.textContent = 'saved';
      if (s && s.app !== undefined) upsert(s);
      else refreshStream(v.data.app, v.data.name);
    } catch (e) {
      v.kwMsg.textContent = e.status === 401
        ? 'a token is needed: paste it above'
        : e.status === 403 ? 'the token was refused' : e.message;
    }
  }

  function renderStream(v) {
    const s = v.data, q = (sel) => v.node.querySelector(sel);
    v.node.dataset.stream = s.app + '/' + s.name;
    v.node.dataset.state = s.state;
    q('.title').textContent = s.app + '/' + s.name;
    badge(q('.state'), s.state);
    // Another node's stream has no worker here (worker_pid null).
    q('.meta').textContent = 'from ' + (s.publisher || '?')
      + (s.worker_pid ? ' · worker ' + s.worker_pid : '')
      + ' · started ' + fmtTime(s.start_time);
    // Cluster mode: the node that has the stream (its links are on it).
    const nodeBadge = q('.node');
    nodeBadge.hidden = !s.node;
    nodeBadge.textContent = s.node ? 'node ' + s.node : '';
    nodeBadge.title = s.node_url || '';

    const i = s.input;
    const video = i && i.video_codec
      ? i.video_codec + ' ' + i.width + '×' + i.height + ' '
        + num(i.fps, 1, ' fps') : 'none';
    const dds = setKV(v.facts, [
      [s.state === 'live' ? 'uptime' : 'lasted', fmtDuration(s.duration)],
      ['input', i ? video + ', ' + (i.audio_codec || 'no audio') : 'waiting for the transcoder…'],
      ['input bitrate', i ? num(i.bitrate_kbps, 0, ' kbit/s') : '–'],
      ['GOPs dropped', i ? i.gops_dropped : '–'],
    ]);
    v.uptime = dds.uptime || null;

    v.rendBody.replaceChildren(...(s.renditions || []).map((r) => {
      const tr = el('tr');
      tr.dataset.suffix = r.suffix;
      const st = el('span', 'badge');
      badge(st, r.state);
      const cells = [
        r.suffix + (r.video_copy ? ' (copy)' : ''), st,
        r.width ? r.width + '×' + r.height : '–',
        num(r.speed, 2, '×'), num(r.encode_fps, 1),
        num(r.bitrate_kbps, 0, ' kbit/s'),
        r.frames_dropped + ' / ' + r.frames_in,
      ];
      for (const c of cells) {
        const td = tr.appendChild(el('td'));
        td.append(c);
      }
      if (r.last_error) {
        tr.title = r.last_error;
        tr.classList.add('has-error');
      }
      return tr;
    }));
    if (!v.rendBody.children.length) {
      const td = v.rendBody.appendChild(el('tr')).appendChild(
        el('td', 'muted', 'no rendition reported yet'));
      td.colSpan = 7;
    }

    const vk = s.vk || {};
    if (!v.kwDirty && document.activeElement !== v.kwInput) {
      v.kwInput.value = vk.keywords || '';
    }
    for (const c of v.kwForm.elements) c.disabled = s.state !== 'live';
    badge(v.ruleState, 'rule ' + (vk.rule_state || 'none'),
          vk.rule_state || 'none');
    if (typeof vk.matches_total === 'number' && !v.matchesBusy) {
      v.matchCount.textContent = '(' + vk.matches_total + ')';
    }
    v.ruleState.title = vk.rule_error
      ? vk.rule_code + ': ' + vk.rule_error : '';

    updatePlayer(v);
  }

  function upsert(s) {
    const key = s.app + '/' + s.name;
    let v = views.get(key);
    if (!v) {
      v = createView(s);
      views.set(key, v);
      // Newest first; existing cards are never moved (a moved <video>
      // would pause).
      $('streams').prepend(v.node);
      if (observer) observer.observe(v.node);
      else v.shown = true;
      if (hasMatches(s)) loadMatches(v);
    } else if (v.data.id !== s.id) {
      // Republished: a new stream with its own matches.
      v.lastMatch = 0;
      v.matchList.replaceChildren();
      v.matchesEmpty.hidden = false;
      v.data = s;
      if (hasMatches(s)) loadMatches(v);
    }
    v.data = s;
    v.fetchedAt = Date.now();
    renderStream(v);
    renderEmpty();
  }

  function remove(key) {
    const v = views.get(key);
    if (!v) return;
    release(v);
    if (observer) observer.unobserve(v.node);
    v.node.remove();
    views.delete(key);
    renderEmpty();
  }

  function renderEmpty() {
    $('streams-empty').hidden = !apiOk || views.size > 0;
    const live = [...views.values()].filter((v) => v.data.state === 'live');
    $('stream-count').textContent = apiOk
      ? '(' + live.length + ' live, ' + (views.size - live.length)
        + ' ended)' : '';
  }

  // Re-fetches one stream; calls while one is in flight fold into one more.
  const refreshing = new Map();
  async function refreshStream(app, name) {
    const key = app + '/' + name;
    if (refreshing.has(key)) {
      refreshing.set(key, true);
      return;
    }
    try {
      do {
        refreshing.set(key, false);
        try {
          upsert(await api('GET', streamPath(app, name)));
        } catch (e) {
          if (e.status === 404) remove(key);
          else setApiError(e);
        }
      } while (refreshing.get(key));
    } finally {
      refreshing.delete(key);
    }
  }

  // Events of one or two streams re-fetch those streams; more within
  // BATCH_MS (many publishers starting at once) fold into one list request.
  const batch = new Map();
  let batchTimer = null;
  function queueRefresh(app, name) {
    batch.set(app + '/' + name, [app, name]);
    if (!batchTimer) batchTimer = setTimeout(flushRefresh, BATCH_MS);
  }

  function flushRefresh() {
    batchTimer = null;
    const items = [...batch.values()];
    batch.clear();
    if (items.length > 2) loadAll(false);
    else for (const [app, name] of items) refreshStream(app, name);
  }

  function applyList(list) {
    const seen = new Set();
    // The list is newest first; inserting at the top goes oldest first.
    for (const s of list.streams.slice().reverse()) {
      seen.add(s.app + '/' + s.name);
      upsert(s);
    }
    for (const key of [...views.keys()]) {
      if (!seen.has(key)) remove(key);
    }
    renderEmpty();
  }

  // The list, the status and (when the status says cluster mode is on)
  // the cluster; withStatus false: the list only.  One at a time; calls
  // meanwhile fold into one more.
  let loading = null, loadAgain = null;
  async function loadAll(withStatus) {
    withStatus = withStatus !== false;
    if (loading) {
      loadAgain = loadAgain || withStatus;
      return loading;
    }
    loading = (async () => {
      let ok = false;
      try {
        const [list] = await Promise.all([
          api('GET', 'streams'),
          withStatus ? loadStatus() : null]);
        setApiError(null);
        applyList(list);
        ok = true;
      } catch (e) {
        setApiError(e);
      }
      return ok;
    })();
    try {
      return await loading;
    } finally {
      loading = null;
      if (loadAgain !== null) {
        const again = loadAgain;
        loadAgain = null;
        loadAll(again);
      }
    }
  }

  // ---- events ------------------------------------------------------------------

  function onEvent(type, d) {
    const s = d.stream;
    switch (type) {
    case 'publish':
    case 'unpublish':
    case 'rendition':
    case 'keywords':
      if (s) queueRefresh(s.app, s.name);
      if (type === 'publish' || type === 'unpublish') scheduleStatus();
      break;
    case 'match':
      if (s) {
        const v = views.get(s.app + '/' + s.name);
        if (v && v.data.id === s.id) loadMatches(v);
        else queueRefresh(s.app, s.name);
      } else {
        loadGlobalMatches();
      }
      scheduleStatus();
      break;
    case 'rules':
      loadRules();
      scheduleStatus();
      break;
    case 'gap':
      loadAll();
      break;
    }
  }

  // SSE over fetch rather than EventSource, so that a token can be sent when
  // reads need one.  Resumes with Last-Event-ID after a reconnect.
  let lastEventId = null;

  async function readEvents(body, idle) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      idle();
      buf += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let type = 'message', data = [];
        for (const line of block.split('\n')) {
          const c = line.indexOf(':');
          if (c === 0) continue;                    // comment
          const field = c < 0 ? line : line.slice(0, c);
          const val = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
          if (field === 'event') type = val;
          else if (field === 'data') data.push(val);
          else if (field === 'id') lastEventId = val;
        }
        if (!data.length) continue;
        let json;
        try {
          json = JSON.parse(data.join('\n'));
        } catch (e) {
          continue;
        }
        onEvent(type, json);
      }
    }
  }

  async function connectEvents() {
    for (;;) {
      const ctl = new AbortController();
      sseAbort = ctl;
      // The server comments after 15 s of silence: 40 s means it is gone.
      let timer = null;
      const idle = () => {
        clearTimeout(timer);
        timer = setTimeout(() => ctl.abort(), 40000);
      };
      try {
        const headers = { Accept: 'text/event-stream' };
        if (token) headers.Authorization = 'Bearer ' + token;
        if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
        idle();
        const res = await fetch(API + 'events', {
          headers, cache: 'no-store', signal: ctl.signal,
        });
        if (!res.ok) {
          const e = new Error('events: ' + res.status);
          e.status = res.status;
          throw e;
        }
        setConn('live', 'live');
        // Subscribed first, loaded second: nothing falls in between.
        await Promise.all([loadAll(), loadRules(), loadGlobalMatches()]);
        await readEvents(res.body, idle);
        setConn('reconnecting', 'reconnecting…');
      } catch (e) {
        if (!ctl.signal.aborted || e.status) {
          setConn('down', 'disconnected');
          setApiError(e);
        } else {
          setConn('reconnecting', 'reconnecting…');
        }
      } finally {
        clearTimeout(timer);
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  // ---- timers, token -----------------------------------------------------------

  setInterval(() => {
    if (document.hidden) return;
    for (const v of views.values()) {
      if (v.hls) showLatency(v, v.hls);
    }
  }, LATENCY_MS);

  setInterval(() => {
    for (const [td, ms] of nodeAges) {
      td.textContent = fmtAge(ms + Date.now() - clusterAt);
    }
    for (const v of views.values()) {
      if (v.uptime && v.data.state === 'live') {
        v.uptime.textContent = fmtDuration(
          v.data.duration + (Date.now() - v.fetchedAt) / 1000);
      }
    }
  }, 1000);

  // Statistics have no events: one list and one status request per period.
  setInterval(() => {
    if (!document.hidden && apiOk) loadAll();
  }, STATS_MS);

  function showToken() {
    $('token').value = '';
    $('token').placeholder = token ? 'token set (this tab only)'
      : 'for writes (kept in this tab only)';
  }

  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    showToken();
    if (sseAbort) sseAbort.abort();        // reconnect with the token
  });
  $('token-clear').addEventListener('click', () => {
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    showToken();
  });

  showToken();
  connectEvents();
})();
