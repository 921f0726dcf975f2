/**
 * Local Bubble client: a WebGL map of every star in one world build, a search
 * box and a system panel. The page's <body> carries the configuration (API base
 * URL, build id, tile URLs) rendered by the site build.
 *
 * The star tile is 16 bytes a star, little-endian: float32 x, y, z in parsecs
 * (Galactic: x to the centre, y to l = 90 deg, z to the north pole), then uint8
 * red, green, blue and brightness. It is handed to WebGL as is, in one buffer.
 * Only the tile is needed for the first frame; the ids, the flags (1 byte a
 * star), the label list and, once time moves, the velocities (3 int16 a star)
 * follow.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

const STAR_BYTES = 16;
const LY_PER_PC = 3.26156;
const SEARCH_DELAY_MS = 200;
const FLIGHT_MS = 1000;
const PICK_RADIUS_PX = 8;
const RING_RADII_PC = [10, 50, 100, 500];
const BACKGROUND = 0x04060d;
const DASH = '\u2014';
const SOURCE_LABELS = {
  sol: 'Solar System',
  hipparcos: 'Hipparcos catalogue',
  'nasa-exoplanet-archive': 'NASA Exoplanet Archive',
};

/* Point size: a star is STAR_SIZE.basePc + gainPc * b^2 parsecs across, drawn
 * no smaller than minPx + minGainPx * b CSS pixels nor larger than maxPx, where
 * b is its brightness in 0..1. The shader and the click picking share these. */
const STAR_SIZE = { basePc: 0.05, gainPc: 0.45, minPx: 1.2, minGainPx: 2.8, maxPx: 40 };

/* ---------------------------------------------------------------- config, API */

function readConfig(body) {
  const data = body.dataset;
  return {
    apiUrl: (data.apiUrl || '').replace(/\/+$/, ''),
    buildId: data.buildId,
    idsUrl: data.idsUrl,
    flagsUrl: data.flagsUrl || '',
    velocityUrl: data.velocityUrl || '',
    labelsUrl: data.labelsUrl || '',
  };
}

class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The read-only API of one build; errors arrive as {"error": {code, message}}. */
class Api {
  constructor(config) {
    this.base = `${config.apiUrl}/builds/${encodeURIComponent(config.buildId)}`;
  }

  search(query, signal) {
    return this.get(`/search?q=${encodeURIComponent(query)}`, signal);
  }

  system(systemId, signal) {
    return this.get(`/systems/${encodeURIComponent(systemId)}`, signal);
  }

  async get(path, signal) {
    let response;
    try {
      response = await fetch(this.base + path, { signal, headers: { Accept: 'application/json' } });
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new ApiError('The star catalogue service could not be reached.', 0, 'network');
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = body && body.error;
      const message = (detail && detail.message) || `The service answered ${response.status}.`;
      throw new ApiError(message, response.status, detail && detail.code);
    }
    if (body === null) {
      const message = 'The service sent an answer that is not JSON.';
      throw new ApiError(message, response.status, 'bad_json');
    }
    return body;
  }
}

/* ----------------------------------------------------------------- formatting */

const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);

function significant(value, digits = 3) {
  return new Intl.NumberFormat('en', { maximumSignificantDigits: digits }).format(value);
}

function fixed(value, digits) {
  return new Intl.NumberFormat('en', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

function withUnit(value, unit, format = significant) {
  return isNumber(value) ? `${format(value)} ${unit}` : DASH;
}

function formatDistance(pc) {
  if (!isNumber(pc)) return DASH;
  const digits = pc < 10 ? 2 : pc < 100 ? 1 : 0;
  return `${fixed(pc, digits)} pc (${fixed(pc * LY_PER_PC, digits)} ly)`;
}

function formatPeriod(days) {
  if (!isNumber(days)) return DASH;
  if (days < 730) return `${significant(days, 4)} days`;
  return `${significant(days / 365.25, 3)} years`;
}

function formatAngle(degrees) {
  return isNumber(degrees) ? `${fixed(degrees, 4)}\u00b0` : DASH;
}

function formatPlain(value, digits = 2) {
  return isNumber(value) ? fixed(value, digits) : DASH;
}

function formatText(value) {
  return typeof value === 'string' && value.trim() ? value : DASH;
}

/* ------------------------------------------------------------------------ DOM */

/** A new element; string children become text nodes, so API text is never HTML. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function factList(rows) {
  const list = el('dl', { class: 'facts' });
  for (const [label, value] of rows) list.append(el('dt', {}, label), el('dd', {}, value));
  return list;
}

/* --------------------------------------------------------------------- search */

/** The search box: type-ahead with a short delay, Enter to search at once. */
class SearchBox {
  constructor(elements, api, onChoose) {
    Object.assign(this, elements);
    this.api = api;
    this.onChoose = onChoose;
    this.timer = 0;
    this.controller = null;
    this.lastQuery = '';
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.run(this.input.value, true);
    });
    this.input.addEventListener('input', () => this.schedule());
    this.input.addEventListener('keydown', (event) => this.onInputKey(event));
    this.results.addEventListener('keydown', (event) => this.onResultsKey(event));
  }

  schedule() {
    clearTimeout(this.timer);
    const query = this.input.value.trim();
    if (query.length < 2) {
      this.clear();
      return;
    }
    this.timer = setTimeout(() => this.run(query, false), SEARCH_DELAY_MS);
  }

  async run(text, force) {
    clearTimeout(this.timer);
    const query = text.trim();
    if (!query) {
      this.clear();
      return;
    }
    if (!force && query === this.lastQuery) return;
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.lastQuery = query;
    this.status.textContent = 'Searching\u2026';
    try {
      const page = await this.api.search(query, controller.signal);
      if (controller === this.controller) this.show(query, page);
    } catch (error) {
      if (error.name === 'AbortError') return;
      this.lastQuery = '';
      this.results.replaceChildren();
      this.results.hidden = true;
      this.status.textContent = error.message;
    }
  }

  show(query, page) {
    const items = Array.isArray(page.items) ? page.items : [];
    this.results.replaceChildren(...items.map((item) => this.resultItem(item)));
    this.results.hidden = items.length === 0;
    if (items.length === 0) {
      this.status.textContent = `No star matches \u201c${query}\u201d.`;
    } else {
      const more = page.next_cursor ? ' (first matches; refine the search for others)' : '';
      const noun = items.length === 1 ? 'star' : 'stars';
      this.status.textContent = `${items.length} ${noun} found${more}.`;
    }
  }

  resultItem(item) {
    const name = item.name || item.system_id;
    const matched = item.matched_name && item.matched_name !== name
      ? el('span', { class: 'result-match' }, ` matches \u201c${item.matched_name}\u201d`)
      : null;
    const attributes = { type: 'button', 'data-system-id': item.system_id };
    const button = el('button', attributes, name, matched);
    button.addEventListener('click', () => {
      for (const other of this.results.querySelectorAll('[aria-current]')) {
        other.removeAttribute('aria-current');
      }
      button.setAttribute('aria-current', 'true');
      this.onChoose(item);
    });
    return el('li', {}, button);
  }

  clear() {
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.lastQuery = '';
    this.results.replaceChildren();
    this.results.hidden = true;
    this.status.textContent = '';
  }

  buttons() {
    return [...this.results.querySelectorAll('button')];
  }

  onInputKey(event) {
    if (event.key === 'ArrowDown' && !this.results.hidden) {
      event.preventDefault();
      const first = this.buttons()[0];
      if (first) first.focus();
    } else if (event.key === 'Escape') {
      this.input.value = '';
      this.clear();
    }
  }

  onResultsKey(event) {
    const buttons = this.buttons();
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    if (event.key === 'ArrowDown' && index < buttons.length - 1) {
      event.preventDefault();
      buttons[index + 1].focus();
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      (index > 0 ? buttons[index - 1] : this.input).focus();
    } else if (event.key === 'Escape') {
      this.input.focus();
    }
  }
}

