/**
 * The system view: one star's data with where each value came from, its planets
 * (known and inferred, with the model that inferred them), and a top-down
 * drawing of their orbits around the star with the habitable zone as a ring.
 *
 * The API's system record may carry `provenance: {field: {source, rule}}` on the
 * system and on each planet; a planet may carry `derived: {field: rule}` for a
 * value filled by a rule. Both are shown where present and simply left out
 * where absent. Orbits come from each planet's Keplerian elements and follow
 * the API's `/orbits` route (chalicelib/routes_sim.py `planet_position`, the
 * orbit kernel's method): semi-major axis and period always; eccentricity,
 * inclination, argument of periapsis, longitude of the node and either the time
 * of periapsis `t_peri_jd` or a mean anomaly at `anomaly_epoch_jd` when the
 * record has them. What a record lacks takes the API's assumed value (e, angles
 * and mean anomaly 0 at J2000), is listed per planet, and the caption says so.
 * The drawing starts at the current date and runs forward from there.
 */

// Kopparapu et al. 2014, 1 Earth mass: the same edges as chalicelib/habitable.py.
const S_EFF_INNER = 1.107;
const S_EFF_OUTER = 0.356;
const TWO_PI = 2 * Math.PI;
const VIEW_SIZE = 320;
// The innermost drawn orbit takes this long to go round once on screen.
const FASTEST_ORBIT_S = 6;
const MS_PER_DAY = 86400000;
const UNIX_EPOCH_JD = 2440587.5;
const J2000_JD = 2451545.0;
// The values the API takes for elements a record lacks (routes_sim.ASSUMED),
// and how the view names them.
const ASSUMED = {
  inc_rad: 0,
  arg_peri_rad: 0,
  long_node_rad: 0,
  mean_anomaly_rad: 0,
  anomaly_epoch_jd: J2000_JD,
};
const ASSUMED_LABELS = {
  anomaly_epoch_jd: 'anomaly epoch J2000',
  arg_peri_rad: 'argument of periapsis 0',
  eccentricity: 'eccentricity 0',
  inc_rad: 'inclination 0',
  long_node_rad: 'longitude of the node 0',
  mean_anomaly_rad: 'mean anomaly 0',
};

const STAR_FIELDS = [
  ['dist_pc', 'Distance', (v) => `${sig(v)} pc (${sig(v * 3.26156)} ly)`],
  ['spectral_type', 'Spectral type', String],
  ['teff_k', 'Temperature', (v) => `${Math.round(v).toLocaleString('en')} K`],
  ['luminosity_lsun', 'Luminosity', (v) => `${sig(v)} L\u2609`],
  ['vmag', 'V magnitude', (v) => v.toFixed(2)],
  ['abs_vmag', 'Absolute V magnitude', (v) => v.toFixed(2)],
  ['bv', 'B\u2212V colour', (v) => v.toFixed(2)],
  ['parallax_mas', 'Parallax', (v) => `${sig(v, 4)} mas`],
  ['rv_kms', 'Radial velocity', (v) => `${sig(v)} km/s`],
  ['ra_deg', 'Right ascension', (v) => `${v.toFixed(4)}\u00b0`],
  ['dec_deg', 'Declination', (v) => `${v.toFixed(4)}\u00b0`],
];

const PLANET_FIELDS = [
  ['period_days', 'Period', (v) => (v >= 730 ? `${sig(v / 365.25)} yr` : `${sig(v)} d`)],
  ['semi_major_axis_au', 'Semi-major axis', (v) => `${sig(v)} AU`],
  ['eccentricity', 'Eccentricity', (v) => sig(v)],
  ['mass_earth', 'Mass', (v) => `${sig(v)} M\u2295`],
  ['radius_earth', 'Radius', (v) => `${sig(v)} R\u2295`],
];

function sig(value, digits = 3) {
  return Number(value.toPrecision(digits)).toLocaleString('en', { maximumSignificantDigits: digits });
}

function node(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  for (const child of children) {
    if (child !== null && child !== undefined) element.append(child);
  }
  return element;
}

const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);

