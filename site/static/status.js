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