/* ---------------------------------------------------------------- system panel */

function planetBadge(planet) {
  if (planet.known) return el('span', { class: 'badge badge-known' }, 'Known');
  if (planet.inferred) {
    const model = planet.model_version ? ` (${planet.model_version})` : '';
    return el('span', { class: 'badge badge-inferred' }, `Inferred${model}`);
  }
  return null;
}

function planetCard(planet) {
  const head = el('div', { class: 'planet-head' },
    el('span', { class: 'planet-name' }, formatText(planet.name)), planetBadge(planet));
  return el('li', { class: 'planet' }, head, factList([
    ['Period', formatPeriod(planet.period_days)],
    ['Semi-major axis', withUnit(planet.semi_major_axis_au, 'AU')],
    ['Eccentricity', formatPlain(planet.eccentricity, 3)],
    ['Mass', withUnit(planet.mass_earth, 'M\u2295')],
    ['Radius', withUnit(planet.radius_earth, 'R\u2295')],
  ]));
}

/** Designations joined by dots, each kept on one line ("HIP 70890"). */
function nameList(names) {
  return names.map((name) => name.replace(/ /g, '\u00a0')).join(' \u00b7 ');
}

/** The side panel showing one system. */
class SystemPanel {
  constructor(root, content, closeButton) {
    this.root = root;
    this.content = content;
    this.onClose = () => {};
    this.onShowOnMap = () => {};
    this.returnFocus = null;
    // The open system's orbit drawing (system.js OrbitView), or null.
    this.systemView = null;
    closeButton.addEventListener('click', () => this.close());
    root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
  }

  open(title) {
    this.systemView = null;
    if (this.root.hidden) this.returnFocus = document.activeElement;
    this.root.hidden = false;
    this.content.replaceChildren(
      el('h2', { class: 'system-name', id: 'system-name' }, title || 'Star system'),
      el('p', { class: 'panel-note' }, 'Loading\u2026'),
    );
    this.root.focus();
  }

  showSystem(system, { onMap }) {
    const names = (Array.isArray(system.names) ? system.names : [])
      .filter((name) => name && name !== system.name);
    const planets = Array.isArray(system.planets) ? system.planets : [];
    // The plain facts first; the system view (system.js) replaces them with the
    // full one once its module has loaded, and they stay if it cannot load.
    const details = el('div', { class: 'system-details' },
      factList([
        ['Distance', formatDistance(system.dist_pc)],
        ['Spectral type', formatText(system.spectral_type)],
        ['Temperature', withUnit(system.teff_k, 'K', (v) => significant(Math.round(v), 6))],
        ['Luminosity', withUnit(system.luminosity_lsun, 'L\u2609')],
        ['V magnitude', formatPlain(system.vmag)],
        ['B\u2212V colour', formatPlain(system.bv)],
        ['RA, Dec', `${formatAngle(system.ra_deg)}, ${formatAngle(system.dec_deg)}`],
        ['Source', SOURCE_LABELS[system.source] || formatText(system.source)],
      ]),
      el('h3', { class: 'panel-section' },
        planets.length ? `Planets (${planets.length})` : 'Planets'),
      planets.length
        ? el('ul', { class: 'planets', 'data-testid': 'planet-list' }, ...planets.map(planetCard))
        : el('p', { class: 'panel-note' }, 'No known or inferred planets.'),
    );
    this.content.replaceChildren(
      el('h2', { class: 'system-name', id: 'system-name' }, formatText(system.name)),
      // replaceChildren would print a null; an empty text node shows nothing.
      names.length ? el('p', { class: 'system-names' }, nameList(names)) : '',
      onMap ? this.showOnMapButton() : el('p', { class: 'panel-note' }, 'Not drawn on the map.'),
      details,
    );
    import('local-bubble/system')
      .then(({ renderSystemView }) => {
        if (details.isConnected) this.systemView = renderSystemView(details, system);
      })
      .catch((error) => console.warn('system view unavailable:', error));
  }

  showOnMapButton() {
    const button = el('button', { type: 'button', class: 'panel-action' }, 'Show on the map');
    button.addEventListener('click', () => this.onShowOnMap());
    return button;
  }

  showError(title, message) {
    this.content.replaceChildren(
      el('h2', { class: 'system-name', id: 'system-name' }, title || 'Star system'),
      el('p', { class: 'panel-note panel-error', role: 'alert' }, message),
    );
  }

  close() {
    if (this.root.hidden) return;
    this.root.hidden = true;
    this.content.replaceChildren();
    this.systemView = null;
    this.onClose();
    if (this.returnFocus && this.returnFocus.isConnected) this.returnFocus.focus();
    this.returnFocus = null;
  }
}

/* ------------------------------------------------------------------- star map */

const glsl = (value) => Number(value).toFixed(4);

/* Flag bits of the flags tile (batch_jobs/tiles.py FLAG_*), and one bit the client
 * adds for stars settled at the shown time in a simulation playback. */
const FLAG = { known: 1, inferred: 2, habitable: 4, settled: 32 };
const LAYER_NAMES = Object.keys(FLAG);
/* The velocity tile: int16 U, V, W in units of 0.05 km/s; 1 km/s is
 * 1.0227e-6 pc a year. */
const VELOCITY_UNIT_KMS = 0.05;
const PC_PER_YEAR_PER_KMS = 1.0227122e-6;
const TIME_LIMIT_YEARS = 100000;
/* Level of detail: a star fades out as its apparent magnitude, seen from the
 * camera, goes from LIMIT_MAG - FADE_MAG to LIMIT_MAG (brightness byte b encodes
 * absolute V magnitude 17 - 27 (b - 1) / 254; 0 means unknown, taken as 6). */
const LIMIT_MAG = 12.5;
const FADE_MAG = 3.0;
const UNKNOWN_ABS_MAG = 6.0;
const MAX_LABELS = 36;
const LABEL_FONT_PX = 12;
const KEY_TURN_RAD = THREE.MathUtils.degToRad(6);
const KEY_PAN_FRACTION = 0.08;
const KEY_ZOOM = 0.8;
const PLAYBACK_MS = 20000;
const FAR = 1e30;
/* Per-star layers before they load: no flags, no motion, never settled. The
 * first frame draws with these constants instead of 1.6 MB of zeros. */