/** "source · rule" for a field, from `provenance` or `derived`; null when unknown. */
function provenanceOf(record, field) {
  const entry = record.provenance && typeof record.provenance === 'object'
    ? record.provenance[field] : null;
  if (entry && typeof entry === 'object') {
    const parts = [entry.source, entry.rule].filter((p) => typeof p === 'string' && p);
    if (parts.length) return parts.join(' \u00b7 ');
  }
  const derived = record.derived && typeof record.derived === 'object'
    ? record.derived[field] : null;
  return typeof derived === 'string' ? `derived \u00b7 ${derived}` : null;
}

function factRows(record, fields) {
  const list = node('dl', { class: 'facts' });
  for (const [field, label, format] of fields) {
    const value = record[field];
    if (value === null || value === undefined || value === '') continue;
    if (typeof value === 'number' && !Number.isFinite(value)) continue;
    const origin = provenanceOf(record, field);
    list.append(node('dt', {}, label), node('dd', {},
      format(value),
      origin ? node('span', { class: 'provenance', 'data-testid': 'provenance' }, origin) : null));
  }
  return list;
}

function planetBadge(planet) {
  if (planet.inferred) {
    const model = planet.model_version || planet.model || '';
    return node('span', { class: 'badge badge-inferred' },
      model ? `Inferred \u00b7 ${model}` : 'Inferred');
  }
  return node('span', { class: 'badge badge-known' }, 'Known');
}

/** "Orbit drawn with assumed inclination 0, ..." for an orbit, or null. */
function assumedNote(orbit) {
  if (!orbit || orbit.assumed.length === 0) return null;
  const names = orbit.assumed.map((key) => ASSUMED_LABELS[key] || key);
  return node('p', { class: 'panel-note planet-assumed', 'data-testid': 'planet-assumed' },
    `Orbit drawn with assumed ${names.join(', ')}.`);
}

function planetItem(planet, colour, orbit) {
  const swatch = node('span', { class: 'orbit-swatch', 'aria-hidden': 'true' });
  swatch.style.background = colour;
  return node('li', {
    class: planet.inferred ? 'planet planet-inferred' : 'planet planet-known',
    'data-kind': planet.inferred ? 'inferred' : 'known',
    'data-assumed': orbit ? orbit.assumed.join(' ') : '',
  },
  node('div', { class: 'planet-head' }, swatch,
    node('span', { class: 'planet-name' }, String(planet.name || 'Unnamed planet')),
    planetBadge(planet),
    planet.in_hz === true ? node('span', { class: 'badge badge-hz' }, 'In the habitable zone') : null),
  factRows(planet, PLANET_FIELDS),
  assumedNote(orbit));
}

/** The habitable zone's edges in AU and where they came from, or null. */
export function habitableZone(system) {
  const zone = system.habitable_zone;
  if (zone && isNumber(zone.inner_au) && isNumber(zone.outer_au)) {
    return { inner: zone.inner_au, outer: zone.outer_au, source: 'api' };
  }
  if (isNumber(system.hz_inner_au) && isNumber(system.hz_outer_au)) {
    return { inner: system.hz_inner_au, outer: system.hz_outer_au, source: 'api' };
  }
  const lum = system.luminosity_lsun;
  if (isNumber(lum) && lum > 0) {
    return {
      inner: Math.sqrt(lum / S_EFF_INNER),
      outer: Math.sqrt(lum / S_EFF_OUTER),
      source: 'luminosity',
    };
  }
  return null;
}

/** Solve Kepler's equation E - e sin E = M by Newton's method (e < 1). */
export function eccentricAnomaly(meanAnomaly, e) {
  const m = ((meanAnomaly % TWO_PI) + TWO_PI) % TWO_PI;
  let E = e < 0.8 ? m : Math.PI;
  for (let i = 0; i < 30; i += 1) {
    const step = (E - e * Math.sin(E) - m) / (1 - e * Math.cos(E));
    E -= step;
    if (Math.abs(step) < 1e-12) break;
  }
  return E;
}

/** The Julian date of a time in milliseconds since 1970 (UTC), now by default. */
export function julianDate(ms = Date.now()) {
  return UNIX_EPOCH_JD + ms / MS_PER_DAY;
}

/** The ISO calendar date (UTC) of a Julian date. */
function isoDate(jd) {
  return new Date((jd - UNIX_EPOCH_JD) * MS_PER_DAY).toISOString().slice(0, 10);
}

