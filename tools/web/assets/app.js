// The ledgerq dashboard: a page per hash route (#/, #/ds/NAME, #/job/DS/ID),
// filled from the server's JSON API (/api/...) and refreshed every 2 seconds
// by polling. Everything shown is built as DOM text nodes, never as HTML, so
// job ids, keys and bodies (user data) cannot inject markup.
'use strict';

const POLL_MS = 2000;
const STATUSES = ['submitted', 'accepted', 'retrying', 'complete', 'failed', 'cancelled', 'forbidden'];
const TERMINAL = ['complete', 'failed', 'cancelled', 'forbidden'];

// --- DOM helpers ------------------------------------------------------------------

// h('a', {href: '#/'}, 'text', child...): an element; strings become text nodes.
function h(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function fill(id, ...children) {
  const e = document.getElementById(id);
  if (e) e.replaceChildren(...children.flat(Infinity).filter(c => c !== undefined && c !== null && c !== false));
}

// Redraws region `id` only when `data` differs from what it was drawn from,
// so that polling does not reset a selection or a hovered button.
const drawn = new Map();
function fillFrom(id, data, build) {
  const key = JSON.stringify(data);
  const e = document.getElementById(id);
  if (!e || (drawn.get(id) === key && e.dataset.drawn === key)) return;
  drawn.set(id, key);
  fill(id, build());
  e.dataset.drawn = key;
}

// --- formatting -------------------------------------------------------------------

// Broker times are µs since the Unix epoch, UTC.
function time(us) {
  if (!us) return '—';
  return new Date(us / 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

// To the millisecond, for events that come close together.
function preciseTime(us) {
  return new Date(us / 1000).toISOString().replace('T', ' ');
}

function duration(seconds) {
  if (seconds < 1) return '0s';
  const parts = [];
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (seconds >= n) { parts.push(Math.floor(seconds / n) + unit); seconds %= n; }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + units[i];
}

function badge(status) { return h('span', {class: 'badge status-' + status}, status); }

function jobHref(ds, job) { return '#/job/' + encodeURIComponent(ds) + '/' + encodeURIComponent(job); }

function listHref(ds, filters) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters || {})) if (v) q.set(k, v);
  const s = q.toString();
  return '#/ds/' + encodeURIComponent(ds) + (s ? '?' + s : '');
}

// --- talking to the server --------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)};
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'The dashboard server does not answer (is ledgerq-web running?)');
  }
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON: described below */ }
  if (!res.ok) {
    const what = {401: 'Not signed in', 403: 'Forbidden', 404: 'Not found', 429: 'Try again later',
                  502: 'Broker error', 503: 'Broker unreachable'}[res.status] || ('HTTP ' + res.status);
    throw new ApiError(res.status, what + ': ' + ((data && data.error) || res.statusText));
  }
  return data;
}

function showError(e) {
  const box = document.getElementById('error');
  if (!e) { box.hidden = true; box.textContent = ''; return; }
  box.hidden = false;
  box.textContent = e.message || String(e);
}

// An action button's handler: runs `f`, shows its error or refreshes.
function act(f) {
  return async ev => {
    const button = ev.currentTarget;
    button.disabled = true;
    try {
      const message = await f();
      showError(null);
      if (message) fill('notice', h('div', {class: 'notice', id: 'notice-text'}, message));
      await refresh();
    } catch (e) {
      showError(e);
    } finally {
      button.disabled = false;
    }
  };
}

// --- state ------------------------------------------------------------------------

let overview = null;        // the last /api/overview
let current = null;         // the view shown: {refresh: async fn}
let pages = [''];           // job list: the continuations of the pages seen, for Previous
let nextContinuation = '';  // job list: the continuation of the page after this one

function readOnly() { return overview && overview.web.read_only; }

function datasourceRow(ds) {
  return overview && overview.datasources.find(d => d.datasource === ds);
}

// --- the overview: broker figures and datasources ------------------------------------

function figure(label, value, title) { return h('div', {class: 'figure', title}, h('span', {class: 'muted'}, label), h('b', {}, value)); }

