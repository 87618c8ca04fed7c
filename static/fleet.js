// The fleet view: polls /fleet.json every two seconds and redraws the
// instances, alarms, events and the chart. Text goes in with textContent only.
(function () {
  'use strict';
  const $ = (selector) => document.querySelector(selector);
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
    }
    if (list.length === 0) cell(body.insertRow(), 'No instances run from this state directory.');
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

  function chart(history) {
    const svg = $('.fleet-chart svg');
    svg.replaceChildren();
    const recent = history.slice(-300);
    if (recent.length < 2) return;
    const maxMs = Math.max(100, ...recent.map((s) => s.average_ms ?? 0));
    const maxCount = Math.max(2, ...recent.map((s) => s.in_service));
    const x = (n) => PAD + (n * (WIDTH - 2 * PAD)) / (recent.length - 1);
    const y = (value, max) => HEIGHT - PAD - (value * (HEIGHT - 2 * PAD)) / max;
    const latency = recent.flatMap((s, n) => (s.average_ms === null ? [] : [[x(n), y(s.average_ms, maxMs)]]));
    const count = recent.map((s, n) => [x(n), y(s.in_service, maxCount)]);
    svg.append(line([[PAD, HEIGHT - PAD], [WIDTH - PAD, HEIGHT - PAD]], 'axis'));
    if (latency.length > 1) svg.append(line(latency, 'latency'));
    svg.append(line(count, 'count'));
    svg.append(label(PAD, PAD - 8, `${Math.round(maxMs)} ms`, 'start'));
    svg.append(label(WIDTH - PAD, PAD - 8, `${maxCount} instances`, 'end'));
    const span = recent.length - 1; // one sample a second
    svg.append(label(PAD, HEIGHT - 8, span < 120 ? `${span} s ago` : `${Math.round(span / 60)} min ago`, 'start'));
    svg.append(label(WIDTH - PAD, HEIGHT - 8, 'now', 'end'));
    const last = recent[recent.length - 1];
    const now = last.average_ms === null ? 'no requests in the last second' : `${Math.round(last.average_ms)} ms average`;
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
      const events = data.events.slice().reverse().map((e) => `${new Date(e.at).toLocaleTimeString()} ${e.text}`);
      listOf('.fleet-events', events, 'None yet.');
      chart(data.history);
      $('.fleet-updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      $('.fleet-updated').textContent = `Cannot read the fleet: ${error.message}`;
    }
  }

  refresh();
  setInterval(refresh, 2000);
})();