/**
 * The planet's orbit as the drawing needs it, or null when it has no drawable
 * orbit. Elements the record lacks take the API's assumed values, and
 * `assumed` names them in the API's order (sorted, then eccentricity).
 */
export function orbitOf(planet) {
  const a = planet.semi_major_axis_au;
  const period = planet.period_days;
  if (!isNumber(a) || a <= 0 || !isNumber(period) || period <= 0) return null;
  const given = planet.eccentricity;
  if (given !== null && given !== undefined && !(isNumber(given) && given >= 0 && given < 1)) {
    return null; // not a bound orbit: nothing to draw (the API refuses it too)
  }
  // A time of periapsis fixes the phase; otherwise a mean anomaly at an epoch does.
  const byPeriapsis = isNumber(planet.t_peri_jd);
  const keys = Object.keys(ASSUMED).filter((key) => !byPeriapsis
    || (key !== 'mean_anomaly_rad' && key !== 'anomaly_epoch_jd'));
  const elements = {};
  const assumed = [];
  for (const key of keys) {
    const value = planet[key];
    if (isNumber(value)) elements[key] = value;
    else {
      elements[key] = ASSUMED[key];
      assumed.push(key);
    }
  }
  assumed.sort();
  if (!isNumber(given)) assumed.push('eccentricity');
  return {
    a,
    e: isNumber(given) ? given : 0,
    period,
    inc: elements.inc_rad,
    argPeri: elements.arg_peri_rad,
    node: elements.long_node_rad,
    refEpoch: byPeriapsis ? planet.t_peri_jd : elements.anomaly_epoch_jd,
    meanAnomaly0: byPeriapsis ? 0 : elements.mean_anomaly_rad,
    assumed,
  };
}

/** Position [x, y, z] in AU in the host's frame at eccentric anomaly `E`. */
function pointAt(orbit, E) {
  const { a, e } = orbit;
  const xo = a * (Math.cos(E) - e);
  const yo = a * Math.sqrt((1 - e) * (1 + e)) * Math.sin(E);
  const [cw, sw] = [Math.cos(orbit.argPeri), Math.sin(orbit.argPeri)];
  const [cn, sn] = [Math.cos(orbit.node), Math.sin(orbit.node)];
  const [ci, si] = [Math.cos(orbit.inc), Math.sin(orbit.inc)];
  return [
    (cn * cw - sn * sw * ci) * xo - (cn * sw + sn * cw * ci) * yo,
    (sn * cw + cn * sw * ci) * xo - (sn * sw - cn * cw * ci) * yo,
    sw * si * xo + cw * si * yo,
  ];
}

/** Position [x, y, z] in AU at a Julian date, as chalicelib/orbits.position_at. */
export function orbitPosition(orbit, epochJd) {
  const delta = epochJd - orbit.refEpoch;
  // Python's % (a floored modulo): the phase is in [0, 1) before as after the epoch.
  const phase = (((delta % orbit.period) + orbit.period) % orbit.period) / orbit.period;
  return pointAt(orbit, eccentricAnomaly(orbit.meanAnomaly0 + TWO_PI * phase, orbit.e));
}

const KNOWN_COLOURS = ['#8cc3ff', '#b5f0a0', '#f7d07a', '#f59fb6', '#c6a8ff', '#7fe3d8'];
const INFERRED_COLOUR = '#b9a3ff';

/** The orbit drawing: a square canvas, the star at its centre, radius on a sqrt scale. */
class OrbitView {
  constructor(canvas, orbits, zone, readout) {
    this.canvas = canvas;
    this.orbits = orbits;
    this.zone = zone;
    this.readout = readout;
    this.frames = 0;
    // The planets start where they are today and run forward from there.
    this.epochJd = julianDate();
    this.playing = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    const reach = Math.max(
      ...orbits.map(({ orbit }) => orbit.a * (1 + orbit.e)),
      zone ? zone.outer : 0,
      1e-3,
    ) * 1.08;
    this.reach = reach;
    const fastest = Math.min(...orbits.map(({ orbit }) => orbit.period), Infinity);
    this.daysPerSecond = Number.isFinite(fastest) ? fastest / FASTEST_ORBIT_S : 0;
    this.last = null;
    this.tick = (now) => this.frame(now);
  }