function renderOverview() {
  return [
    h('h1', {}, 'Broker'),
    h('div', {class: 'figures', id: 'figures'}),
    h('h2', {}, 'Datasources'),
    h('div', {id: 'notice'}),
    h('div', {id: 'datasources'}),
  ];
}

function pauseButton(d) {
  if (readOnly()) return null;
  return h('button', {'data-action': d.paused ? 'resume' : 'pause', 'data-ds': d.datasource,
                      onclick: act(async () => {
                        await api('/api/pause', {datasource: d.datasource, paused: !d.paused});
                        return (d.paused ? 'Resumed ' : 'Paused ') + d.datasource + '.';
                      })}, d.paused ? 'Resume' : 'Pause');
}

function retryButton(ds, label) {
  if (readOnly()) return null;
  return h('button', {'data-action': 'retry', 'data-ds': ds, onclick: act(async () => {
    const r = await api('/api/retry', {datasource: ds});
    return 'Retried ' + r.retried + ' failed job' + (r.retried === 1 ? '' : 's') + ' of ' + ds + '.';
  })}, label || 'Retry failed');
}

function updateOverview() {
  const b = overview.broker;
  const now = b.now / 1e6;
  fill('figures',
    figure('release', b.release || '?'),
    figure('up for', duration(now - b.started / 1e6), 'since ' + time(b.started)),
    figure('requests', b.requests, 'requests received since the broker started'),
    figure('requests / transaction', b.transactions ? (b.requests / b.transactions).toFixed(2) : '—', 'group commit'),
    figure('peers', b.peers),
    figure('log', b.log_entries + ' entries, ' + bytes(b.log_bytes)),
    figure('map used', bytes(b.map_used) + ' of ' + bytes(b.map_limit || b.map_size)));
  // The table as shown: the ages move only while a job waits.
  const ages = overview.datasources.map(d => pendingAge(d, b));
  fillFrom('datasources', [overview.datasources, readOnly(), ages], () => datasourceTable(b));
}

function pendingAge(d, b) {
  return d.oldest_pending ? duration(Math.max(0, (b.now - d.oldest_pending) / 1e6)) : '—';
}

function datasourceTable(b) {
  const rows = overview.datasources.map(d => {
    return h('tr', {'data-ds': d.datasource},
      h('td', {}, h('a', {href: listHref(d.datasource)}, d.datasource)),
      STATUSES.map(s => h('td', {class: 'num'},
        d.counts[s] ? h('a', {href: listHref(d.datasource, {status: s}), 'data-count': s}, d.counts[s]) : '0')),
      h('td', {class: 'num'}, d.submitted_1m || 0),
      h('td', {class: 'num'}, d.completed_1m || 0),
      h('td', {class: 'num'}, pendingAge(d, b)),
      h('td', {class: d.paused ? 'paused state' : 'state'}, d.paused ? 'paused' : 'running'),
      h('td', {}, h('span', {class: 'actions'}, pauseButton(d), d.counts.failed ? retryButton(d.datasource) : null)));
  });
  return overview.datasources.length === 0 ? h('p', {class: 'muted'}, 'No datasources yet.') :
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'datasource'), STATUSES.map(s => h('th', {class: 'num'}, s)),
        h('th', {class: 'num', title: 'submitted in the last minute'}, 'in /min'),
        h('th', {class: 'num', title: 'completed in the last minute'}, 'done /min'),
        h('th', {class: 'num', title: 'how long the longest-waiting eligible job has waited'}, 'oldest pending'),
        h('th', {}, 'state'), h('th', {}, ''))),
      h('tbody', {}, rows));
}

// --- the job list of a datasource ------------------------------------------------------