const LAYER_DEFAULTS = { flags: [0], velocity: [0, 0, 0], settled: [FAR, FAR] };

const STAR_VERTEX = /* glsl */ `
  // Red, green, blue and brightness, the tile's 4 bytes read as one normalised
  // vec4: a format every GPU reads as it is (a 3-byte colour is converted by some
  // WebGL back ends, SwiftShader's among them, at the first draw).
  attribute vec4 starLook;
  attribute float flags;
  attribute vec3 velocity;
  attribute vec2 settled;
  uniform float pixelsPerUnit;
  uniform float pixelRatio;
  uniform float years;
  uniform float highlight;
  varying vec3 vColor;
  varying float vAlpha;
  varying float vSize;
  float bit(float value, float b) { return mod(floor(value / b + 0.5 / 256.0), 2.0); }
  void main() {
    vec3 starColor = starLook.rgb;
    float brightness = starLook.a;
    vec3 moved = position + velocity * (${glsl(VELOCITY_UNIT_KMS)} * ${PC_PER_YEAR_PER_KMS.toExponential(7)} * years);
    vec4 mvPosition = modelViewMatrix * vec4(moved, 1.0);
    float depth = max(-mvPosition.z, 1e-4);
    float byte = brightness * 255.0;
    float absMag = byte > 0.5 ? 17.0 - 27.0 * (byte - 1.0) / 254.0 : ${glsl(UNKNOWN_ABS_MAG)};
    float appMag = absMag + 5.0 * log(max(depth, 0.01)) / log(10.0) - 5.0;
    float visible = 1.0 - smoothstep(${glsl(LIMIT_MAG - FADE_MAG)}, ${glsl(LIMIT_MAG)}, appMag);
    float settledNow = (years >= settled.x && years < settled.y) ? 1.0 : 0.0;
    float match = max(max(bit(flags, 1.0) * bit(highlight, 1.0), bit(flags, 2.0) * bit(highlight, 2.0)),
                      max(bit(flags, 4.0) * bit(highlight, 4.0), settledNow * bit(highlight, 32.0)));
    float filtering = highlight > 0.5 ? 1.0 : 0.0;
    float sizePc = ${glsl(STAR_SIZE.basePc)} + ${glsl(STAR_SIZE.gainPc)} * brightness * brightness;
    float floorPx = ${glsl(STAR_SIZE.minPx)} + ${glsl(STAR_SIZE.minGainPx)} * brightness + 3.0 * match;
    float sizePx = max(sizePc * pixelsPerUnit / depth, floorPx * pixelRatio);
    vSize = min(sizePx, ${glsl(STAR_SIZE.maxPx)} * pixelRatio);
    vColor = mix(starColor, vec3(0.45, 1.0, 0.55), 0.7 * settledNow * bit(highlight, 32.0));
    // Nearer stars look brighter: fade with the log of the distance, as apparent
    // magnitude does, but gently; then fade out the stars too faint to see.
    float near = clamp(1.5 - 0.5 * log(depth) / log(10.0), 0.18, 1.0);
    // A highlighted star shows at any distance; the others step back.
    float shown = mix(near * visible, mix(0.12 * near * visible, 1.0, match), filtering);
    vAlpha = (0.3 + 0.7 * brightness) * shown;
    if (vAlpha < 0.004) {
      gl_Position = vec4(2.0, 2.0, 2.0, 1.0);  // outside the clip volume: no fragments
      gl_PointSize = 0.0;
      return;
    }
    gl_PointSize = vSize;
    gl_Position = projectionMatrix * mvPosition;
  }`;

const STAR_FRAGMENT = /* glsl */ `
  varying vec3 vColor;
  varying float vAlpha;
  varying float vSize;
  void main() {
    float r = length(gl_PointCoord * 2.0 - 1.0);
    if (r > 1.0) discard;
    float glow = 1.0 - smoothstep(0.0, 1.0, r);
    float core = 1.0 - smoothstep(0.0, 0.3, r);
    float profile = mix(1.0, 0.6 * glow + 0.4 * core, clamp((vSize - 2.0) / 6.0, 0.0, 1.0));
    gl_FragColor = vec4(mix(vColor, vec3(1.0), 0.6 * core), vAlpha * profile);
  }`;

const MARKER_VERTEX = /* glsl */ `
  uniform float size;
  void main() {
    gl_PointSize = size;
    gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  }`;

const MARKER_FRAGMENT = /* glsl */ `
  uniform vec3 color;
  void main() {
    float r = length(gl_PointCoord * 2.0 - 1.0);
    float ring = smoothstep(0.72, 0.8, r) * (1.0 - smoothstep(0.9, 0.98, r));
    if (ring <= 0.0) discard;
    gl_FragColor = vec4(color, ring);
  }`;

/** The map canvas's WebGL 2 context, or null: made once, here, and handed to
 * three.js (a throwaway test context costs as much again on a CPU renderer). */
function webgl2Context(canvas) {
  try {
    return canvas.getContext('webgl2', {
      alpha: false,
      antialias: false,
      depth: true,
      // Keeps the last frame readable (canvas.toDataURL, tests) between renders.
      preserveDrawingBuffer: true,
      powerPreference: 'high-performance',
    });
  } catch {
    return null;
  }
}

function littleEndian() {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** The tile as typed arrays over one buffer: 4 floats and 16 bytes a star. */
function parseTile(buffer) {
  if (buffer.byteLength % STAR_BYTES !== 0) {
    throw new Error(`the star tile is ${buffer.byteLength} bytes, not whole stars`);
  }
  let data = buffer;
  if (!littleEndian()) {
    data = buffer.slice(0);
    const source = new DataView(buffer);
    const target = new DataView(data);
    for (let offset = 0; offset < buffer.byteLength; offset += STAR_BYTES) {
      for (let axis = 0; axis < 3; axis += 1) {
        const at = offset + 4 * axis;
        target.setFloat32(at, source.getFloat32(at, true));
      }
    }
  }
  return {
    count: buffer.byteLength / STAR_BYTES,
    floats: new Float32Array(data),
    bytes: new Uint8Array(data),
  };
}

/** The velocity tile as int16 triples (U, V, W), checked against the star count. */
function parseVelocities(buffer, count) {
  if (buffer.byteLength !== count * 6) {
    throw new Error(`the velocity tile is ${buffer.byteLength} bytes; ${count} stars need ${count * 6}`);
  }
  if (littleEndian()) return new Int16Array(buffer);
  const view = new DataView(buffer);
  const out = new Int16Array(count * 3);
  for (let i = 0; i < out.length; i += 1) out[i] = view.getInt16(2 * i, true);
  return out;
}

async function fetchOk(url, options) {
  const response = await fetch(url, options);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response;
}

function ringGeometry() {
  const positions = [];
  const colors = [];
  const ringColor = new THREE.Color(0x2b3d66);
  const axisColor = new THREE.Color(0x6b5a2e);
  const segments = 160;
  for (const radius of RING_RADII_PC) {
    for (let i = 0; i < segments; i += 1) {
      const a = (i / segments) * Math.PI * 2;
      const b = ((i + 1) / segments) * Math.PI * 2;
      positions.push(radius * Math.cos(a), radius * Math.sin(a), 0);
      positions.push(radius * Math.cos(b), radius * Math.sin(b), 0);
      colors.push(...ringColor.toArray(), ...ringColor.toArray());
    }
  }
  const reach = RING_RADII_PC[RING_RADII_PC.length - 1];
  positions.push(0, 0, 0, reach, 0, 0);
  colors.push(...axisColor.toArray(), ...axisColor.toArray());
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.Float32BufferAttribute(positions, 3));
  geometry.setAttribute('color', new THREE.Float32BufferAttribute(colors, 3));
  return geometry;
}