  /** Screen position of a point `[x, y]` AU: radius on a square-root scale. */
  toScreen([x, y]) {
    const half = VIEW_SIZE / 2;
    const r = Math.hypot(x, y);
    const scale = r > 0 ? (Math.sqrt(r / this.reach) * (half - 8)) / r : 0;
    return [half + x * scale, half - y * scale];
  }

  radius(au) {
    return Math.sqrt(au / this.reach) * (VIEW_SIZE / 2 - 8);
  }

  start() {
    this.draw();
    if (this.playing && this.daysPerSecond > 0) requestAnimationFrame(this.tick);
  }

  setPlaying(playing) {
    const wasPlaying = this.playing;
    this.playing = playing;
    this.last = null;
    if (playing && !wasPlaying && this.daysPerSecond > 0) requestAnimationFrame(this.tick);
  }

  /** Stop and draw the planets where they are at a Julian date. */
  showEpoch(epochJd) {
    if (!isNumber(epochJd)) throw new TypeError(`showEpoch needs a Julian date, not ${epochJd}`);
    this.setPlaying(false);
    this.epochJd = epochJd;
    this.draw();
  }

  /** The drawn planets' positions at the shown epoch, in the API's /orbits shape. */
  positions() {
    return this.orbits.map(({ name, orbit }) => {
      const [x, y, z] = orbitPosition(orbit, this.epochJd);
      return { name, x_au: x, y_au: y, z_au: z, assumed: [...orbit.assumed] };
    });
  }

  frame(now) {
    // The panel replaced or closed: let the loop end with the canvas.
    if (!this.canvas.isConnected || !this.playing) return;
    if (this.last !== null) this.epochJd += ((now - this.last) / 1000) * this.daysPerSecond;
    this.last = now;
    this.draw();
    requestAnimationFrame(this.tick);
  }

  draw() {
    const ratio = window.devicePixelRatio || 1;
    const { canvas } = this;
    if (canvas.width !== VIEW_SIZE * ratio) {
      canvas.width = VIEW_SIZE * ratio;
      canvas.height = VIEW_SIZE * ratio;
    }
    const g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.fillStyle = '#05070d';
    g.fillRect(0, 0, VIEW_SIZE, VIEW_SIZE);
    const half = VIEW_SIZE / 2;
    if (this.zone) {
      g.beginPath();
      g.arc(half, half, this.radius(this.zone.outer), 0, TWO_PI);
      g.arc(half, half, this.radius(this.zone.inner), 0, TWO_PI, true);
      g.fillStyle = 'rgba(80, 200, 120, 0.28)';
      g.fill('evenodd');
    }
    for (const { orbit, colour, inferred } of this.orbits) {
      g.beginPath();
      for (let i = 0; i <= 128; i += 1) {
        // Evenly in eccentric anomaly: closer points near periapsis, where it bends most.
        const [sx, sy] = this.toScreen(pointAt(orbit, (TWO_PI * i) / 128));
        if (i === 0) g.moveTo(sx, sy); else g.lineTo(sx, sy);
      }
      g.setLineDash(inferred ? [4, 4] : []);
      g.strokeStyle = colour;
      g.globalAlpha = 0.7;
      g.lineWidth = 1.2;
      g.stroke();
      g.globalAlpha = 1;
      const [px, py] = this.toScreen(orbitPosition(orbit, this.epochJd));
      g.setLineDash([]);
      g.beginPath();
      g.arc(px, py, 3.5, 0, TWO_PI);
      g.fillStyle = colour;
      g.fill();
    }
    g.beginPath();
    g.arc(half, half, 5, 0, TWO_PI);
    g.fillStyle = '#ffd27a';
    g.fill();
    this.frames += 1;
    canvas.dataset.frames = String(this.frames);
    canvas.dataset.epochJd = String(this.epochJd);
    const date = isoDate(this.epochJd);
    if (this.readout && this.readout.textContent !== `Shown at ${date}.`) {
      this.readout.textContent = `Shown at ${date}.`;
    }
  }
}

