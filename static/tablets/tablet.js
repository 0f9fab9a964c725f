/* Judges' tablet: every tap is queued in localStorage with its own client
 * key (UUID) and sent at once, in order, to the idempotent mark endpoint.
 * Offline, the queue waits and is shown as "waiting to send"; a resend
 * carries the same key, so the server never writes a tap twice. A service
 * worker (/tablet/sw.js) keeps the pages, so a reload offline still shows
 * the page, with the queued marks laid over it from localStorage.
 *
 * localStorage, per judge code:
 *   tablet.queue.<judge>  [{ck, key, entry, aspect, skill, value, ev, prev, sent, t}]
 *   tablet.known.<judge>  {"<entry>:<aspect>": {v, ver, st: saved|refused, msg, cur}}
 * "known" is what the server last answered; the page's own data-value /
 * data-version win when they are newer (another judge's M mark). */
(function () {
  'use strict';
  // Set on <body> by the template (no inline script: the portal's CSP forbids it).
  var T = document.body.dataset;
  var I = JSON.parse((document.getElementById('tablet-i18n') || {}).textContent || '{}');
  var QK = 'tablet.queue.' + T.judge, SK = 'tablet.known.' + T.judge;
  var root = document.getElementById('marking') || document.getElementById('skill-page');
  var syncEl = document.getElementById('sync');
  var flushing = false, retryTimer = null, backoff = 2000, signedOut = false;

  function load(k, d) { try { return JSON.parse(localStorage.getItem(k)) || d; } catch (e) { return d; } }
  function store(k, v) { localStorage.setItem(k, JSON.stringify(v)); }
  function queue() { return load(QK, []); }
  function known() { return load(SK, {}); }
  function fmt(s, o) { return s.replace(/%\((\w+)\)s/g, function (_, k) { return o[k]; }); }
  function same(a, b) { return a !== '' && b !== '' && a != null && b != null && parseFloat(a) === parseFloat(b); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // Plain-HTTP pages have no randomUUID, but getRandomValues works everywhere.
    var b = crypto.getRandomValues(new Uint8Array(16)), h = '';
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (var i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1);
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var i = document.querySelector('input[name=csrfmiddlewaretoken]');
    return i ? i.value : '';
  }

  /* ------------------------------------------------ the sync indicator */
  function showSync() {
    if (!syncEl) return;
    var n = queue().length, state, text;
    if (signedOut) { state = 'bad'; text = I.signed_out_short; }
    else if (!navigator.onLine) { state = 'offline'; text = I.offline + (n ? ' · ' + fmt(I.n_pending, { n: n }) : ''); }
    else if (n) { state = 'pending'; text = fmt(I.n_pending, { n: n }); }
    else { state = 'idle'; text = I.all_saved; }
    syncEl.dataset.state = state;
    syncEl.textContent = text;
    if (root && root.id === 'skill-page') showEntryBadges();
  }

  /* ------------------------------------------------ the marking page */
  function aspectEls() { return root && root.id === 'marking' ? root.querySelectorAll('.aspect') : []; }
  function keyOf(el) { return root.dataset.entry + ':' + el.dataset.aspect; }

  // What one aspect shows: queued tap > server's last answer > page data.
  function stateOf(el, q, k) {
    var key = keyOf(el), pageVer = +el.dataset.version, mine = null;
    for (var i = 0; i < q.length; i++) if (q[i].key === key) mine = q[i];
    var kn = k[key];
    if (mine) return { st: 'pending', v: mine.value, ver: mine.ev };
    if (kn && kn.ver >= pageVer) {
      if (kn.st === 'refused') return { st: 'refused', v: kn.cur, ver: kn.ver, msg: kn.msg };
      return { st: 'saved', v: kn.v, ver: kn.ver };
    }
    var v = el.dataset.value;
    return { st: v === '' ? 'empty' : 'saved', v: v, ver: pageVer };
  }

  function render() {
    var q = queue(), k = known(), done = 0, els = aspectEls();
    for (var i = 0; i < els.length; i++) {
      var el = els[i], s = stateOf(el, q, k);
      var badge = el.querySelector('.state'), msg = el.querySelector('.msg');
      el.dataset.state = s.st;
      badge.dataset.state = s.st;
      badge.textContent = I[s.st] || s.st;
      msg.textContent = s.st === 'refused' ? s.msg : '';
      var btns = el.querySelectorAll('.choices button');
      for (var j = 0; j < btns.length; j++) btns[j].setAttribute('aria-pressed', same(btns[j].dataset.v, s.v) ? 'true' : 'false');
      var input = el.querySelector('input');
      if (input && document.activeElement !== input) input.value = s.v == null ? '' : s.v;
      if (input && s.st !== 'pending') input.dataset.committed = '';
      el.dataset.has = s.v !== '' && s.v != null ? '1' : '';
      if (el.dataset.has) done++;
    }
    if (els.length) showProgress(els, done);
    showSync();
  }

  // The sticky progress line, the criterion index and the section headings:
  // marked / total of this entry, per criterion and per sub-criterion.
  function showProgress(els, done) {
    var counts = {}, firstEmpty = null;
    for (var i = 0; i < els.length; i++) {
      var el = els[i], has = !!el.dataset.has;
      if (!has && !firstEmpty) firstEmpty = el;
      [el.closest('.crit'), el.closest('.sub')].forEach(function (box) {
        if (!box || !box.id) return;
        var c = counts[box.id] || (counts[box.id] = [0, 0]);
        c[1]++;
        if (has) c[0]++;
      });
    }
    var ds = document.querySelectorAll('[data-done]');
    for (var j = 0; j < ds.length; j++) ds[j].textContent = done;
    var bar = document.getElementById('pbar');
    if (bar) bar.value = done;
    var ps = document.querySelectorAll('[data-prog-for]');
    for (var k = 0; k < ps.length; k++) {
      var c = counts[ps[k].dataset.progFor] || [0, 0];
      ps[k].textContent = c[0] + '/' + c[1];
      ps[k].classList.toggle('full', c[1] > 0 && c[0] === c[1]);
    }
    var next = document.getElementById('next-empty');
    if (next) next.hidden = !firstEmpty;
  }

  function scrollToNextEmpty() {
    var els = aspectEls();
    for (var i = 0; i < els.length; i++) {
      if (!els[i].dataset.has) {
        els[i].scrollIntoView({ block: 'start' });
        var f = els[i].querySelector('button, input');
        if (f) f.focus({ preventScroll: true });
        return;
      }
    }
  }

  // A re-mark request is done once this judge's mark of it is saved again:
  // drop its highlight at once; the next poll says what is still open.
  function clearRemark(aspectId) {
    var el = root && root.id === 'marking' && root.querySelector('.aspect[data-aspect="' + aspectId + '"]');
    if (!el || !el.classList.contains('remark')) return false;
    el.classList.remove('remark');
    var m = el.querySelector('.rmsg');
    if (m) m.parentNode.removeChild(m);
    return true;
  }

  function tap(el, value) {
    if (root.dataset.locked) return;
    var key = keyOf(el), q = queue(), s = stateOf(el, q, known());
    if (s.st !== 'pending' && s.st !== 'refused' && same(s.v, value)) return; // already so
    q.push({
      ck: uuid(), key: key, entry: +root.dataset.entry, aspect: +el.dataset.aspect,
      skill: +root.dataset.skill, value: String(value), ev: s.ver, sent: false, t: Date.now()
    });
    store(QK, q);
    render();
    flush();
  }

  function bindMarking() {
    root.addEventListener('click', function (ev) {
      var b = ev.target.closest('.choices button');
      if (b && !b.disabled) tap(b.closest('.aspect'), b.dataset.v);
    });
    function commit(input) {
      var el = input.closest('.aspect'), raw = input.value.trim().replace('，', '.');
      // Enter commits and then blurs, which fires "change" too: one tap only.
      if (raw === '' || raw === input.dataset.committed) return;
      var max = parseFloat(el.dataset.max), n = parseFloat(raw);
      if (!(n >= 0 && n <= max) || !/^\d+(\.\d{1,2})?$/.test(raw)) {
        el.querySelector('.msg').textContent = fmt(I.invalid, { max: el.dataset.max });
        el.dataset.state = 'refused';
        return;
      }
      input.dataset.committed = raw;
      tap(el, raw);
    }
    root.addEventListener('change', function (ev) { if (ev.target.matches('.mfield input')) commit(ev.target); });
    root.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && ev.target.matches('.mfield input')) { ev.preventDefault(); commit(ev.target); ev.target.blur(); }
    });
    var next = document.getElementById('next-empty');
    if (next) next.addEventListener('click', scrollToNextEmpty);
    if (location.hash) {
      var t = document.querySelector(location.hash);
      if (t) t.scrollIntoView();
    }
  }

  /* ------------------------------------------------ sending the queue */
  function finish(item, body) {
    var q = queue(), k = known();
    q = q.filter(function (x) { return x.ck !== item.ck; });
    if (body.status === 'saved') {
      k[item.key] = { v: body.value, ver: body.version, st: 'saved' };
      if (clearRemark(item.aspect)) setTimeout(poll, 300);
      // Later taps on the same mark build on the version just written.
      q.forEach(function (x) { if (x.key === item.key && !x.sent) x.ev = body.version; });
    } else {
      var prev = k[item.key] || {};
      var cur = body.code === 'stale' ? body.current_value : (prev.st === 'saved' ? prev.v : '');
      var ver = body.code === 'stale' ? body.current_version : (item.ev || 0);
      var msg = body.code === 'stale' ? fmt(I.stale, { value: cur === '' ? I.none : cur }) : body.message;
      k[item.key] = { v: item.value, cur: cur, ver: ver, st: 'refused', msg: msg };
      // The judge must look again: later taps on this mark are dropped with it.
      q = q.filter(function (x) { return x.key !== item.key; });
      if (body.code === 'locked' && root) root.dataset.locked = '1';
    }
    store(QK, q); store(SK, k);
  }

  function flush() {
    if (flushing || signedOut) return;
    var q = queue();
    if (!q.length) { showSync(); return; }
    if (!navigator.onLine) { showSync(); return; }
    flushing = true;
    var item = q[0];
    item.sent = true;
    store(QK, q);
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctrl) ctrl.abort(); }, 10000);
    fetch(T.mark, {
      method: 'POST', credentials: 'same-origin', signal: ctrl && ctrl.signal,
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf() },
      body: JSON.stringify({ client_key: item.ck, entry: item.entry, aspect: item.aspect, value: item.value, expected_version: item.ev })
    }).then(function (r) {
      return r.json().then(function (body) { return { r: r, body: body }; }, function () { return { r: r, body: null }; });
    }).then(function (res) {
      clearTimeout(timer);
      flushing = false;
      if (res.r.status === 401) { signedOutNow(); return; }
      if (!res.body || !res.body.status || res.r.status >= 500) throw new Error('retry');
      finish(item, res.body);
      backoff = 2000;
      render();
      flush();
    }).catch(function () {
      clearTimeout(timer);
      flushing = false;
      showSync();
      clearTimeout(retryTimer);
      retryTimer = setTimeout(flush, backoff);
      backoff = Math.min(backoff * 2, 30000);
    });
  }

  /* ------------------------------------------------ polling the server */
  // The server versions what it would answer (ETag): sent back, an
  // unchanged answer costs a 304 with no body, and the page stays as it is.
  var pollTag = '';
  function poll() {
    if (!root || !root.dataset.poll || !navigator.onLine || signedOut) return;
    var headers = { Accept: 'application/json' };
    if (pollTag) headers['If-None-Match'] = pollTag;
    fetch(root.dataset.poll, { credentials: 'same-origin', headers: headers })
      .then(function (r) {
        if (r.status === 401) signedOutNow();
        if (!r.ok) return null;  // 304: nothing changed; 5xx: try at the next poll
        return r.json().then(function (body) {
          applyPoll(body);
          pollTag = r.headers.get('ETag') || '';
        });
      })
      .catch(function () {});
  }

  function applyPoll(body) {
    var banner = document.getElementById('banner');
    var parts = [];
    if (body.locked) {
      root.dataset.locked = '1';
      parts.push('<p>' + esc(I.locked) + '</p>');
      var dis = root.querySelectorAll('button, input');
      for (var i = 0; i < dis.length; i++) if (!dis[i].closest('.tbar')) dis[i].disabled = true;
    }
    if (body.remarks && body.remarks.length) {
      var url = root.dataset.entryUrl || '';
      parts.push('<p><b>' + esc(I.remark) + ':</b> ' + body.remarks.map(function (r) {
        var text = esc(r.no + ' · ' + r.aspect_code + (r.reason ? ' (' + r.reason + ')' : ''));
        return url ? '<a href="' + esc(url.replace('/NO/', '/' + encodeURIComponent(r.no) + '/')) + '#a' + r.aspect + '">' + text + '</a>' : text;
      }).join(', ') + '</p>');
    }
    if (banner) { banner.innerHTML = parts.join(''); banner.hidden = !parts.length; }
    showRemarks(body.remarks || []);
    if (body.marks) {
      var els = aspectEls();
      for (var j = 0; j < els.length; j++) {
        var m = body.marks[els[j].dataset.aspect];
        if (m && m[1] > +els[j].dataset.version) { els[j].dataset.value = m[0]; els[j].dataset.version = m[1]; }
      }
      render();
    }
  }
  // Revoked or expired: say so where the judge looks, with the way back in.
  // The queue stays; it is sent after the judge signs in again.
  function signedOutNow() {
    signedOut = true;
    render();
    var banner = document.getElementById('banner');
    if (banner) {
      banner.innerHTML = '<p><b>' + esc(I.signed_out) + '</b> <a href="' + esc(T.scope) + 'login/?next=' +
        encodeURIComponent(location.pathname) + '">' + esc(I.sign_in) + '</a></p>';
      banner.hidden = false;
    }
  }
  // What the poll says is still open: the marking page's aspects and the
  // competitors list follow it, both ways.
  function showRemarks(remarks) {
    if (!root) return;
    var open = {}, perEntry = {};
    remarks.forEach(function (r) {
      open[r.entry + ':' + r.aspect] = r;
      perEntry[r.entry] = (perEntry[r.entry] || 0) + 1;
    });
    if (root.id === 'marking') {
      var els = aspectEls();
      for (var i = 0; i < els.length; i++) {
        var r = open[root.dataset.entry + ':' + els[i].dataset.aspect];
        if (!r) { clearRemark(els[i].dataset.aspect); continue; }
        if (els[i].classList.contains('remark')) continue;
        els[i].classList.add('remark');
        var p = document.createElement('p');
        p.className = 'rmsg';
        p.textContent = I.remark + (r.reason ? ': ' + r.reason : '');
        var head = els[i].querySelector('.areq') || els[i].querySelector('.ahead');
        head.parentNode.insertBefore(p, head.nextSibling);
      }
    } else {
      var links = root.querySelectorAll('a.entry');
      for (var j = 0; j < links.length; j++) {
        var n = perEntry[links[j].dataset.entry] || 0, flag = links[j].querySelector('.flag');
        links[j].classList.toggle('remark', !!n);
        if (!n && flag) flag.parentNode.removeChild(flag);
        if (n && !flag) {
          flag = document.createElement('span');
          flag.className = 'flag';
          flag.textContent = I.remark_short;
          links[j].querySelector('.prog').insertAdjacentElement('afterend', flag);
        }
      }
    }
  }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }

  /* ------------------------------------------------ the competitors list */
  function showEntryBadges() {
    var counts = {};
    queue().forEach(function (x) { counts[x.entry] = (counts[x.entry] || 0) + 1; });
    var links = root.querySelectorAll('a.entry');
    for (var i = 0; i < links.length; i++) {
      var p = links[i].querySelector('.pend'), n = counts[links[i].dataset.entry] || 0;
      p.hidden = !n;
      p.textContent = n ? fmt(I.n_pending, { n: n }) : '';
    }
  }

  /* ------------------------------------------------ service worker */
  function registerSW() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.register(T.sw, { scope: T.scope }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      // Keep this page and the pages a judge moves to next for offline use.
      var urls = [location.pathname];
      var links = document.querySelectorAll('a.entry, a#next, .tbrand a');
      for (var i = 0; i < links.length; i++) urls.push(new URL(links[i].href).pathname);
      reg.active.postMessage({ prefetch: urls });
    }).catch(function () {});
  }

  var logout = document.getElementById('logout');
  if (logout) logout.addEventListener('submit', function (ev) {
    var n = queue().length;
    if (n && !confirm(fmt(I.unsent_logout, { n: n }))) { ev.preventDefault(); return; }
    // Pages of this judge must not be shown to the next one offline.
    if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ clear: true });
  });

  // Anchors (the criterion index, re-mark links) land below the sticky bar.
  function barHeight() {
    var bar = document.querySelector('.tbar');
    if (bar) document.documentElement.style.setProperty('--bar', bar.offsetHeight + 'px');
  }
  barHeight();
  window.addEventListener('resize', barHeight);

  window.addEventListener('online', function () { backoff = 2000; flush(); poll(); });
  window.addEventListener('offline', showSync);
  window.addEventListener('storage', function () { render(); });
  if (root && root.id === 'marking') bindMarking();
  render();
  flush();
  poll();
  setInterval(poll, 15000);
  registerSW();
  window.tabletQueue = function () { return queue(); }; // for tests and support
})();
