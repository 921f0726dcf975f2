/**
 * Local Bubble client: a WebGL map of every star in one world build, a search
 * box and a system panel. The page's <body> carries the configuration (API base
 * URL, build id, tile URLs) rendered by the site build.
 *
 * The star tile is 16 bytes a star, little-endian: float32 x, y, z in parsecs
 * (Galactic: x to the centre, y to l = 90 deg, z to the north pole), then uint8
 * red, green, blue and brightness. It is handed to WebGL as is, in one buffer.
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
    starsUrl: data.starsUrl,
    idsUrl: data.idsUrl,
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
    closeButton.addEventListener('click', () => this.close());
    root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.close();
    });
  }

  open(title) {
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
        if (details.isConnected) renderSystemView(details, system);
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
    this.onClose();
    if (this.returnFocus && this.returnFocus.isConnected) this.returnFocus.focus();
    this.returnFocus = null;
  }
}

/* ------------------------------------------------------------------- star map */

const glsl = (value) => Number(value).toFixed(4);

const STAR_VERTEX = /* glsl */ `
  attribute vec3 starColor;
  attribute float brightness;
  uniform float pixelsPerUnit;
  uniform float pixelRatio;
  varying vec3 vColor;
  varying float vAlpha;
  varying float vSize;
  void main() {
    vec4 mvPosition = modelViewMatrix * vec4(position, 1.0);
    float depth = max(-mvPosition.z, 1e-4);
    float sizePc = ${glsl(STAR_SIZE.basePc)} + ${glsl(STAR_SIZE.gainPc)} * brightness * brightness;
    float floorPx = ${glsl(STAR_SIZE.minPx)} + ${glsl(STAR_SIZE.minGainPx)} * brightness;
    float sizePx = max(sizePc * pixelsPerUnit / depth, floorPx * pixelRatio);
    vSize = min(sizePx, ${glsl(STAR_SIZE.maxPx)} * pixelRatio);
    gl_PointSize = vSize;
    vColor = starColor;
    // Nearer stars look brighter: fade with the log of the distance, as apparent
    // magnitude does, but gently, so the far ones still outline the neighbourhood.
    float fade = clamp(1.5 - 0.5 * log(depth) / log(10.0), 0.18, 1.0);
    vAlpha = (0.3 + 0.7 * brightness) * fade;
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

function webgl2Available() {
  try {
    const context = document.createElement('canvas').getContext('webgl2');
    if (!context) return false;
    const loser = context.getExtension('WEBGL_lose_context');
    if (loser) loser.loseContext();
    return true;
  } catch {
    return false;
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

async function fetchOk(url) {
  const response = await fetch(url);
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

/** The WebGL star map: one THREE.Points for every star, orbit controls, picking. */
class StarMap {
  constructor(canvas, label) {
    this.canvas = canvas;
    this.label = label;
    this.onPick = () => {};
    this.onReady = () => {};
    this.tile = null;
    this.ids = [];
    this.indexById = new Map();
    this.selected = -1;
    this.flight = null;
    this.dirty = true;
    this.readyReported = false;
    this.pointer = null;
    this.scratch = new THREE.Vector3();
    this.onLost = () => {};

    this.renderer = new THREE.WebGLRenderer({
      canvas,
      antialias: false,
      // Keeps the last frame readable (canvas.toDataURL, tests) between renders.
      preserveDrawingBuffer: true,
    });
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
    this.controls.listenToKeyEvents(canvas);
    this.controls.addEventListener('start', () => { this.flight = null; });
    this.controls.addEventListener('change', () => { this.dirty = true; });
    this.controls.update();

    this.scene.add(new THREE.LineSegments(ringGeometry(), new THREE.LineBasicMaterial({
      vertexColors: true, transparent: true, opacity: 0.6, depthWrite: false,
    })));
    this.marker = this.makeMarker();
    this.scene.add(this.marker);

    this.resize();
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

  async load(starsUrl, idsUrl) {
    const [buffer, ids] = await Promise.all([
      fetchOk(starsUrl).then((response) => response.arrayBuffer()),
      fetchOk(idsUrl).then((response) => response.json()),
    ]);
    const tile = parseTile(buffer);
    if (!Array.isArray(ids) || ids.length !== tile.count) {
      const named = Array.isArray(ids) ? ids.length : 'no';
      throw new Error(`the tile has ${tile.count} stars but ${named} ids`);
    }
    this.tile = tile;
    this.ids = ids;
    ids.forEach((id, index) => this.indexById.set(id, index));
    this.scene.add(this.makeStars(tile));
    this.dirty = true;
    return tile.count;
  }

  makeStars(tile) {
    const geometry = new THREE.BufferGeometry();
    const positions = new THREE.InterleavedBuffer(tile.floats, STAR_BYTES / 4);
    const bytes = new THREE.InterleavedBuffer(tile.bytes, STAR_BYTES);
    geometry.setAttribute('position', new THREE.InterleavedBufferAttribute(positions, 3, 0));
    geometry.setAttribute('starColor', new THREE.InterleavedBufferAttribute(bytes, 3, 12, true));
    geometry.setAttribute('brightness', new THREE.InterleavedBufferAttribute(bytes, 1, 15, true));
    this.starUniforms = {
      pixelsPerUnit: { value: this.pixelsPerUnit() * this.renderer.getPixelRatio() },
      pixelRatio: { value: this.renderer.getPixelRatio() },
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
    const points = new THREE.Points(geometry, material);
    points.frustumCulled = false;
    points.renderOrder = 1;
    return points;
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

  positionOf(index, target = new THREE.Vector3()) {
    const f = this.tile.floats;
    return target.set(f[4 * index], f[4 * index + 1], f[4 * index + 2]);
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
    if (t >= 1) this.flight = null;
  }

  frame(now) {
    if (this.flight) {
      this.stepFlight(now);
      this.dirty = true;
    }
    this.controls.update();
    if (!this.dirty) return;
    this.dirty = false;
    this.renderer.render(this.scene, this.camera);
    this.placeLabel();
    if (this.tile && !this.readyReported) {
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
    if (!this.tile || !start) return;
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
    const { floats, bytes, count } = this.tile;
    const near = this.camera.near;
    let best = -1;
    let bestScore = 1;
    for (let i = 0; i < count; i += 1) {
      const dx = floats[4 * i] - origin.x;
      const dy = floats[4 * i + 1] - origin.y;
      const dz = floats[4 * i + 2] - origin.z;
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

function starSizePx(brightness, depth, pixelsPerUnit) {
  const sizePc = STAR_SIZE.basePc + STAR_SIZE.gainPc * brightness * brightness;
  const floorPx = STAR_SIZE.minPx + STAR_SIZE.minGainPx * brightness;
  return Math.min(Math.max((sizePc * pixelsPerUnit) / depth, floorPx), STAR_SIZE.maxPx);
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
  if (!webgl2Available()) {
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
    map = new StarMap(canvas, document.getElementById('selection-label'));
  } catch (error) {
    canvas.hidden = true;
    showMapMessage(`The 3D star map could not start: ${error.message}`, 'unavailable');
    return null;
  }
  map.onLost = () => showMapMessage(
    'The 3D star map stopped because the graphics context was lost. Reload the page to restart it.',
    'error',
  );
  map.onReady = () => { document.body.dataset.mapState = 'ready'; };
  map.load(config.starsUrl, config.idsUrl).then((count) => {
    canvas.dataset.starCount = String(count);
    stats.textContent = `${count.toLocaleString('en')} stars \u00b7 build ${config.buildId}`;
  }).catch((error) => {
    showMapMessage(`The star map could not be loaded: ${error.message}`, 'error');
  });
  return map;
}

function main() {
  const config = readConfig(document.body);
  const api = new Api(config);
  const map = startMap(config);
  const panel = new SystemPanel(
    document.getElementById('system-panel'),
    document.getElementById('system-content'),
    document.getElementById('panel-close'),
  );
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