function describe(drawn, undrawn, zone) {
  const parts = [`Top-down view of ${drawn} planetary orbit${drawn === 1 ? '' : 's'}`];
  if (zone) parts.push(`habitable zone ${sig(zone.inner)} to ${sig(zone.outer)} AU`);
  if (undrawn) parts.push(`${undrawn} planet${undrawn === 1 ? '' : 's'} without a known orbit`);
  return `${parts.join('; ')}.`;
}

/**
 * Fill `container` with the system view for one API system record. Returns the
 * orbit drawing (or null), which stops by itself when the container is emptied.
 */
export function renderSystemView(container, system) {
  const planets = Array.isArray(system.planets) ? system.planets : [];
  const zone = habitableZone(system);
  let known = 0;
  const drawn = [];
  const items = planets.map((planet) => {
    const colour = planet.inferred
      ? INFERRED_COLOUR : KNOWN_COLOURS[(known++) % KNOWN_COLOURS.length];
    const orbit = orbitOf(planet);
    if (orbit) {
      drawn.push({ name: planet.name, orbit, colour, inferred: Boolean(planet.inferred) });
    }
    return planetItem(planet, colour, orbit);
  });
  const view = node('section', { class: 'system-view', 'data-testid': 'system-view',
    'aria-label': 'System details' });
  view.append(node('h3', { class: 'panel-section' }, 'The star'), factRows(system, STAR_FIELDS));
  if (system.source) {
    view.append(node('p', { class: 'panel-note' }, `Catalogue: ${system.source}`));
  }
  let orbits = null;
  if (drawn.length || zone) {
    const canvas = node('canvas', {
      class: 'orbit-view', 'data-testid': 'orbit-view', role: 'img',
      'aria-label': describe(drawn.length, planets.length - drawn.length, zone),
      width: String(VIEW_SIZE), height: String(VIEW_SIZE),
      'data-orbits': String(drawn.length),
      'data-hz-source': zone ? zone.source : 'none',
    });
    if (zone) {
      canvas.dataset.hzInnerAu = zone.inner.toFixed(4);
      canvas.dataset.hzOuterAu = zone.outer.toFixed(4);
    }
    const readout = node('span', { class: 'orbit-epoch', 'data-testid': 'orbit-epoch' });
    orbits = new OrbitView(canvas, drawn, zone, readout);
    const toggle = node('button', { type: 'button', class: 'panel-action',
      'aria-pressed': String(orbits.playing) }, orbits.playing ? 'Pause orbits' : 'Play orbits');
    toggle.addEventListener('click', () => {
      orbits.setPlaying(!orbits.playing);
      toggle.textContent = orbits.playing ? 'Pause orbits' : 'Play orbits';
      toggle.setAttribute('aria-pressed', String(orbits.playing));
    });
    const notes = [
      'Seen from above; distance from the star on a square-root scale.',
      zone ? `Green ring: the habitable zone, ${sig(zone.inner)}\u2013${sig(zone.outer)} AU (${
        zone.source === 'api' ? 'from the API' : 'from the star\u2019s luminosity'}).` : '',
      drawn.some(({ inferred }) => inferred) ? 'Dashed: inferred planets.' : '',
      drawn.some(({ orbit }) => orbit.assumed.length)
        ? 'Elements the catalogue lacks are assumed as the API\u2019s orbits route assumes them '
          + '(eccentricity, inclination, periapsis and node 0; mean anomaly 0 at J2000); '
          + 'each planet lists its own.' : '',
      orbits.daysPerSecond > 0 ? `From today, 1 s shows ${sig(orbits.daysPerSecond)} days.` : '',
    ].filter(Boolean).join(' ');
    view.append(
      node('h3', { class: 'panel-section' }, 'Orbits'),
      node('figure', { class: 'orbit-figure' }, canvas,
        node('figcaption', { class: 'panel-note' }, notes, ' ', readout)),
      toggle,
    );
  }
  view.append(
    node('h3', { class: 'panel-section' }, planets.length ? `Planets (${planets.length})` : 'Planets'),
    planets.length
      ? node('ul', { class: 'planets', 'data-testid': 'planet-list' }, ...items)
      : node('p', { class: 'panel-note' }, 'No known or inferred planets.'),
  );
  container.replaceChildren(view);
  if (orbits) orbits.start();
  return orbits;
}
