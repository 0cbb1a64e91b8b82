// The emulator's dashboard. It reads the views under /_emulator/dashboard/ once a second (the
// overview, and the section on show) and changes the emulator only through its documented
// JSON routes, after asking to confirm. Plain JavaScript: no library, no build step, nothing
// loaded from elsewhere. Every text from the emulator goes into the page as text, never as
// HTML, since user ids and answers come from clients.
'use strict';

(() => {
  const BASE = '/_emulator';
  const VIEWS = BASE + '/dashboard';
  const POLL_MS = 1000;
  const ROWS = 100;
  // A busy emulator's latest requests are new every second: fewer of them, less to draw.
  const REQUEST_ROWS = 50;
  const TABS = ['overview', 'users', 'journal', 'requests', 'polyv', 'controls'];
  const KINDS = [
    'latency', 'http500', 'http500_html', 'http502', 'http503',
    'reset_before_apply', 'reset_after_apply', 'truncate_after_apply', 'http200_status500',
  ];

  const $ = (id) => document.getElementById(id);

  /** An element with attributes (`on…` are listeners, `text` its text) and children. */
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? '' : String(value));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : String(kid));
    }
    return el;
  }

  /** Unix milliseconds as `2025-06-01 12:00:00Z`. */
  function time(ms) {
    if (ms === null || ms === undefined) return '—';
    const date = new Date(Number(ms));
    if (Number.isNaN(date.getTime())) return String(ms);
    return date.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
  }

  /** Milliseconds as `1h 2m 3s`, `250 ms`, `-5s`. */
  function duration(ms) {
    const sign = ms < 0 ? '-' : '';
    let rest = Math.abs(Number(ms) || 0);
    if (rest < 1000) return sign + rest + ' ms';
    rest = Math.round(rest / 1000);
    const parts = [];
    for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
      if (rest >= size) {
        parts.push(Math.floor(rest / size) + unit);
        rest %= size;
      }
    }
    return sign + parts.join(' ');
  }

  function tag(text, kind) {
    return h('span', { class: 'tag' + (kind ? ' ' + kind : '') }, text);
  }

  function mono(text) {
    return h('span', { class: 'mono' }, text === null || text === undefined ? '—' : String(text));
  }

  /** A table: columns are titles (`#` suffix: a number column), rows arrays of cells. */
  function table(columns, rows, caption) {
    const numeric = columns.map((c) => c.endsWith('#'));
    return h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c, i) =>
        h('th', { scope: 'col', class: numeric[i] ? 'num' : null }, c.replace(/#$/, ''))))),
      h('tbody', {}, rows.length
        ? rows.map((row) => h('tr', {}, row.map((cell, i) =>
          h('td', { class: numeric[i] ? 'num' : null }, cell))))
        : h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'none'))));
  }

  function definitions(pairs) {
    return h('dl', {}, pairs.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]));
  }

  function setStatus(text, bad) {
    const status = $('status');
    status.textContent = text;
    status.classList.toggle('bad', Boolean(bad));
  }

  // --- Reading the views -------------------------------------------------------------------

  /** The JSON text each view last rendered, so that an unchanged view is left alone. */
  const rendered = {};

  async function fetchText(path) {
    const response = await fetch(path, { cache: 'no-store', headers: { accept: 'application/json' } });
    const text = await response.text();
    if (!response.ok) throw new Error(response.status + ' ' + text);
    return text;
  }

  async function view(name, path, render) {
    const text = await fetchText(path);
    if (rendered[name] === text) return;
    rendered[name] = text;
    render(JSON.parse(text));
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== '' && value !== null && value !== undefined) search.set(key, value);
    }
    return search.toString();
  }

  let overview = null;

  function renderOverview(data) {
    overview = data;
    const clock = data.clock;
    $('clock').textContent = time(clock.now_ms) + (clock.frozen ? ' (frozen)' : '') +
      (clock.offset_ms ? ' · offset ' + duration(clock.offset_ms) : '');
    const faults = data.faults;
    const injected = Object.entries(faults.stats.injected || {})
      .filter(([, n]) => n > 0).map(([kind, n]) => kind + ' ' + n).join(', ');
    const kinds = Object.entries(faults.faults.weights || {})
      .filter(([, w]) => w > 0).map(([kind, w]) => kind + '=' + w).join(', ');
    const conns = data.connections;
    const store = data.store;
    const limit = data.rate_limit.limit;
    $('overview-cards').replaceChildren(
      h('section', { class: 'card', 'aria-label': 'Clock' }, h('h2', {}, 'Clock'), definitions([
        ['now', time(clock.now_ms)],
        ['offset', clock.offset_ms ? duration(clock.offset_ms) : 'none (system time)'],
        ['running', clock.frozen ? tag('frozen', 'warn') : tag('running', 'ok')],
      ])),
      h('section', { class: 'card', 'aria-label': 'Faults' }, h('h2', {}, 'Faults'), definitions([
        ['in force', faults.active ? tag('rate ' + faults.faults.rate, 'bad') : tag('none', 'ok')],
        ['kinds', faults.active ? kinds : '—'],
        ['only', [...(faults.faults.vendors || []), ...(faults.faults.paths || [])].join(', ') || 'every vendor path'],
        ['seed', String(faults.seed)],
        ['injected', (injected || 'none') + ' of ' + faults.stats.eligible + ' eligible'],
      ])),
      h('section', { class: 'card', 'aria-label': 'Connections' }, h('h2', {}, 'Connections'), definitions([
        ['open', conns.open + ' (peak ' + conns.peak + ', at most ' + conns.max + ')'],
        ['accepted', String(conns.accepted)],
        ['refused', String(conns.refused)],
        ['timed out', 'header ' + conns.header_timeouts + ', body ' + conns.body_timeouts +
          ', idle ' + conns.keep_alive_timeouts + ', write ' + conns.write_timeouts],
      ])),
      h('section', { class: 'card', 'aria-label': 'State store' }, h('h2', {}, 'State store'), store
        ? definitions([
          ['--state', store.failed ? tag('failed', 'bad') : tag('on', 'ok')],
          ['file', mono(store.path)],
          ['last sync', time(store.last_sync_ms)],
          ['since snapshot', store.records_since_snapshot + ' records, log ' + store.log_bytes + ' bytes'],
          ['last error', store.last_error || '—'],
        ])
        : definitions([['--state', tag('off')], ['books', 'in memory; gone when it stops']])),
      h('section', { class: 'card', 'aria-label': 'Traffic' }, h('h2', {}, 'Traffic'), definitions([
        ['requests', String(data.requests)],
        ['coin changes', String(data.apps.linkv.reduce((n, a) => n + a.applied_total, 0))],
        ['Polyv limit', limit ? limit.requests + ' per ' + duration(limit.per_ms) : 'off'],
        ['banned IPs', data.rate_limit.banned ? tag(String(data.rate_limit.banned), 'bad') : '0'],
      ])),
    );
    $('overview-apps').replaceChildren(
      h('div', {}, table(['LinkV app key (app_id)', 'alias', 'kind', 'users#', 'coin changes#'],
        data.apps.linkv.map((a) => [mono(a.app_key), a.alias, a.demo ? tag('demo') : tag('configured'),
          String(a.users), String(a.applied_total)]), 'LinkV')),
      h('div', {}, table(['Polyv appId', 'channels', 'kind'],
        data.apps.polyv.map((a) => [mono(a.app_id), a.channels.join(', '),
          a.demo ? tag('demo') : tag('configured')]), 'Polyv')),
    );
    prefillFaults(faults.faults);
  }

  /** The status a vendor's JSON answer gives in its body (LinkV's `status`, Polyv's `code`). */
  function bodyStatus(answer) {
    try {
      const body = JSON.parse(answer);
      const status = Number(typeof body.status === 'string' ? body.status : body.code);
      return Number.isInteger(status) ? status : null;
    } catch (_) {
      return null;
    }
  }

  /** A request's answer in a few words: its status, its message, its fault. */
  function answerCells(r) {
    const inBody = r.answer ? bodyStatus(r.answer) : null;
    // LinkV answers its errors in HTTP 200 by default: the body's status tells.
    const shown = inBody !== null && inBody !== r.status ? r.status + ' · status ' + inBody : String(r.status);
    const failed = r.status >= 400 || (inBody !== null && inBody >= 400);
    const status = r.status === null || r.status === undefined
      ? tag('reset', 'bad')
      : tag(shown, failed ? 'bad' : 'ok');
    return [status, r.message || '', r.fault ? tag(r.fault, 'warn') : '',
      r.signature ? tag('refused signature', 'bad') : ''];
  }

  function renderLatest(data) {
    $('overview-latest').replaceChildren(table(['#', 'when', 'request', 'status', 'message', 'fault', ''],
      data.requests.map((r) => [String(r.seq), time(r.at_ms), mono(r.method + ' ' + r.path), ...answerCells(r)]),
      'The latest requests (all of them under 4 Requests)'));
  }

  function showJournalOf(user) {
    $('journal-user').value = user;
    $('journal-request').value = '';
    rendered.journal = null;
    select('journal');
  }

  function renderUsers(data) {
    $('users-list').replaceChildren(...data.apps.map((app) => h('div', {},
      h('h2', {}, app.alias + ' ', h('span', { class: 'muted mono' }, app.app_key)),
      table(['user id', 'open id (uid)', 'aid', 'name', 'balance#', 'coins by expiry'],
        app.users.map((u) => [
          h('button', { type: 'button', class: 'link mono', title: 'Show the journal of this user', onclick: () => showJournalOf(u.user_id) }, u.user_id),
          mono(u.open_id), u.aid ? mono(u.aid) : '—', u.name || '—', String(u.balance),
          u.coins.length ? h('ul', { class: 'coins' }, u.coins.map((lot) =>
            h('li', { class: lot.expired ? 'expired' : null },
              lot.coins + ' until ' + time(lot.expires_at * 1000) + (lot.expired ? ' (expired)' : ''))))
            : '—',
        ]),
        app.users.length + ' shown of ' + app.matching + ' matching, ' + app.total + ' users'),
    )));
  }

  function renderJournal(data) {
    $('journal-list').replaceChildren(table(
      ['#', 'when', 'app', 'request id', 'user id', 'open id', 'type', 'value#', 'balance after#', 'resent#', 'call', 'order id'],
      data.changes.map((c) => [
        String(c.seq), time(c.at_ms), c.alias, mono(c.request_id), mono(c.user_id || '—'), mono(c.uid),
        c.change === 'add' ? tag('add', 'ok') : tag('remove', 'warn'), String(c.value),
        String(c.balance_after), c.repeats ? tag(c.repeats + '×', 'warn') : '0', c.endpoint,
        c.order_id ? mono(c.order_id) : '—',
      ]),
      data.changes.length + ' shown, newest first, of ' + data.applied_total + ' applied'));
  }

  /** Which requests the reader opened or closed, by sequence number. */
  const opened = new Map();

  function signatureBlock(sig) {
    const diff = sig.first_difference;
    return h('div', { class: 'sig' },
      h('h3', {}, 'Refused signature: what the emulator expected'),
      definitions([
        ['canonical string (secret masked)', h('pre', { class: 'canonical' }, sig.canonical)],
        ['expected sign', mono(sig.expected)],
        ['received sign', mono(sig.received || '(none)')],
        ['first differing parameter', diff
          ? h('span', { class: 'diff' }, h('code', {}, diff.param), ': ' + diff.finding)
          : h('span', {}, 'none')],
        ['what to check', sig.hint],
      ]),
      table(['parameter', 'value as received', 'signed'],
        sig.params.map((p) => [mono(p.name), mono(p.value), p.signed ? 'yes' : 'no'])));
  }

  function requestNode(r) {
    const refused = Boolean(r.signature);
    const [status] = answerCells(r);
    const details = h('details', { class: 'request' + (refused ? ' refused' : ''), 'data-seq': r.seq },
      h('summary', {},
        h('span', { class: 'muted' }, '#' + r.seq),
        h('span', {}, time(r.at_ms)),
        r.vendor ? tag(r.vendor) : null,
        h('span', { class: 'path' }, r.method + ' ' + r.path),
        status,
        r.message ? h('span', {}, r.message) : null,
        r.fault ? tag('fault: ' + r.fault, 'warn') : null,
        refused ? tag('refused signature', 'bad') : null,
        h('span', { class: 'muted' }, 'from ' + r.client)));
    // The body is built when first shown: a busy emulator's latest requests are mostly new
    // every second, and mostly never opened.
    const body = () => {
      if (details.childElementCount > 1) return;
      details.append(h('div', { class: 'body' },
        refused ? signatureBlock(r.signature) : null,
        h('h3', {}, 'Answer'),
        h('pre', {}, r.answer || '(none: the connection was reset)')));
    };
    details.open = opened.has(r.seq) ? opened.get(r.seq) : refused;
    if (details.open) body();
    details.addEventListener('toggle', () => {
      opened.set(r.seq, details.open);
      if (details.open) body();
    });
    return details;
  }

  /** The requests on show, by sequence number: a logged request never changes, so each
   * update only adds the new ones at the top and drops the oldest, however busy the emulator. */
  let requestNodes = new Map();

  function renderRequests(data) {
    const list = $('requests-list');
    if (!data.requests.length) {
      requestNodes = new Map();
      list.replaceChildren(h('p', { class: 'muted' }, 'No requests yet.'));
      return;
    }
    const next = new Map();
    const nodes = data.requests.map((r) => {
      const node = requestNodes.get(r.seq) || requestNode(r);
      next.set(r.seq, node);
      return node;
    });
    requestNodes = next;
    nodes.forEach((node, i) => {
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
    });
    while (list.children.length > nodes.length) list.lastChild.remove();
  }

  const ORIGIN = { channel: 'own', account: 'inherited from the account', default: 'defaults' };

  function renderPolyv(data) {
    $('polyv-accounts').replaceChildren(...data.accounts.map((account) => h('div', {},
      h('h2', {}, 'Account ', h('span', { class: 'mono' }, account.app_id), ' ',
        account.demo ? tag('demo') : tag('configured')),
      h('div', { class: 'scroll' }, table(
        ['scope', 'global setting', 'cash from', 'cash', 'amounts', 'minimum', 'gifts from', 'gifts', 'gift list'],
        [account.account, ...account.channels].map((scope) => {
          const s = scope.settings;
          return [
            scope.channel === null ? 'account' : h('span', { class: 'mono' }, 'channel ' + scope.channel),
            s.globalSettingEnabled === undefined ? '—' : s.globalSettingEnabled,
            scope.channel === null ? (scope.cash_from === 'default' ? 'defaults' : 'own') : ORIGIN[scope.cash_from],
            s.donateCashEnabled,
            (s.cashes || []).join(', '),
            String(s.cashMin),
            scope.channel === null ? (scope.goods_from === 'default' ? 'defaults' : 'own') : ORIGIN[scope.goods_from],
            s.donateGoodEnabled,
            (s.goods || []).map((g) => g.goodName + ' ' + g.goodPrice + (g.goodEnabled === 'N' ? ' (off)' : '')).join(', '),
          ];
        }))),
    )));
    const rate = data.rate_limit;
    const limit = rate.limit;
    $('polyv-rate').replaceChildren(
      h('p', {}, limit
        ? limit.requests + ' requests per ' + duration(limit.per_ms) + ' per client IP; then a ban of ' + duration(limit.block_ms) + '.'
        : 'Off (--no-rate-limit).'),
      table(['client IP', 'ban', 'bans#', 'refused while banned#', 'requests this window#', 'most in a window#', ''],
        rate.clients.map((c) => {
          const windows = c.windows || [];
          const current = windows.length ? windows[windows.length - 1] : null;
          return [
            mono(c.ip),
            c.banned ? tag('banned for ' + duration(c.banned_for_ms), 'bad') : tag('none', 'ok'),
            String(c.bans), String(c.refused_while_banned),
            current ? String(current.requests) : '0', String(c.max_requests_in_a_window),
            c.banned ? h('button', { type: 'button', class: 'secondary', onclick: () => liftBan(c.ip) }, 'Lift ban') : '',
          ];
        })),
    );
  }

  const SECTIONS = {
    users: () => view('users', VIEWS + '/users?' + query({ q: $('users-q').value.trim(), limit: ROWS }), renderUsers),
    journal: () => view('journal', VIEWS + '/journal?' + query({
      user: $('journal-user').value.trim(), request_id: $('journal-request').value.trim(), limit: ROWS,
    }), renderJournal),
    requests: () => view('requests', VIEWS + '/requests?' + query({
      limit: REQUEST_ROWS, refused: $('requests-refused').checked ? '1' : '',
    }), renderRequests),
    polyv: () => view('polyv', VIEWS + '/polyv', renderPolyv),
  };

  let active = 'overview';
  let busy = false;

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      await view('overview', VIEWS + '/overview', renderOverview);
      if (active === 'overview') await view('latest', VIEWS + '/requests?limit=8', renderLatest);
      if (SECTIONS[active]) await SECTIONS[active]();
      setStatus('live · ' + new Date().toLocaleTimeString());
    } catch (error) {
      setStatus('cannot reach the emulator (' + error.message + '); retrying', true);
    } finally {
      busy = false;
    }
  }

  function tick() {
    const live = $('live').checked;
    const wait = live && !document.hidden ? refresh() : Promise.resolve();
    wait.finally(() => setTimeout(tick, POLL_MS));
  }

  // --- Sections and the keyboard -----------------------------------------------------------

  function select(name, focus) {
    if (!TABS.includes(name)) return;
    active = name;
    for (const tab of TABS) {
      const button = $('tab-' + tab);
      const on = tab === name;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      $(tab).hidden = !on;
    }
    if (focus) $('tab-' + name).focus();
    if (location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
    refresh();
  }

  function typing(target) {
    return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement || (target && target.isContentEditable);
  }

  function setUpKeyboard() {
    for (const tab of TABS) $('tab-' + tab).addEventListener('click', () => select(tab));
    document.querySelector('[role=tablist]').addEventListener('keydown', (event) => {
      const at = TABS.indexOf(active);
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: TABS.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      select(TABS[(next + TABS.length) % TABS.length], true);
    });
    document.addEventListener('keydown', (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target) || $('confirm').open) return;
      if (/^[1-6]$/.test(event.key)) {
        select(TABS[Number(event.key) - 1], true);
      } else if (event.key === '/') {
        const search = $(active).querySelector('[data-search]');
        if (search) {
          event.preventDefault();
          search.focus();
        }
      }
    });
    let timer = null;
    const changed = (name) => () => {
      clearTimeout(timer);
      timer = setTimeout(() => { rendered[name] = null; refresh(); }, 250);
    };
    $('users-q').addEventListener('input', changed('users'));
    $('journal-user').addEventListener('input', changed('journal'));
    $('journal-request').addEventListener('input', changed('journal'));
    $('requests-refused').addEventListener('change', changed('requests'));
    $('live').addEventListener('change', () => setStatus($('live').checked ? 'live' : 'paused'));
    document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  }

  // --- Controls ----------------------------------------------------------------------------

  /** Asks to confirm in the page's dialog; resolves to whether the reader confirmed. */
  function confirmAction(text, detail) {
    const dialog = $('confirm');
    const back = document.activeElement;
    $('confirm-text').textContent = text;
    $('confirm-detail').textContent = detail || '';
    $('confirm-detail').hidden = !detail;
    dialog.returnValue = '';
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => {
        if (back && back.focus) back.focus();
        resolve(dialog.returnValue === 'ok');
      }, { once: true });
      dialog.showModal();
      $('confirm-ok').focus();
    });
  }

  function logResult(text, bad) {
    const log = $('control-log');
    log.prepend(h('li', { class: bad ? 'bad' : null }, new Date().toLocaleTimeString() + ' · ' + text));
    while (log.children.length > 5) log.lastChild.remove();
  }

  /** Confirms, then calls a JSON route and notes what it answered. */
  async function control(what, method, path, body) {
    const detail = method + ' ' + path + (body === undefined ? '' : '\n' + JSON.stringify(body, null, 2));
    if (!(await confirmAction(what + '?', detail))) {
      logResult(what + ': cancelled');
      return;
    }
    try {
      const response = await fetch(path, {
        method,
        cache: 'no-store',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      let text = await response.text();
      if (text.length > 300) text = text.slice(0, 300) + '…';
      logResult(what + ': ' + method + ' ' + path + ' → ' + response.status + ' ' + text, !response.ok);
    } catch (error) {
      logResult(what + ': ' + error.message, true);
    }
    for (const name of Object.keys(rendered)) rendered[name] = null;
    refresh();
  }

  let faultsEdited = false;

  /** Shows the faults in force in the form, unless the reader is editing it. */
  function prefillFaults(faults) {
    if (faultsEdited || !faults) return;
    $('fault-rate').value = faults.rate;
    // Weights without a rate mean nothing: a form without faults starts with no kind ticked.
    const active = faults.rate > 0;
    for (const kind of KINDS) $('fault-kind-' + kind).checked = active && (faults.weights[kind] || 0) > 0;
    $('fault-latency-min').value = faults.latency_min_ms;
    $('fault-latency-max').value = faults.latency_max_ms;
    $('fault-vendor-linkv').checked = faults.vendors.includes('linkv');
    $('fault-vendor-polyv').checked = faults.vendors.includes('polyv');
    $('fault-paths').value = faults.paths.join(', ');
  }

  function faultsFromForm() {
    const checked = KINDS.filter((kind) => $('fault-kind-' + kind).checked);
    const weights = {};
    for (const kind of checked.length ? checked : KINDS) weights[kind] = 1;
    return {
      rate: Number($('fault-rate').value) || 0,
      weights,
      latency_min_ms: Number($('fault-latency-min').value) || 0,
      latency_max_ms: Number($('fault-latency-max').value) || 0,
      vendors: ['linkv', 'polyv'].filter((v) => $('fault-vendor-' + v).checked),
      paths: $('fault-paths').value.split(',').map((p) => p.trim()).filter(Boolean),
    };
  }

  function liftBan(ip) {
    const path = BASE + '/rate-limit/bans' + (ip ? '?' + query({ ip }) : '');
    return control(ip ? 'Lift the ban of ' + ip : 'Lift every ban', 'DELETE', path);
  }

  function setUpControls() {
    $('fault-kinds').replaceChildren(
      ...KINDS.map((kind) => h('label', {}, h('input', { type: 'checkbox', id: 'fault-kind-' + kind }), kind)));
    $('faults-form').addEventListener('input', () => { faultsEdited = true; });
    $('faults-set').addEventListener('click', async () => {
      const seed = $('fault-seed').value.trim();
      await control('Set the faults', 'PUT', BASE + '/faults' + (seed ? '?' + query({ seed }) : ''), faultsFromForm());
      faultsEdited = false;
    });
    $('faults-clear').addEventListener('click', async () => {
      await control('Clear the faults', 'DELETE', BASE + '/faults');
      faultsEdited = false;
    });
    $('clock-advance-go').addEventListener('click', () =>
      control('Advance the clock', 'POST', BASE + '/clock/advance', { seconds: Math.max(0, Math.round(Number($('clock-advance').value) || 0)) }));
    $('clock-offset-go').addEventListener('click', () =>
      control('Set the clock\'s offset', 'PUT', BASE + '/clock', { offset_ms: Math.round((Number($('clock-offset').value) || 0) * 1000) }));
    $('clock-freeze').addEventListener('click', () => control('Freeze the clock', 'PUT', BASE + '/clock', { frozen: true }));
    $('clock-resume').addEventListener('click', () => control('Resume the clock', 'PUT', BASE + '/clock', { frozen: false }));
    $('ban-lift').addEventListener('click', () => liftBan($('ban-ip').value.trim()));
    $('state-reset').addEventListener('click', () => control('Reset the books (users, coins, journal, donate settings)', 'POST', BASE + '/reset'));
    $('state-save').addEventListener('click', () => control('Save a snapshot of the state file', 'POST', BASE + '/save'));
    $('confirm-ok').addEventListener('click', () => $('confirm').close('ok'));
    $('confirm-cancel').addEventListener('click', () => $('confirm').close('cancel'));
  }

  setUpControls();
  setUpKeyboard();
  const start = location.hash.replace('#', '');
  select(TABS.includes(start) ? start : 'overview');
  tick();
})();
