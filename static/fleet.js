// The fleet view: polls /fleet.json every two seconds and redraws the
// instances, alarms, events and the chart. Text goes in with textContent only.
// With a control session (a one-time link's code, exchanged for an HttpOnly
// cookie) it also flips latency, kills instances and starts a load.
(function () {
  'use strict';
  const $ = (selector) => document.querySelector(selector);
  // The session's CSRF token while this browser holds the controls.
  let csrf = null;
  const SVG = 'http://www.w3.org/2000/svg';
  const WIDTH = 800;
  const HEIGHT = 260;
  const PAD = 30;

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
  }

  function instances(list) {
    const body = $('.fleet-instances tbody');
    body.replaceChildren();
    for (const i of list) {
      const row = body.insertRow();
      cell(row, i.id);
      cell(row, i.health, `health-${i.health.toLowerCase()}`);
      cell(row, i.load_balancer ?? '—');
      cell(row, i.address);
      cell(row, i.latency_ms === null ? 'not answering' : `${i.latency_ms} ms`);
      cell(row, i.build ?? '—', 'build');
      const action = row.insertCell();
      if (csrf && i.health !== 'crashed') {
        const kill = document.createElement('button');
        kill.type = 'button';
        kill.className = 'button';
        kill.dataset.kill = i.id;
        kill.textContent = `Kill ${i.id}`;
        action.append(kill);
      } else {
        action.textContent = '—';
      }
    }
    if (list.length === 0) cell(body.insertRow(), 'No instances run from this state directory.');
    // The latency form's choice of instance follows the fleet.
    const select = $('#latency-instance');
    const chosen = select.value;
    select.replaceChildren(new Option('all instances', 'all'), ...list.map((i) => new Option(i.id, i.id)));
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : 'all';
  }

  function feedback(text) {
    $('[data-field=feedback]').textContent = text;
  }

  function showControls() {
    $('[data-field=controls]').hidden = !csrf;
    $('[data-field=readonly]').hidden = Boolean(csrf);
  }

  // A link's #code=… is sent once for a session cookie, then taken out of
  // the address bar (and history) so it is not bookmarked or shared.
  async function unlock() {
    const code = location.hash.match(/^#code=([A-Za-z0-9_-]+)$/);
    if (code) {
      history.replaceState(null, '', location.pathname + location.search);
      const response = await fetch('/fleet/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ code: code[1] }),
      });
      const data = await response.json().catch(() => ({}));
      feedback(response.ok ? 'Controls unlocked.' : `The link did not unlock the controls: ${data.error ?? response.statusText}`);
    }
    const response = await fetch('/fleet/control', { cache: 'no-store' });
    const data = await response.json().catch(() => ({}));
    csrf = data.control ? data.csrf : null;
    showControls();
  }

  async function act(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf ?? '' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    feedback(response.ok ? `Done: ${data.done}.` : `Refused: ${data.error ?? response.statusText}`);
    if (response.status === 401) {
      csrf = null;
      showControls();
    }
    refresh();
  }

  function wireControls() {
    $('#latency-form').addEventListener('submit', (event) => {
      event.preventDefault();
      act('POST', '/fleet/latency', {
        instance: $('#latency-instance').value,
        latency_ms: Number($('#latency-ms').value),
      });
    });
    $('#load-form').addEventListener('submit', (event) => {
      event.preventDefault();
      act('POST', '/fleet/load', { rate: Number($('#load-rate').value) });
    });
    $('#load-stop').addEventListener('click', () => act('DELETE', '/fleet/load'));
    $('.fleet-instances tbody').addEventListener('click', (event) => {
      const id = event.target.dataset?.kill;
      if (id) act('POST', '/fleet/kill', { instance: id });
    });
  }

  function load(running) {
    $('[data-field=load]').textContent = running
      ? `Load running: ${running.rate} requests a second since ${new Date(running.since).toLocaleTimeString()}.`
      : 'No load running.';
  }

  function listOf(selector, items, empty) {
    const list = $(selector);
    list.replaceChildren();
    for (const text of items.length ? items : [empty]) {
      const li = document.createElement('li');
      li.textContent = text;
      list.append(li);
    }
  }

  function line(points, className) {
    const path = document.createElementNS(SVG, 'polyline');
    path.setAttribute('points', points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' '));
    path.setAttribute('class', className);
    return path;
  }

  function label(x, y, text, anchor) {
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('x', x);
    t.setAttribute('y', y);
    t.setAttribute('text-anchor', anchor);
    t.textContent = text;
    return t;
  }

  // The last five minutes: average and p99 response time (ms, left axis),
  // requests a second (scaled to their own maximum, labelled top right),
  // instances in service (dashed, right axis), scaling events as markers.
  function chart(history, events) {
    const svg = $('.fleet-chart svg');
    svg.replaceChildren();
    const recent = history.slice(-300);
    if (recent.length < 2) return;
    const maxMs = Math.max(100, ...recent.map((s) => Math.max(s.average_ms ?? 0, s.p99_ms ?? 0)));
    const maxCount = Math.max(2, ...recent.map((s) => s.in_service));
    const maxRate = Math.max(10, ...recent.map((s) => s.requests));
    const x = (n) => PAD + (n * (WIDTH - 2 * PAD)) / (recent.length - 1);
    const y = (value, max) => HEIGHT - PAD - (value * (HEIGHT - 2 * PAD)) / max;
    const series = (field, max) =>
      recent.flatMap((s, n) => (s[field] === null || s[field] === undefined ? [] : [[x(n), y(s[field], max)]]));
    svg.append(line([[PAD, HEIGHT - PAD], [WIDTH - PAD, HEIGHT - PAD]], 'axis'));
    const first = recent[0].at;
    const last = recent[recent.length - 1];
    for (const event of events) {
      if (event.at < first || event.at > last.at) continue;
      const at = PAD + ((event.at - first) * (WIDTH - 2 * PAD)) / Math.max(1, last.at - first);
      const marker = line([[at, PAD], [at, HEIGHT - PAD]], 'marker');
      const title = document.createElementNS(SVG, 'title');
      title.textContent = event.text;
      marker.append(title);
      svg.append(marker);
    }
    const rate = series('requests', maxRate);
    if (rate.length > 1) svg.append(line(rate, 'requests'));
    const average = series('average_ms', maxMs);
    if (average.length > 1) svg.append(line(average, 'latency'));
    const p99 = series('p99_ms', maxMs);
    if (p99.length > 1) svg.append(line(p99, 'p99'));
    svg.append(line(recent.map((s, n) => [x(n), y(s.in_service, maxCount)]), 'count'));
    svg.append(label(PAD, PAD - 8, `${Math.round(maxMs)} ms`, 'start'));
    svg.append(label(WIDTH - PAD, PAD - 8, `${maxCount} instances, ${maxRate} req/s`, 'end'));
    const span = recent.length - 1; // one sample a second
    svg.append(label(PAD, HEIGHT - 8, span < 120 ? `${span} s ago` : `${Math.round(span / 60)} min ago`, 'start'));
    svg.append(label(WIDTH - PAD, HEIGHT - 8, 'now', 'end'));
    const now = last.average_ms === null
      ? 'no requests in the last second'
      : `${Math.round(last.average_ms)} ms average, ${Math.round(last.p99_ms)} ms p99`;
    $('#chart-summary').textContent = `Now: ${now}, ${last.in_service} instance(s) in service, ${last.requests} request(s) in the last second.`;
  }

  async function refresh() {
    try {
      const response = await fetch('/fleet.json', { cache: 'no-store' });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error ?? response.statusText);
      const status = data.status;
      const tour = $('[data-field=tour]');
      tour.hidden = !data.tour;
      tour.textContent = data.tour ? `Tour: ${data.tour}` : '';
      $('[data-field=level]').textContent = status.level ?? 'none';
      const url = $('[data-field=url]');
      url.textContent = status.url ?? 'nothing runs';
      url.href = status.url ?? '#';
      instances(status.instances);
      const alarms = status.autoscaling
        ? status.autoscaling.alarms.map(([name, state]) => `${name}: ${state}`)
        : [];
      if (status.autoscaling) {
        const a = status.autoscaling;
        alarms.unshift(`capacity: desired ${a.desired} (min ${a.min}, max ${a.max})`);
      }
      listOf('.fleet-alarms', alarms, 'No autoscaling below level 3.');
      // The autoscaler's events and this view's own actions, in time order.
      const actions = (data.control?.actions ?? []).map((a) => ({ at: a.at, text: `${a.text} (fleet view)` }));
      const all = (data.events ?? []).concat(actions).sort((a, b) => a.at - b.at);
      listOf('.fleet-events', all.slice(-20).reverse().map((e) => `${new Date(e.at).toLocaleTimeString()} ${e.text}`), 'None yet.');
      chart(data.history, all);
      load(data.control?.load);
      $('.fleet-updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      $('.fleet-updated').textContent = `Cannot read the fleet: ${error.message}`;
    }
  }

  wireControls();
  unlock().catch((error) => feedback(`Cannot reach the fleet view: ${error.message}`)).finally(refresh);
  setInterval(refresh, 2000);
})();
