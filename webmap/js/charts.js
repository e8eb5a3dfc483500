// Two small SVG charts for the wall screen (no library): grouped bars and a line of rates.
const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 740;
const HEIGHT = 150;
const PAD = { left: 36, right: 8, top: 10, bottom: 22 };

function svg() {
  const root = document.createElementNS(NS, 'svg');
  root.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  root.setAttribute('preserveAspectRatio', 'none');
  return root;
}

function add(parent, name, attributes, text) {
  const element = document.createElementNS(NS, name);
  Object.entries(attributes).forEach(([key, value]) => element.setAttribute(key, String(value)));
  if (text !== undefined) element.textContent = text;
  parent.append(element);
  return element;
}

function axes(root, maxLabel, labels, every) {
  const bottom = HEIGHT - PAD.bottom;
  add(root, 'line', { x1: PAD.left, y1: bottom, x2: WIDTH - PAD.right, y2: bottom, class: 'axis' });
  add(root, 'text', { x: 2, y: PAD.top + 10 }, maxLabel);
  add(root, 'text', { x: 2, y: bottom }, '0');
  const step = (WIDTH - PAD.left - PAD.right) / labels.length;
  labels.forEach((label, i) => {
    if (i % every === 0) add(root, 'text', { x: PAD.left + i * step + 2, y: HEIGHT - 6 }, label);
  });
  return step;
}

// series: [{ name, values, className }], labels one per slot; every: label every n-th slot
export function barChart(container, series, labels, every = 3) {
  const root = svg();
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const step = axes(root, String(max), labels, every);
  const height = HEIGHT - PAD.top - PAD.bottom;
  const width = (step * 0.8) / series.length;
  series.forEach((s, k) => s.values.forEach((value, i) => {
    const h = (value / max) * height;
    const rect = add(root, 'rect', {
      x: PAD.left + i * step + step * 0.1 + k * width, y: HEIGHT - PAD.bottom - h, width, height: h, class: s.className,
    });
    add(rect, 'title', {}, `${labels[i]} ${s.name} ${value}`);
  }));
  container.replaceChildren(root);
  container.dataset.total = String(series[0].values.reduce((a, b) => a + b, 0));
}

// values in 0..1 (or null: no point), drawn as a percentage line
export function rateChart(container, values, labels, every = 2) {
  const root = svg();
  const step = axes(root, '100%', labels, every);
  const height = HEIGHT - PAD.top - PAD.bottom;
  const points = values.map((v, i) => (v === null ? null : [PAD.left + (i + 0.5) * step, HEIGHT - PAD.bottom - v * height]));
  const drawn = points.filter(Boolean);
  if (drawn.length) add(root, 'polyline', { points: drawn.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' '), class: 'line' });
  points.forEach((p, i) => {
    if (!p) return;
    const dot = add(root, 'circle', { cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: 3.5, class: 'dot' });
    add(dot, 'title', {}, `${labels[i]} ${(values[i] * 100).toFixed(1)}%`);
  });
  container.replaceChildren(root);
  container.dataset.points = String(drawn.length);
}