function absMagOf(byte) {
  return byte > 0 ? 17 - (27 * (byte - 1)) / 254 : UNKNOWN_ABS_MAG;
}

/** Names over the brightest labelled stars in view, placed so they do not overlap. */
class LabelLayer {
  constructor(root) {
    this.root = root;
    this.entries = [];
    this.pool = [];
    this.scratch = new THREE.Vector3();
  }

  setEntries(entries) {
    this.entries = entries;
  }

  element(index) {
    while (this.pool.length <= index) {
      const node = el('span', { class: 'star-label' });
      node.hidden = true;
      this.root.append(node);
      this.pool.push(node);
    }
    return this.pool[index];
  }

  /** Place up to MAX_LABELS names; `map` gives positions, brightness and the camera. */
  place(map) {
    const width = map.canvas.clientWidth;
    const height = map.canvas.clientHeight;
    const camera = map.camera;
    const candidates = [];
    for (const [index, name] of this.entries) {
      if (index === map.selected) continue; // the selection label names it
      const point = map.positionOf(index, this.scratch);
      const depth = point.distanceTo(camera.position);
      const appMag = absMagOf(map.tile.bytes[STAR_BYTES * index + 15])
        + 5 * Math.log10(Math.max(depth, 0.01)) - 5;
      if (appMag > LIMIT_MAG - FADE_MAG) continue;
      const ndc = point.project(camera);
      if (ndc.z < -1 || ndc.z > 1 || Math.abs(ndc.x) > 1 || Math.abs(ndc.y) > 1) continue;
      candidates.push({ appMag, name, x: ((ndc.x + 1) / 2) * width, y: ((1 - ndc.y) / 2) * height });
    }
    candidates.sort((a, b) => a.appMag - b.appMag);
    const placed = [];
    for (const item of candidates) {
      if (placed.length >= MAX_LABELS) break;
      const box = {
        left: item.x + 6, top: item.y - LABEL_FONT_PX,
        right: item.x + 10 + item.name.length * LABEL_FONT_PX * 0.6, bottom: item.y + 4,
      };
      const overlaps = placed.some((other) => box.left < other.box.right && other.box.left < box.right
        && box.top < other.box.bottom && other.box.top < box.bottom);
      if (!overlaps) placed.push({ ...item, box });
    }
    placed.forEach((item, i) => {
      const node = this.element(i);
      if (node.textContent !== item.name) node.textContent = item.name;
      node.style.transform = `translate(${Math.round(item.box.left)}px, ${Math.round(item.box.top)}px)`;
      node.hidden = false;
    });
    for (let i = placed.length; i < this.pool.length; i += 1) this.pool[i].hidden = true;
    this.root.dataset.count = String(placed.length);
  }
}

/** The WebGL star map: one THREE.Points for every star, orbit controls, picking,
 * labels, highlight layers and time. */
class StarMap {
  constructor(canvas, context, label, labelRoot) {
    this.canvas = canvas;
    this.label = label;
    this.labels = new LabelLayer(labelRoot);
    this.onPick = () => {};
    this.onReady = () => {};
    this.onFirstFrame = () => {};
    this.tile = null;
    this.ids = null;
    this.indexById = new Map();
    this.velocities = null;
    this.years = 0;
    this.highlight = 0;
    this.selected = -1;
    this.flight = null;
    this.dirty = true;
    this.firstFrameDrawn = false;
    this.readyReported = false;
    this.pointer = null;
    this.scratch = new THREE.Vector3();
    this.onLost = () => {};

    this.renderer = new THREE.WebGLRenderer({ canvas, context });
    performance.mark('lb-renderer-ready');
    this.renderer.setClearColor(BACKGROUND, 1);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(55, 1, 0.005, 200000);
    this.camera.up.set(0, 0, 1);
    this.camera.position.set(-110, -150, 95);

    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.08;
    this.controls.screenSpacePanning = true;
    this.controls.minDistance = 0.02;
    this.controls.maxDistance = 20000;
    this.controls.zoomSpeed = 1.4;
    this.controls.addEventListener('start', () => { this.flight = null; });
    this.controls.addEventListener('change', () => { this.dirty = true; });
    this.controls.update();
    canvas.addEventListener('keydown', (event) => this.onKey(event));

    // The rings and the line to the Galactic centre join after the first frame:
    // their shader is one more to compile before it (see addGuides).
    this.marker = this.makeMarker();
    this.scene.add(this.marker);
    this.starMaterial = this.makeStarMaterial();
    this.resize();
    // Draw a one-star stand-in with the real material and attribute layout while
    // the tile downloads, so shader compilation (and a CPU rasteriser's code
    // generation) is done before the first real frame.
    const one = new ArrayBuffer(STAR_BYTES);
    new Uint8Array(one).set([255, 255, 255, 255], 12);
    const standIn = this.makeStars(parseTile(one));
    this.scene.add(standIn);
    this.renderer.render(this.scene, this.camera);
    this.scene.remove(standIn);
    standIn.geometry.dispose();
    // The GPU process may still be compiling: what is left shows in 'gpu-draw'.
    performance.mark('lb-shader-warmed');

    window.addEventListener('resize', () => this.resize());
    canvas.addEventListener('pointerdown', (event) => {
      this.pointer = { x: event.clientX, y: event.clientY };
    });
    canvas.addEventListener('click', (event) => this.onClick(event));
    canvas.addEventListener('webglcontextlost', (event) => {
      event.preventDefault();
      this.onLost();
    });
    const frame = (now) => {
      requestAnimationFrame(frame);
      this.frame(now);
    };
    requestAnimationFrame(frame);
  }

  /** Draw the tile as soon as its bytes are here; the ids follow (picking and
   * search need them, the first frame does not). `tileBuffer` is a promise of
   * the tile's ArrayBuffer, started by the page before this module loaded. */
  async load(tileBuffer, idsUrl) {
    // Fetched now, parsed after the first frame (the JSON parse is not free).
    const idsResponse = fetchOk(idsUrl);
    idsResponse.catch(() => {}); // reported below, after the tile
    const buffer = await tileBuffer;
    performance.mark('lb-tile-loaded');
    const tile = parseTile(buffer);
    performance.mark('lb-tile-parsed');
    this.tile = tile;
    this.points = this.makeStars(tile);
    performance.mark('lb-stars-built');
    this.scene.add(this.points);
    this.dirty = true;
    this.frame(performance.now());
    const ids = await idsResponse.then((response) => response.json());
    performance.mark('lb-ids-parsed');
    if (!Array.isArray(ids) || ids.length !== tile.count) {
      const named = Array.isArray(ids) ? ids.length : 'no';
      throw new Error(`the tile has ${tile.count} stars but ${named} ids`);
    }
    this.ids = ids;
    ids.forEach((id, index) => this.indexById.set(id, index));
    performance.mark('lb-ids-indexed');
    this.dirty = true;
    return tile.count;
  }

