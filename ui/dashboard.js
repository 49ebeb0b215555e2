/*
 * vkstream dashboard: one page on the HTTP control API.
 *
 * Data flow: GET /streams and /status once, then the /events SSE feed says
 * what changed and only that is fetched again (one stream, its new matches,
 * the rules).  Statistics (speed, bitrate, drops) have no events, so the list
 * and the status are refreshed every STATS_MS while the tab is visible.
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
  const TOKEN_KEY = 'vkstream.token';

  const $ = (id) => document.getElementById(id);
  const views = new Map();          // "app/name" -> stream view
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

  function sources(s) {
    const out = [];
    const hls = s.hls || {};
    if (hls.master) out.push({ label: 'master (auto)', url: hls.master });
    const pl = hls.playlists || {};
    for (const suffix of Object.keys(pl).sort()) {
      out.push({ label: suffix, url: pl[suffix] });
    }
    return out;
  }

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
    if (why) v.playerState.textContent = why;
  }

  function play(v, url) {
    stopPlayer(v);
    v.playing = url;
    v.playerState.textContent = 'loading…';
    const video = v.video;
    if (window.Hls && window.Hls.isSupported()) {
      const hls = new window.Hls({ liveDurationInfinity: true });
      v.hls = hls;
      hls.on(window.Hls.Events.MANIFEST_PARSED, () => {
        video.play().catch(() => {});
      });
      hls.on(window.Hls.Events.ERROR, (ev, data) => {
        if (!data.fatal) return;
        // Mostly a playlist that has no segment yet: try again shortly.
        stopPlayer(v, 'waiting for HLS (' + data.details + ')');
        v.retry = setTimeout(() => {
          v.retry = null;
          if (v.data.state === 'live' && v.sourceSel.value) {
            play(v, v.sourceSel.value);
          }
        }, RETRY_MS);
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url;
      video.play().catch(() => {});
    } else {
      v.playerState.textContent = 'this browser cannot play HLS';
    }
  }

  function updatePlayer(v) {
    const s = v.data, sel = v.sourceSel;
    const list = sources(s);
    const sig = list.map((x) => x.url).join('\n');
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
    if (s.state !== 'live') {
      if (v.playing || v.retry) stopPlayer(v, 'stream ended');
      else v.playerState.textContent = 'stream ended';
    } else if (!sel.value || !(s.renditions || []).some(
      (r) => r.state === 'running')) {
      // Playlists appear with a rendition's first segment: not before
      // it runs.
      v.playerState.textContent = 'waiting for a running rendition…';
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
      video: q('video'), sourceSel: q('.source'),
      playerState: q('.player-state'), facts: q('.facts'),
      rendBody: q('.renditions tbody'), kwForm: q('.keywords'),
      kwInput: q('.keywords input'), kwMsg: q('.kw-msg'),
      ruleState: q('.rule-state'), matchList: q('ol.matches'),
      matchesEmpty: q('.matches-empty'), matchCount: q('.match-count'),
      kwDirty: false,
    };
    v.video.addEventListener('playing', () => {
      const o = v.sourceSel.selectedOptions[0];
      v.playerState.textContent = 'playing ' + (o ? o.textContent : '');
    });
    v.video.addEventListener('waiting', () => {
      v.playerState.textContent = 'buffering…';
    });
    v.sourceSel.addEventListener('change', () => {
      if (v.data.state === 'live') play(v, v.sourceSel.value);
    });
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
    q('.meta').textContent = 'from ' + (s.publisher || '?') + ' · worker '
      + s.worker_pid + ' · started ' + fmtTime(s.start_time);

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
      loadMatches(v);
    } else if (v.data.id !== s.id) {
      // Republished: a new stream with its own matches.
      v.lastMatch = 0;
      v.matchList.replaceChildren();
      v.matchesEmpty.hidden = false;
      v.data = s;
      loadMatches(v);
    }
    v.data = s;
    v.fetchedAt = Date.now();
    renderStream(v);
    renderEmpty();
  }

  function remove(key) {
    const v = views.get(key);
    if (!v) return;
    stopPlayer(v);
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

  async function loadAll() {
    try {
      const [list, status] = await Promise.all([api('GET', 'streams'),
                                                api('GET', 'status')]);
      setApiError(null);
      renderStatus(status);
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
      return true;
    } catch (e) {
      setApiError(e);
      return false;
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
      if (s) refreshStream(s.app, s.name);
      if (type === 'publish' || type === 'unpublish') scheduleStatus();
      break;
    case 'match':
      if (s) {
        const v = views.get(s.app + '/' + s.name);
        if (v && v.data.id === s.id) loadMatches(v);
        else refreshStream(s.app, s.name);
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
