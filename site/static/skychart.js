/**
 * The sky chart for browsers without WebGL: every star of the build's tile seen
 * from the Sun, on an Aitoff projection of Galactic coordinates, in 2D canvas.
 *
 * It waits until the page says the 3D map cannot run (`data-map-state` on the
 * body becomes "unavailable"), so it costs nothing where WebGL works. The tile
 * holds 16-byte records: x, y, z in parsecs (Galactic: x to the centre, z to the
 * north pole) as little-endian float32, then red, green, blue and brightness.
 */

const RECORD_BYTES = 16;

/** Aitoff projection of longitude and latitude (radians) to x in [-2, 2], y in [-1, 1]. */
export function aitoff(lon, lat) {
  const l = ((lon + Math.PI) % (2 * Math.PI) + 2 * Math.PI) % (2 * Math.PI) - Math.PI;
  const alpha = Math.acos(Math.cos(lat) * Math.cos(l / 2));
  const sincAlpha = alpha < 1e-9 ? 1 : Math.sin(alpha) / alpha;
  return [(2 * Math.cos(lat) * Math.sin(l / 2)) / sincAlpha, Math.sin(lat) / sincAlpha];
}

/** Galactic longitude and latitude (radians) of the stars in a tile. */
export function skyPositions(buffer) {
  if (buffer.byteLength % RECORD_BYTES) {
    throw new Error(`star tile is ${buffer.byteLength} bytes, not whole 16-byte records`);
  }
  const view = new DataView(buffer);
  const count = buffer.byteLength / RECORD_BYTES;
  const stars = [];
  for (let i = 0; i < count; i += 1) {
    const at = i * RECORD_BYTES;
    const x = view.getFloat32(at, true);
    const y = view.getFloat32(at + 4, true);
    const z = view.getFloat32(at + 8, true);
    const r = Math.hypot(x, y, z);
    if (!(r > 0)) continue; // the Sun itself sits at the origin
    stars.push({
      lon: Math.atan2(y, x),
      lat: Math.asin(z / r),
      rgb: [view.getUint8(at + 12), view.getUint8(at + 13), view.getUint8(at + 14)],
      brightness: view.getUint8(at + 15) / 255,
    });
  }
  // Faint first, so bright stars are drawn on top.
  return stars.sort((a, b) => a.brightness - b.brightness);
}

function drawChart(canvas, stars) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.fillStyle = '#04060d';
  g.fillRect(0, 0, width, height);
  const half = Math.min((width - 24) / 4, (height - 24) / 2);
  const [cx, cy] = [width / 2, height / 2];
  // The outline of the whole sky and the Galactic equator.
  g.strokeStyle = 'rgba(140, 170, 230, 0.35)';
  g.lineWidth = 1;
  g.beginPath();
  g.ellipse(cx, cy, 2 * half, half, 0, 0, 2 * Math.PI);
  g.moveTo(cx - 2 * half, cy);
  g.lineTo(cx + 2 * half, cy);
  g.stroke();
  for (const star of stars) {
    // Longitude grows to the left, as the sky is seen from inside.
    const [px, py] = aitoff(star.lon, star.lat);
    const size = 0.6 + 2.4 * star.brightness * star.brightness;
    const [r, gr, b] = star.rgb;
    g.fillStyle = `rgba(${r}, ${gr}, ${b}, ${0.35 + 0.65 * star.brightness})`;
    g.fillRect(cx - px * half - size / 2, cy - py * half - size / 2, size, size);
  }
  canvas.dataset.starsDrawn = String(stars.length);
}

/** The tile's bytes: the page's own early read of it (_early_start.html.j2), so
 * the tile is not downloaded twice, or a fetch where the page has none. */
async function tileBytes() {
  const early = window.localBubbleEarly;
  if (early && early.tile) return early.tile;
  const response = await fetch(document.body.dataset.starsUrl);
  if (!response.ok) throw new Error(`HTTP ${response.status} for the star tile`);
  return response.arrayBuffer();
}

async function showChart() {
  const canvas = document.getElementById('sky-chart');
  if (!canvas || canvas.dataset.state) return;
  canvas.dataset.state = 'loading';
  canvas.hidden = false;
  try {
    const stars = skyPositions(await tileBytes());
    drawChart(canvas, stars);
    canvas.dataset.state = 'ready';
    let pending = false;
    window.addEventListener('resize', () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; drawChart(canvas, stars); });
    });
  } catch (error) {
    canvas.hidden = true;
    canvas.dataset.state = 'error';
    const message = document.getElementById('map-message');
    if (message) message.append(` The 2D sky chart could not be drawn either: ${error.message}`);
  }
}

function watch() {
  const body = document.body;
  if (body.dataset.mapState === 'unavailable') {
    showChart();
    return;
  }
  const observer = new MutationObserver(() => {
    if (body.dataset.mapState === 'unavailable') {
      observer.disconnect();
      showChart();
    } else if (body.dataset.mapState === 'ready') {
      observer.disconnect();
    }
  });
  observer.observe(body, { attributes: true, attributeFilter: ['data-map-state'] });
}

watch();