  makeStars(tile) {
    const geometry = new THREE.BufferGeometry();
    const positions = new THREE.InterleavedBuffer(tile.floats, STAR_BYTES / 4);
    const bytes = new THREE.InterleavedBuffer(tile.bytes, STAR_BYTES);
    geometry.setAttribute('position', new THREE.InterleavedBufferAttribute(positions, 3, 0));
    geometry.setAttribute('starLook', new THREE.InterleavedBufferAttribute(bytes, 4, 12, true));
    // Layers loaded later (flags, velocity, settled) are absent until they arrive:
    // the material's default values stand in for them (LAYER_DEFAULTS).
    const points = new THREE.Points(geometry, this.starMaterial);
    points.frustumCulled = false;
    points.renderOrder = 1;
    return points;
  }

  makeStarMaterial() {
    this.starUniforms = {
      pixelsPerUnit: { value: this.pixelsPerUnit() * this.renderer.getPixelRatio() },
      pixelRatio: { value: this.renderer.getPixelRatio() },
      years: { value: this.years },
      highlight: { value: this.highlight },
    };
    const material = new THREE.ShaderMaterial({
      uniforms: this.starUniforms,
      vertexShader: STAR_VERTEX,
      fragmentShader: STAR_FRAGMENT,
      transparent: true,
      depthTest: false,
      depthWrite: false,
      blending: THREE.AdditiveBlending,
    });
    material.defaultAttributeValues = { ...material.defaultAttributeValues, ...LAYER_DEFAULTS };
    return material;
  }

  /** Give the stars a layer's per-star values (a new attribute the first time). */
  replaceAttribute(name, array, itemSize) {
    const geometry = this.points.geometry;
    const attribute = geometry.getAttribute(name);
    if (attribute) {
      attribute.array.set(array);
      attribute.needsUpdate = true;
    } else {
      geometry.setAttribute(name, new THREE.BufferAttribute(array, itemSize));
    }
    this.dirty = true;
  }

  setFlags(flags) {
    if (flags.length !== this.tile.count) {
      throw new Error(`the flags tile has ${flags.length} stars, the star tile ${this.tile.count}`);
    }
    this.flags = flags;
    this.replaceAttribute('flags', flags, 1);
  }

  setVelocities(velocities) {
    this.velocities = velocities;
    this.replaceAttribute('velocity', velocities, 3);
  }

  /** Settled intervals by system id: {id: [[start, end|null], ...]} in years. The
   * shader tests one [start, end) pair per star, so a star settled more than once
   * gets, whenever the shown year changes, the pair that holds that year. */
  setSettlement(intervals) {
    const spans = new Float32Array(2 * this.tile.count).fill(FAR);
    this.resettled = [];
    let matched = 0;
    for (const [systemId, list] of Object.entries(intervals)) {
      const index = this.indexById.get(systemId);
      if (index === undefined || !Array.isArray(list)) continue;
      const pairs = list
        .filter((span) => Array.isArray(span) && Number.isFinite(Number(span[0])))
        .map((span) => [Number(span[0]), span[1] === null || span[1] === undefined ? FAR : Number(span[1])])
        .sort((a, b) => a[0] - b[0]);
      if (pairs.length === 0) continue;
      [spans[2 * index], spans[2 * index + 1]] = pairs[0];
      if (pairs.length > 1) this.resettled.push({ index, pairs });
      matched += 1;
    }
    this.replaceAttribute('settled', spans, 2);
    this.pickSettledSpans();
    return matched;
  }

  /** For each star settled more than once, put the span holding the shown year
   * (or, between spans, one that does not) into its `settled` pair. */
  pickSettledSpans() {
    if (!this.resettled || this.resettled.length === 0) return;
    const attribute = this.points.geometry.getAttribute('settled');
    for (const { index, pairs } of this.resettled) {
      const holding = pairs.find(([start, end]) => this.years >= start && this.years < end);
      [attribute.array[2 * index], attribute.array[2 * index + 1]] = holding || pairs[0];
    }
    attribute.needsUpdate = true;
  }

  setLabels(entries) {
    const count = this.tile.count;
    this.labels.setEntries(entries.filter((entry) => Array.isArray(entry)
      && Number.isInteger(entry[0]) && entry[0] >= 0 && entry[0] < count && typeof entry[1] === 'string'));
    this.dirty = true;
  }

  setYears(years) {
    this.years = years;
    this.pickSettledSpans();
    if (this.starUniforms) this.starUniforms.years.value = years;
    this.dirty = true;
  }

  setHighlight(mask) {
    this.highlight = mask;
    if (this.starUniforms) this.starUniforms.highlight.value = mask;
    this.dirty = true;
  }

  /** The rings in the Galactic plane and the line to the Galactic centre. */
  addGuides() {
    this.scene.add(new THREE.LineSegments(ringGeometry(), new THREE.LineBasicMaterial({
      vertexColors: true, transparent: true, opacity: 0.6, depthWrite: false,
    })));
    this.dirty = true;
  }