function renderList(ds, filters) {
  const field = (name, label) => h('label', {}, label, h('input', {name, value: filters[name] || '', size: 14}));
  const form = h('form', {class: 'filters', id: 'filters', onsubmit: ev => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    location.hash = listHref(ds, {status: f.get('status'), key: f.get('key'), client: f.get('client'), type: f.get('type')});
  }},
    h('label', {}, 'status', h('select', {name: 'status'}, h('option', {value: ''}, 'any'),
      STATUSES.map(s => h('option', {value: s, selected: filters.status === s}, s)))),
    field('key', 'key'), field('client', 'client'), field('type', 'type'),
    h('button', {type: 'submit'}, 'Filter'));
  const find = h('form', {class: 'filters', id: 'find', onsubmit: ev => {
    ev.preventDefault();
    const id = new FormData(ev.target).get('job');
    if (id) location.hash = jobHref(ds, id);
  }}, h('label', {}, 'job id', h('input', {name: 'job', size: 24})), h('button', {type: 'submit'}, 'Open'));
  return [
    h('h1', {}, h('a', {href: '#/'}, 'Datasources'), ' / ', ds, ' ', h('span', {id: 'ds-state'})),
    h('div', {class: 'actions', id: 'ds-actions'}),
    form, find,
    h('div', {id: 'notice'}),
    h('div', {id: 'jobs'}),
    h('div', {class: 'pager'},
      h('button', {id: 'prev', onclick: () => { pages.pop(); refresh(); }}, 'Previous'),
      h('span', {id: 'page', class: 'muted'}),
      h('button', {id: 'next', onclick: () => { pages.push(nextContinuation); refresh(); }}, 'Next')),
    h('div', {class: 'actions', id: 'bulk-actions'}),
  ];
}

// A bulk delete over the filters shown, offered only when a status is
// chosen: the broker requires one, so that an empty filter cannot delete
// every job (one job is deleted by id on its own page, PROTOCOL.md §6.12).
function deleteButton(ds, filters) {
  if (!filters.status || readOnly()) return null;
  return h('button', {class: 'danger', id: 'delete-matching', onclick: act(async () => {
    const what = Object.entries(filters).filter(([, v]) => v).map(([k, v]) => k + '=' + v).join(', ');
    if (!confirm('Delete every job of ' + ds + ' with ' + what + '? Deleted jobs leave no trace in the view.')) return null;
    const r = await api('/api/delete', Object.assign({datasource: ds}, filters));
    return 'Deleted ' + r.deleted + ' job' + (r.deleted === 1 ? '' : 's') + '.';
  })}, 'Delete all matching');
}

async function updateList(ds, filters) {
  const q = new URLSearchParams({datasource: ds, limit: '50'});
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  const start = pages[pages.length - 1];
  if (start) q.set('continuation', start);
  const page = await api('/api/jobs?' + q.toString());
  nextContinuation = page.continuation || '';
  const d = datasourceRow(ds);
  fill('ds-state', d ? h('span', {class: d.paused ? 'paused' : 'muted'}, d.paused ? 'paused' : 'running') : null);
  fillFrom('ds-actions', [d, readOnly()], () => d ? [pauseButton(d), d.counts.failed ? retryButton(ds) : null] : []);
  fillFrom('bulk-actions', [filters, readOnly()], () => deleteButton(ds, filters));
  fillFrom('jobs', page, () => page.jobs.length === 0 ? h('p', {class: 'muted'}, 'No jobs on this page.') : h('table', {},
    h('thead', {}, h('tr', {}, ['job', 'status', 'client', 'type', 'key', 'priority', 'attempts', 'submitted', 'updated']
      .map(c => h('th', {}, c)))),
    h('tbody', {}, page.jobs.map(j => h('tr', {'data-job': j.job},
      h('td', {}, h('a', {href: jobHref(ds, j.job)}, j.job)),
      h('td', {class: 'status'}, badge(j.status)),
      h('td', {}, j.client), h('td', {}, j.type || ''), h('td', {}, j.key || ''),
      h('td', {class: 'num'}, j.priority), h('td', {class: 'num'}, (j.attempts_made || 0) + ' / ' + j.attempts),
      h('td', {}, time(j.submitted)), h('td', {}, time(j.updated)))))));
  document.getElementById('prev').disabled = pages.length <= 1;
  document.getElementById('next').disabled = !nextContinuation;
  fill('page', 'page ' + pages.length);
}

