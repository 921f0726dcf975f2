// Local Bubble status page: polls the API for jobs, builds and KPIs and redraws.
// Every value is written with textContent, never as HTML.

const body = document.body;
const apiUrl = (body.dataset.apiUrl || '').replace(/\/+$/, '');
const pollMs = Number(body.dataset.pollMs) || 2000;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function percent(value) {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)} %`;
}

function seconds(value) {
  if (value === null || value === undefined) return '–';
  return value < 90 ? `${value.toFixed(1)} s` : `${(value / 60).toFixed(1)} min`;
}

function clock(stamp) {
  return stamp ? stamp.replace('T', ' ').slice(0, 19) : '–';
}

async function getJson(path) {
  const response = await fetch(apiUrl + path, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}

function attemptLine(attempt) {
  const what = attempt.error ? `${attempt.state}: ${attempt.error}` : attempt.state;
  return `attempt ${attempt.attempt} ${what}`;
}

function outcomeCell(job) {
  const cell = element('td');
  if (job.state === 'succeeded' && job.result && job.result.build_id) {
    const how = job.result.created === false ? 'already published' : job.result.state;
    cell.append(element('span', `build ${job.result.build_id} ${how}`));
  } else if (job.error) {
    cell.append(element('span', job.error, 'error'));
  }
  if (job.retry_at) cell.append(element('div', `retry at ${clock(job.retry_at)}`));
  if (job.history.length > 1) {
    const list = element('ol', null, 'attempts');
    list.dataset.testid = 'attempts';
    for (const attempt of job.history) {
      const item = element('li', attemptLine(attempt));
      item.dataset.attempt = String(attempt.attempt);
      item.dataset.state = attempt.state;
      list.append(item);
    }
    cell.append(list);
  }
  return cell;
}

function jobRow(job) {
  const row = element('tr');
  row.dataset.jobId = job.job_id;
  row.dataset.state = job.state;
  row.dataset.testid = 'job-row';
  row.append(element('td', job.job_id));
  row.append(element('td', job.job_type));
  row.append(element('td', job.state, `state state-${job.state}`));
  const progressCell = element('td');
  const bar = element('progress');
  bar.max = 1;
  bar.value = job.progress;
  bar.setAttribute('aria-label', `${job.job_id} progress`);
  progressCell.append(bar, ` ${Math.round(job.progress * 100)} %`);
  if (job.state === 'running' && job.step) progressCell.append(element('div', job.step));
  row.append(progressCell);
  row.append(element('td', `${job.attempts} of ${job.max_attempts}`));
  row.append(element('td', job.trigger || '–'));
  row.append(element('td', clock(job.started_at)));
  row.append(element('td', seconds(job.duration_s)));
  row.append(outcomeCell(job));
  return row;
}

function showJobs(page) {
  const tbody = document.querySelector('#jobs tbody');
  const rows = page.jobs.map(jobRow);
  if (!rows.length) {
    const empty = element('td', 'No jobs yet.');
    empty.colSpan = 9;
    rows.push(element('tr'));
    rows[0].append(empty);
  }
  tbody.replaceChildren(...rows);
}

function showBuild(id, build) {
  const box = document.getElementById(id);
  const text = box.querySelector('.build-body');
  box.dataset.buildId = build ? build.build_id : '';
  if (!build) {
    text.textContent = 'none';
    return;
  }
  const counts = build.counts || {};
  const systems = counts.systems === undefined ? '' : `, ${counts.systems} systems`;
  text.textContent = `${build.build_id} (${build.state}${systems}), made ${clock(build.created_at)}`;
}

function kpiRow(name, kpi) {
  const row = element('tr');
  row.dataset.jobType = name;
  row.append(element('td', name));
  row.append(element('td', kpi.jobs));
  row.append(element('td', kpi.attempts));
  row.append(element('td', percent(kpi.startup_success_rate)));
  row.append(element('td', percent(kpi.error_rate)));
  row.append(element('td', seconds(kpi.duration_s.p50)));
  row.append(element('td', seconds(kpi.duration_s.p95)));
  return row;
}

function showKpis(report) {
  document.getElementById('kpi-days').textContent = String(report.window_days);
  const rows = Object.entries(report.by_type).map(([name, kpi]) => kpiRow(name, kpi));
  rows.push(kpiRow('all', report.all));
  document.querySelector('#kpis tbody').replaceChildren(...rows);
}

function releaseRows(report) {
  const rows = [];
  for (const [release, byType] of Object.entries(report.by_release || {})) {
    for (const [name, kpi] of Object.entries(byType)) {
      const row = kpiRow(name, kpi);
      row.dataset.release = release;
      row.prepend(element('td', release));
      rows.push(row);
    }
  }
  return rows;
}

const SVG = 'http://www.w3.org/2000/svg';

function svgNode(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

// A line chart of one or more series over the ticks; values are drawn, never parsed.
function lineChart(title, points, series) {
  const width = 560;
  const height = 160;
  const pad = { left: 56, right: 12, top: 22, bottom: 26 };
  const svg = svgNode('svg', {
    viewBox: `0 0 ${width} ${height}`, role: 'img', class: 'chart',
  });
  svg.append(svgNode('title', {}));
  svg.lastChild.textContent = title;
  const ticks = points.map((p) => p.tick);
  const values = series.flatMap((s) => points.map((p) => p[s.key]).filter(Number.isFinite));
  const x0 = Math.min(...ticks);
  const x1 = Math.max(...ticks);
  const yMax = Math.max(1e-9, ...values);
  const x = (t) => pad.left + ((t - x0) / Math.max(1, x1 - x0)) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / yMax) * (height - pad.top - pad.bottom);
  svg.append(svgNode('line', {
    x1: pad.left, y1: height - pad.bottom, x2: width - pad.right, y2: height - pad.bottom,
    class: 'axis',
  }));
  svg.append(svgNode('line', {
    x1: pad.left, y1: pad.top, x2: pad.left, y2: height - pad.bottom, class: 'axis',
  }));
  const label = (text, attributes) => {
    const node = svgNode('text', attributes);
    node.textContent = text;
    svg.append(node);
  };
  label(title, { x: pad.left, y: 14, class: 'chart-title' });
  label(yMax.toPrecision(3), { x: pad.left - 6, y: pad.top + 4, 'text-anchor': 'end' });
  label('0', { x: pad.left - 6, y: height - pad.bottom + 4, 'text-anchor': 'end' });
  label(`tick ${x0}`, { x: pad.left, y: height - 8 });
  label(`tick ${x1}`, { x: width - pad.right, y: height - 8, 'text-anchor': 'end' });
  for (const s of series) {
    const drawn = points.filter((p) => Number.isFinite(p[s.key]));
    const path = drawn.map((p, i) => `${i ? 'L' : 'M'}${x(p.tick).toFixed(1)},${y(p[s.key]).toFixed(1)}`);
    svg.append(svgNode('path', { d: path.join(''), class: `series ${s.className}` }));
  }
  for (const p of points.filter((p) => !p.invariants_ok)) {
    svg.append(svgNode('circle', { cx: x(p.tick), cy: pad.top, r: 4, class: 'failure' }));
  }
  return svg;
}

async function showSimHealth() {
  const box = document.getElementById('sim-health');
  const runs = (await getJson('/sim/runs?limit=5')).items;
  if (!runs.length) {
    box.replaceChildren(element('p', 'No simulation runs yet.'));
    return;
  }
  const run = runs[0];
  const health = await getJson(`/sim/runs/${encodeURIComponent(run.run_id)}/health?points=200`);
  const totals = health.totals || {};
  const failures = totals.invariant_failures || 0;
  const summary = element(
    'p',
    `Run ${run.run_id} (${health.state}, tick ${health.last_tick} of ${health.ticks}): ` +
      `${totals.ticks_checked || 0} ticks checked, ${failures} invariant failures, ` +
      `wall time mean ${seconds((totals.wall_ms_mean || 0) / 1000)}, ` +
      `max ${seconds((totals.wall_ms_max || 0) / 1000)} per tick.`,
  );
  summary.dataset.testid = 'sim-summary';
  box.dataset.runId = run.run_id;
  box.dataset.failures = String(failures);
  box.replaceChildren(
    summary,
    lineChart('Wall time per tick (ms)', health.points, [{ key: 'wall_ms', className: 'wall' }]),
    lineChart('Settled and settleable systems', health.points, [
      { key: 'settleable', className: 'settleable' },
      { key: 'settled', className: 'settled' },
    ]),
  );
}

async function refresh() {
  const note = document.getElementById('status-note');
  try {
    const [page, builds, kpis] = await Promise.all([
      getJson('/jobs?limit=50'),
      getJson('/ops/builds'),
      getJson('/ops/kpis'),
    ]);
    showJobs(page);
    showBuild('build-active', builds.active);
    showBuild('build-previous', builds.previous);
    showKpis(kpis);
    document.querySelector('#release-kpis tbody').replaceChildren(...releaseRows(kpis));
    await showSimHealth();
    note.textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC`;
    body.dataset.status = 'ready';
  } catch (error) {
    note.textContent = `Could not reach the API at ${apiUrl}: ${error.message}`;
    body.dataset.status = 'error';
  }
}

async function loop() {
  await refresh();
  window.setTimeout(loop, pollMs);
}

loop();