  makeMarker() {
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.Float32BufferAttribute([0, 0, 0], 3));
    this.markerUniforms = {
      size: { value: 30 },
      color: { value: new THREE.Color(0xffd27a) },
    };
    const marker = new THREE.Points(geometry, new THREE.ShaderMaterial({
      uniforms: this.markerUniforms,
      vertexShader: MARKER_VERTEX,
      fragmentShader: MARKER_FRAGMENT,
      transparent: true,
      depthTest: false,
      depthWrite: false,
    }));
    marker.frustumCulled = false;
    marker.renderOrder = 2;
    marker.visible = false;
    return marker;
  }

  /** CSS pixels per parsec for something 1 pc in front of the camera. */
  pixelsPerUnit() {
    const height = this.canvas.clientHeight || window.innerHeight;
    return height / (2 * Math.tan(THREE.MathUtils.degToRad(this.camera.fov) / 2));
  }

  resize() {
    const width = window.innerWidth;
    const height = window.innerHeight;
    const ratio = Math.min(window.devicePixelRatio || 1, 2);
    this.renderer.setPixelRatio(ratio);
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    if (this.starUniforms) {
      this.starUniforms.pixelsPerUnit.value = this.pixelsPerUnit() * ratio;
      this.starUniforms.pixelRatio.value = ratio;
    }
    this.markerUniforms.size.value = 30 * ratio;
    this.dirty = true;
  }

  has(systemId) {
    return this.indexById.has(systemId);
  }

  /** Where a star is at the shown time (its tile position moved by its velocity). */
  positionOf(index, target = new THREE.Vector3()) {
    const f = this.tile.floats;
    target.set(f[4 * index], f[4 * index + 1], f[4 * index + 2]);
    if (this.velocities && this.years !== 0) {
      const scale = VELOCITY_UNIT_KMS * PC_PER_YEAR_PER_KMS * this.years;
      const v = this.velocities;
      target.x += v[3 * index] * scale;
      target.y += v[3 * index + 1] * scale;
      target.z += v[3 * index + 2] * scale;
    }
    return target;
  }

  /** Mark a system's star and label it; false when the star is not in the tile. */
  select(systemId, name) {
    const index = this.indexById.has(systemId) ? this.indexById.get(systemId) : -1;
    this.selected = index;
    this.marker.visible = index >= 0;
    if (index >= 0) {
      this.positionOf(index, this.marker.position);
      this.label.textContent = name || systemId;
    }
    this.dirty = true;
    return index >= 0;
  }

  clearSelection() {
    this.select(null);
  }

  /** Glide the orbit centre to a system's star, ending a few parsecs from it. */
  flyTo(systemId) {
    const index = this.indexById.get(systemId);
    if (index === undefined) return;
    const toTarget = this.positionOf(index);
    const offset = this.camera.position.clone().sub(this.controls.target);
    offset.setLength(THREE.MathUtils.clamp(offset.length(), 2, 12));
    const reduce = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.canvas.dataset.flight = 'flying';
    this.flight = {
      start: performance.now(),
      duration: reduce ? 0 : FLIGHT_MS,
      fromTarget: this.controls.target.clone(),
      fromCamera: this.camera.position.clone(),
      toTarget,
      toCamera: toTarget.clone().add(offset),
    };
  }

  stepFlight(now) {
    const flight = this.flight;
    const t = flight.duration ? Math.min((now - flight.start) / flight.duration, 1) : 1;
    const eased = t < 0.5 ? 4 * t * t * t : 1 - (-2 * t + 2) ** 3 / 2;
    this.controls.target.lerpVectors(flight.fromTarget, flight.toTarget, eased);
    this.camera.position.lerpVectors(flight.fromCamera, flight.toCamera, eased);
    if (t >= 1) {
      this.flight = null;
      this.canvas.dataset.flight = 'arrived';
    }
  }

  /** Keyboard: arrows turn (shift-arrows pan), W A S D pan, + and - zoom. */
  onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const turns = { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    const pans = { w: [0, 1], s: [0, -1], a: [-1, 0], d: [1, 0] };
    if (turns[key] && !event.shiftKey) this.turn(...turns[key]);
    else if (turns[key]) this.pan(-turns[key][0], turns[key][1]);
    else if (pans[key]) this.pan(...pans[key]);
    else if (key === '+' || key === '=') this.zoom(KEY_ZOOM);
    else if (key === '-' || key === '_') this.zoom(1 / KEY_ZOOM);
    else return;
    event.preventDefault();
    this.flight = null;
    this.controls.update();
    this.dirty = true;
  }

  turn(left, up) {
    const target = this.controls.target;
    const offset = this.camera.position.clone().sub(target);
    offset.applyAxisAngle(this.camera.up, left * KEY_TURN_RAD);
    const polar = offset.angleTo(this.camera.up);
    const step = THREE.MathUtils.clamp(up * KEY_TURN_RAD, 0.05 - polar, Math.PI - 0.05 - polar);
    const axis = new THREE.Vector3().crossVectors(this.camera.up, offset).normalize();
    if (axis.lengthSq() > 0) offset.applyAxisAngle(axis, step);
    this.camera.position.copy(target).add(offset);
    this.camera.lookAt(target);
  }

  pan(right, up) {
    const distance = this.camera.position.distanceTo(this.controls.target);
    this.camera.updateMatrixWorld();
    const move = new THREE.Vector3().setFromMatrixColumn(this.camera.matrixWorld, 0)
      .multiplyScalar(right * distance * KEY_PAN_FRACTION)
      .add(new THREE.Vector3().setFromMatrixColumn(this.camera.matrixWorld, 1)
        .multiplyScalar(up * distance * KEY_PAN_FRACTION));
    this.camera.position.add(move);
    this.controls.target.add(move);
  }

  zoom(factor) {
    const target = this.controls.target;
    const offset = this.camera.position.clone().sub(target);
    const length = THREE.MathUtils.clamp(
      offset.length() * factor, this.controls.minDistance, this.controls.maxDistance,
    );
    this.camera.position.copy(target).add(offset.setLength(length));
  }

  frame(now) {
    if (this.flight) {
      this.stepFlight(now);
      this.dirty = true;
    }
    this.controls.update();
    if (!this.dirty) return;
    this.dirty = false;
    if (this.selected >= 0) this.positionOf(this.selected, this.marker.position);
    if (this.tile && !this.firstFrameDrawn) performance.mark('lb-first-draw-start');
    this.renderer.render(this.scene, this.camera);
    if (this.tile && !this.firstFrameDrawn) {
      this.firstFrameDrawn = true;
      performance.mark('lb-first-draw-issued');
      // Reading a pixel waits for the GPU: the mark is when the stars are drawn.
      const gl = this.renderer.getContext();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
      performance.mark('lb-first-frame');
      performance.measure('lb-first-render', { start: 0, end: 'lb-first-frame' });
      measureFirstRenderPhases();
      this.addGuides();
      this.onFirstFrame();
    }
    this.placeLabel();
    if (this.tile) this.labels.place(this);
    if (this.ids && this.firstFrameDrawn && !this.readyReported) {
      this.readyReported = true;
      this.onReady();
    }
  }

  placeLabel() {
    if (this.selected < 0 || !this.label.textContent) {
      this.label.hidden = true;
      return;
    }
    const ndc = this.positionOf(this.selected, this.scratch).project(this.camera);
    if (ndc.z < -1 || ndc.z > 1) {
      this.label.hidden = true;
      return;
    }
    const x = ((ndc.x + 1) / 2) * this.canvas.clientWidth;
    const y = ((1 - ndc.y) / 2) * this.canvas.clientHeight;
    this.label.style.transform = `translate(${Math.round(x + 18)}px, ${Math.round(y - 10)}px)`;
    this.label.hidden = false;
  }

  onClick(event) {
    const start = this.pointer;
    if (!this.tile || !this.ids || !start) return;
    if (Math.hypot(event.clientX - start.x, event.clientY - start.y) > 5) return;
    const index = this.pick(event.clientX, event.clientY);
    if (index >= 0) this.onPick(this.ids[index]);
  }

  /** The star under a screen point: cast a ray and take the star nearest to it
   * in screen pixels, relative to the star's drawn size. -1 when none is close. */
  pick(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(
      ((clientX - rect.left) / rect.width) * 2 - 1,
      -((clientY - rect.top) / rect.height) * 2 + 1,
    );
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(ndc, this.camera);
    const { origin, direction } = raycaster.ray;
    const pixelsPerUnit = this.pixelsPerUnit();
    const { bytes, count } = this.tile;
    const near = this.camera.near;
    const point = this.scratch;
    let best = -1;
    let bestScore = 1;
    for (let i = 0; i < count; i += 1) {
      this.positionOf(i, point);
      const dx = point.x - origin.x;
      const dy = point.y - origin.y;
      const dz = point.z - origin.z;
      const along = dx * direction.x + dy * direction.y + dz * direction.z;
      if (along <= near) continue;
      const across = Math.sqrt(Math.max(dx * dx + dy * dy + dz * dz - along * along, 0));
      const offPx = (across * pixelsPerUnit) / along;
      const brightness = bytes[STAR_BYTES * i + 15] / 255;
      const sizePx = starSizePx(brightness, along, pixelsPerUnit);
      const score = offPx / Math.max(PICK_RADIUS_PX, sizePx / 2);
      if (score < bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }
}

/* The steps to the first frame, as Performance API measures `lb-phase-<name>`
 * between the marks the client sets on the way (all on the page's main thread;
 * the tile's download and gzip decoding are in its Resource Timing entry).
 * 'gpu-draw' is the wait for the GPU (SwiftShader: the CPU) to finish the frame,
 * shader code generation included. */
const FIRST_RENDER_PHASES = [
  ['scripts', null, 'lb-script-start'], // page, three.js and app.js fetched and run
  ['context', 'lb-script-start', 'lb-context-ready'], // the WebGL 2 context
  ['renderer', 'lb-context-ready', 'lb-renderer-ready'], // three.js renderer set-up
  ['shader-warm', 'lb-renderer-ready', 'lb-shader-warmed'], // scene and shader compile
  ['tile-wait', 'lb-shader-warmed', 'lb-tile-loaded'], // the tile's bytes, if not here yet
  ['tile-parse', 'lb-tile-loaded', 'lb-tile-parsed'], // typed arrays over the bytes
  ['buffers', 'lb-tile-parsed', 'lb-stars-built'], // geometry and attributes
  ['draw-calls', 'lb-first-draw-start', 'lb-first-draw-issued'], // upload and draw calls
  ['gpu-draw', 'lb-first-draw-issued', 'lb-first-frame'], // until the pixels are there
];

function measureFirstRenderPhases() {
  for (const [name, start, end] of FIRST_RENDER_PHASES) {
    try {
      performance.measure(`lb-phase-${name}`, start ? { start, end } : { start: 0, end });
    } catch (error) {
      console.warn(`first-render phase ${name} not measured:`, error.message);
    }
  }
}

function starSizePx(brightness, depth, pixelsPerUnit) {
  const sizePc = STAR_SIZE.basePc + STAR_SIZE.gainPc * brightness * brightness;
  const floorPx = STAR_SIZE.minPx + STAR_SIZE.minGainPx * brightness;
  return Math.min(Math.max((sizePc * pixelsPerUnit) / depth, floorPx), STAR_SIZE.maxPx);
}

/* ------------------------------------------------------- layers, time, playback */

function formatYears(years) {
  if (years === 0) return 'Now';
  const amount = Math.abs(years).toLocaleString('en');
  return years > 0 ? `${amount} years from now` : `${amount} years ago`;
}

/** The newest succeeded settlement run of a build, or null. */
async function newestRun(apiUrl, buildId) {
  let cursor = null;
  for (let page = 0; page < 5; page += 1) {
    const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const body = await fetchOk(`${apiUrl}/sim/runs?${query}`).then((r) => r.json());
    const items = Array.isArray(body.items) ? body.items : [];
    const run = items.find((item) => item.state === 'succeeded' && item.build_id === buildId);
    if (run) return run; // the list is newest first
    cursor = body.next_cursor;
    if (!cursor) return null;
  }
  return null;
}

function checkPlayback(playback, runId) {
  const ok = playback && playback.format === 'playback-v1' && playback.run_id === runId
    && Number.isFinite(playback.tick_years) && Number.isFinite(playback.n_ticks)
    && playback.intervals && typeof playback.intervals === 'object';
  if (!ok) throw new Error(`run ${runId} sent a playback that is not playback-v1`);
  return playback;
}

/** Toggles, the time slider and the settlement playback, wired to a StarMap. */
class MapControls {
  constructor(map, config, elements) {
    Object.assign(this, elements);
    this.map = map;
    this.config = config;
    this.velocityLoad = null;
    this.playback = null;
    this.playing = null;
    this.root.hidden = false;
    for (const box of this.toggles) box.addEventListener('change', () => this.applyToggles());
    this.slider.addEventListener('input', () => this.setYears(Number(this.slider.value), true));
    this.nowButton.addEventListener('click', () => this.setYears(0, true));
    this.playButton.addEventListener('click', () => this.togglePlayback());
  }

  toggle(layer) {
    return this.toggles.find((box) => box.dataset.layer === layer);
  }

  applyToggles() {
    let mask = 0;
    for (const box of this.toggles) if (box.checked) mask |= FLAG[box.dataset.layer];
    this.map.setHighlight(mask);
    this.map.canvas.dataset.highlight = String(mask);
  }

  /** Flags and labels: small, fetched after the first frame. */
  async loadLayers() {
    const { flagsUrl, labelsUrl } = this.config;
    const tasks = [];
    if (flagsUrl) {
      tasks.push(fetchOk(flagsUrl).then((r) => r.arrayBuffer()).then((buffer) => {
        this.map.setFlags(new Uint8Array(buffer));
        for (const layer of ['known', 'inferred', 'habitable']) this.toggle(layer).disabled = false;
      }));
    }
    if (labelsUrl) {
      tasks.push(fetchOk(labelsUrl).then((r) => r.json()).then((labels) => {
        if (!Array.isArray(labels)) throw new Error('the label list is not a list');
        this.map.setLabels(labels);
      }));
    }
    const results = await Promise.allSettled(tasks);
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length) this.status.textContent = `Some map layers did not load: ${failed[0].reason.message}`;
    document.body.dataset.layersState = failed.length ? 'error' : 'ready';
  }

  /** The velocity tile, fetched the first time time moves. */
  loadVelocities() {
    if (!this.velocityLoad) {
      if (!this.config.velocityUrl) {
        this.velocityLoad = Promise.reject(new Error('this build has no velocity tile'));
      } else {
        this.readout.textContent = `${formatYears(this.map.years)} (loading star motions\u2026)`;
        this.velocityLoad = fetchOk(this.config.velocityUrl)
          .then((r) => r.arrayBuffer())
          .then((buffer) => {
            this.map.setVelocities(parseVelocities(buffer, this.map.tile.count));
            document.body.dataset.motionState = 'ready';
          });
      }
      this.velocityLoad.catch((error) => {
        this.status.textContent = `Star motions could not be loaded: ${error.message}`;
        document.body.dataset.motionState = 'error';
      }).finally(() => this.showTime());
    }
    return this.velocityLoad;
  }

  setYears(years, byUser) {
    if (byUser) this.stopPlayback();
    this.loadVelocities();
    this.map.setYears(years);
    if (Number(this.slider.value) !== years) this.slider.value = String(years);
    this.showTime();
  }

  showTime() {
    const years = this.map.years;
    const text = formatYears(years);
    this.slider.setAttribute('aria-valuetext', text);
    this.map.canvas.dataset.years = String(years);
    let settled = '';
    if (this.playback) {
      const counts = this.playback.settled_counts;
      const tick = Math.floor(years / this.playback.tick_years);
      if (Array.isArray(counts) && tick >= 0 && counts.length) {
        settled = ` \u00b7 ${counts[Math.min(tick, counts.length - 1)].toLocaleString('en')} systems settled`;
      }
    }
    const loading = this.velocityLoad && document.body.dataset.motionState !== 'ready'
      && document.body.dataset.motionState !== 'error';
    this.readout.textContent = text + settled + (loading ? ' (loading star motions\u2026)' : '');
  }

  /** Find the newest succeeded run of the build and fetch its playback. */
  async loadPlayback() {
    try {
      const run = await newestRun(this.config.apiUrl, this.config.buildId);
      if (!run) {
        this.playStatus.textContent = 'No settlement run for this build yet.';
        return;
      }
      const url = `${this.config.apiUrl}/sim/runs/${encodeURIComponent(run.run_id)}/playback`;
      const playback = checkPlayback(await fetchOk(url).then((r) => r.json()), run.run_id);
      this.playback = playback;
      const matched = this.map.setSettlement(playback.intervals);
      this.endYears = playback.tick_years * playback.n_ticks;
      if (this.endYears > Number(this.slider.max)) this.slider.max = String(this.endYears);
      this.toggle('settled').disabled = false;
      this.playButton.disabled = false;
      this.playStatus.textContent = `Settlement run ${run.run_id}: ${matched.toLocaleString('en')} systems `
        + `settled over ${this.endYears.toLocaleString('en')} years (seed ${playback.seed}).`;
      document.body.dataset.playbackState = 'ready';
    } catch (error) {
      this.playStatus.textContent = `The settlement playback could not be loaded: ${error.message}`;
      document.body.dataset.playbackState = 'error';
    }
  }

  togglePlayback() {
    if (this.playing) {
      this.stopPlayback();
      return;
    }
    const settled = this.toggle('settled');
    if (!settled.checked) {
      settled.checked = true;
      this.applyToggles();
    }
    const reduce = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    const from = this.map.years >= 0 && this.map.years < this.endYears ? this.map.years : 0;
    const started = performance.now() - (from / this.endYears) * PLAYBACK_MS;
    this.playButton.textContent = 'Pause settlement';
    this.playButton.setAttribute('aria-pressed', 'true');
    const step = (now) => {
      if (this.playing !== step) return;
      const fraction = reduce ? 1 : Math.min((now - started) / PLAYBACK_MS, 1);
      const tick = Math.round((fraction * this.endYears) / this.playback.tick_years);
      this.setYears(tick * this.playback.tick_years, false);
      if (fraction >= 1) this.stopPlayback();
      else requestAnimationFrame(step);
    };
    this.playing = step;
    requestAnimationFrame(step);
  }

  stopPlayback() {
    if (!this.playing) return;
    this.playing = null;
    this.playButton.textContent = 'Play settlement';
    this.playButton.setAttribute('aria-pressed', 'false');
  }
}