// --- one job ------------------------------------------------------------------------

function renderJob(ds, job) {
  return [
    h('h1', {}, h('a', {href: '#/'}, 'Datasources'), ' / ', h('a', {href: listHref(ds)}, ds), ' / ', job),
    h('div', {id: 'notice'}),
    h('div', {class: 'actions', id: 'job-actions'}),
    h('div', {id: 'record'}),
    h('h2', {}, 'Request body'), h('div', {id: 'body'}),
    h('h2', {}, 'Response'), h('div', {id: 'response'}),
    h('h2', {}, 'History'), h('div', {id: 'history'}),
  ];
}

// An event's fields but those shown in their own columns, as "key=value".
function eventDetails(e) {
  return Object.entries(e).filter(([k]) => !['at', 'type', 'datasource', 'job'].includes(k)).map(([k, v]) => {
    let text = typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (TIME_FIELDS.includes(k) && typeof v === 'number' && v) text = time(v);
    if (text.length > 200) text = text.slice(0, 200) + '…';
    return k + '=' + text;
  }).join('  ');
}

// The history changes only when the job does: asked again when `updated`
// moves. A long history comes in parts ("Load more" follows the
// continuation).
let historyOf = null;
async function updateHistory(ds, jobId, updated) {
  const key = JSON.stringify([ds, jobId, updated]);
  const box = document.getElementById('history');
  if (!box || box.dataset.key === key) return;
  try {
    const first = await api('/api/history?' + new URLSearchParams({datasource: ds, job: jobId}).toString());
    historyOf = {events: first.events, continuation: first.continuation};
    drawHistory(ds, jobId);
    box.dataset.key = key;
  } catch (e) {
    // The job is still shown; only its history is missing (asked again at the next poll).
    fill('history', h('p', {class: 'muted'}, 'History unavailable: ' + e.message));
  }
}

function drawHistory(ds, jobId) {
  const more = historyOf.continuation ? h('button', {id: 'history-more', onclick: act(async () => {
    // A poll may fetch the history afresh (the job changed, or another job
    // is shown) while this part is on its way: its events then belong to
    // a history no longer shown, and are dropped.
    const shown = historyOf;
    const next = await api('/api/history?' + new URLSearchParams(
      {datasource: ds, job: jobId, continuation: shown.continuation}).toString());
    if (historyOf !== shown) return null;
    shown.events = shown.events.concat(next.events);
    shown.continuation = next.continuation;
    drawHistory(ds, jobId);
    return null;
  })}, 'Load more') : null;
  fill('history', historyOf.events.length === 0 ? h('p', {class: 'muted'}, 'No events kept (log retention trims the oldest).') :
    h('table', {id: 'history-table'},
      h('thead', {}, h('tr', {}, h('th', {}, 'time'), h('th', {}, 'event'), h('th', {}, 'details'))),
      h('tbody', {}, historyOf.events.map(e => h('tr', {'data-event': e.type},
        h('td', {}, preciseTime(e.at)), h('td', {}, h('span', {class: 'badge'}, e.type)), h('td', {class: 'details'}, eventDetails(e)))))),
    more);
}

const RECORD_FIELDS = ['job', 'client', 'status', 'error', 'custom_status', 'priority', 'attempts', 'attempts_made',
  'type', 'key', 'lifecycle', 'worker', 'lease_until', 'token', 'cancel_requested', 'run_after', 'submitted', 'updated'];
const TIME_FIELDS = ['submitted', 'updated', 'lease_until', 'run_after'];