/* ----------------------------------------------------------------------- main */

function showMapMessage(text, state) {
  const message = document.getElementById('map-message');
  message.textContent = text;
  message.hidden = false;
  document.body.dataset.mapState = state;
}

function startMap(config) {
  const canvas = document.getElementById('star-map');
  const stats = document.getElementById('map-stats');
  const context = webgl2Context(canvas);
  performance.mark('lb-context-ready');
  if (!context) {
    canvas.hidden = true;
    showMapMessage(
      'This browser cannot draw the 3D star map (WebGL 2 is not available). '
        + 'Search still works: find a star to see its system.',
      'unavailable',
    );
    return null;
  }
  let map;
  try {
    map = new StarMap(
      canvas,
      context,
      document.getElementById('selection-label'),
      document.getElementById('map-labels'),
    );
  } catch (error) {
    canvas.hidden = true;
    showMapMessage(`The 3D star map could not start: ${error.message}`, 'unavailable');
    return null;
  }
  performance.mark('lb-map-created');
  map.onLost = () => showMapMessage(
    'The 3D star map stopped because the graphics context was lost. Reload the page to restart it.',
    'error',
  );
  const controls = new MapControls(map, config, {
    root: document.getElementById('map-controls'),
    toggles: [...document.querySelectorAll('#map-controls input[data-layer]')],
    slider: document.getElementById('time-slider'),
    readout: document.getElementById('time-readout'),
    nowButton: document.getElementById('time-now'),
    playButton: document.getElementById('playback-button'),
    playStatus: document.getElementById('playback-status'),
    status: document.getElementById('layers-status'),
  });
  map.onFirstFrame = () => {
    controls.loadLayers();
  };
  map.onReady = () => {
    document.body.dataset.mapState = 'ready';
    controls.loadPlayback();
  };
  // The page started reading the tile before this module arrived
  // (_early_start.html.j2).
  map.load(window.localBubbleEarly.tile, config.idsUrl).then((count) => {
    canvas.dataset.starCount = String(count);
    stats.textContent = `${count.toLocaleString('en')} stars \u00b7 build ${config.buildId}`;
  }).catch((error) => {
    showMapMessage(`The star map could not be loaded: ${error.message}`, 'error');
  });
  // For the browser console, the tests and the benchmarks: the running map.
  window.localBubble = { ...window.localBubble, map, controls };
  return map;
}