async function updateJob(ds, jobId) {
  const r = await api('/api/job?' + new URLSearchParams({datasource: ds, job: jobId}).toString());
  const j = r.job;
  const fields = RECORD_FIELDS.filter(k => j[k] !== undefined && j[k] !== '')
    .concat(Object.keys(j).filter(k => !RECORD_FIELDS.includes(k) && k !== 'request' && k !== 'response'));
  fill('record', h('dl', {class: 'record'}, fields.map(k => [
    h('dt', {}, k),
    h('dd', {id: 'field-' + k}, k === 'status' ? h('span', {id: 'job-status'}, badge(j.status)) :
      TIME_FIELDS.includes(k) ? (j[k] ? time(j[k]) + ' (' + j[k] + ')' : '—') :
      typeof j[k] === 'object' ? JSON.stringify(j[k]) : String(j[k]))])));
  fill('body', 'request' in j ? h('pre', {id: 'request-json'}, JSON.stringify(j.request, null, 2)) :
    h('p', {class: 'muted'}, 'Not shown (the body and response together pass 1 MiB).'));
  fill('response', 'response' in j ? h('pre', {}, JSON.stringify(j.response, null, 2)) : h('p', {class: 'muted'}, 'None.'));
  await updateHistory(ds, jobId, j.updated);
  if (readOnly()) { fill('job-actions'); return; }
  fill('job-actions',
    TERMINAL.includes(j.status) ? null : h('button', {class: 'danger', id: 'cancel-job', onclick: act(async () => {
      if (!confirm('Cancel job ' + jobId + ' of client ' + j.client + '?')) return null;
      const c = await api('/api/cancel', {datasource: ds, job: jobId});
      return 'Cancel sent: the job is ' + c.status.status + (c.status.cancel_requested ? ' (its worker decides)' : '') + '.';
    })}, 'Cancel job'),
    j.status === 'failed' ? h('button', {'data-action': 'retry-job', onclick: act(async () => {
      const r = await api('/api/retry', {datasource: ds, job: jobId});
      return r.retried ? 'Retried job ' + jobId + '.' : 'Job ' + jobId + ' is no longer failed: not retried.';
    })}, 'Retry this job') : null,
    h('button', {class: 'danger', 'data-action': 'delete-job', onclick: act(async () => {
      if (!confirm('Delete job ' + jobId + ' (' + j.status + ')? A deleted job leaves no trace in the view; ' +
                   'its id may be submitted again.')) return null;
      const r = await api('/api/delete', {datasource: ds, job: jobId});
      // The job page has nothing left to show: go to the datasource's list,
      // without a hashchange (show() draws it now, so the notice lands there).
      history.pushState(null, '', listHref(ds, {}));
      show();
      return r.deleted ? 'Deleted job ' + jobId + '.' : 'Job ' + jobId + ' was already gone.';
    })}, 'Delete this job'));
}

// --- routing and polling -------------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  let parts;
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch (e) {
    // A hand-edited or cut link (a lone '%'): the overview rather than a blank page.
    return {render: renderOverview, update: async () => updateOverview()};
  }
  if (parts[0] === 'ds' && parts.length === 2) {
    const q = new URLSearchParams(query || '');
    const filters = {status: q.get('status') || '', key: q.get('key') || '', client: q.get('client') || '', type: q.get('type') || ''};
    return {render: () => renderList(parts[1], filters), update: () => updateList(parts[1], filters)};
  }
  if (parts[0] === 'job' && parts.length === 3)
    return {render: () => renderJob(parts[1], parts[2]), update: () => updateJob(parts[1], parts[2])};
  return {render: renderOverview, update: async () => updateOverview()};
}

let busy = false;
async function refresh() {
  if (busy || !current) return;
  busy = true;
  try {
    overview = await api('/api/overview');
    const b = overview.broker;
    fill('broker-line', 'broker ' + (b.release || '') + ' at ' + overview.web.router +
      (overview.web.read_only ? ' (read-only)' : '') + ', updated ' + time(b.now));
    await current.update();
    showError(null);
  } catch (e) {
    showError(e);
    if (e.status === 503 || e.status === 0) fill('broker-line', 'broker unreachable');
  } finally {
    busy = false;
  }
}

function show() {
  current = route();
  pages = [''];
  fill('view', current.render());
  refresh();
}

window.addEventListener('hashchange', show);
document.addEventListener('DOMContentLoaded', () => {
  show();
  setInterval(refresh, POLL_MS);
});