function main() {
  performance.mark('lb-script-start');
  const config = readConfig(document.body);
  const api = new Api(config);
  const map = startMap(config);
  const panel = new SystemPanel(
    document.getElementById('system-panel'),
    document.getElementById('system-content'),
    document.getElementById('panel-close'),
  );
  // The system panel too (its orbit drawing, for the tests), with or without a map.
  window.localBubble = { ...window.localBubble, panel };
  let current = null;

  async function openSystem(systemId, { name = '', fly = false } = {}) {
    if (current) current.controller.abort();
    const request = { systemId, controller: new AbortController() };
    current = request;
    panel.open(name);
    if (map) map.select(systemId, name);
    if (map && fly) map.flyTo(systemId);
    try {
      const system = await api.system(systemId, request.controller.signal);
      if (current !== request) return;
      panel.showSystem(system, { onMap: Boolean(map && map.has(systemId)) });
      if (map) map.select(systemId, system.name);
    } catch (error) {
      if (error.name === 'AbortError' || current !== request) return;
      panel.showError(name, error.message);
    }
  }

  panel.onClose = () => {
    if (current) current.controller.abort();
    current = null;
    if (map) map.clearSelection();
  };
  panel.onShowOnMap = () => {
    if (map && current) map.flyTo(current.systemId);
  };
  if (map) map.onPick = (systemId) => openSystem(systemId);
  // The search box is kept alive by its event listeners.
  new SearchBox({
    form: document.getElementById('search-form'),
    input: document.getElementById('search-input'),
    status: document.getElementById('search-status'),
    results: document.getElementById('search-results'),
  }, api, (item) => openSystem(item.system_id, { name: item.name, fly: true }));
}

main();
