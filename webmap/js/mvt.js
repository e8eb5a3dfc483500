// A small Mapbox Vector Tile (protobuf) decoder: layers → features with id, type, properties and
// geometry as rings/lines/points in tile coordinates (0..extent). Spec: github.com/mapbox/vector-tile-spec
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.pos = 0;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  varint() {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = this.bytes[this.pos++];
      result += (byte & 0x7f) * 2 ** shift; // no bitwise ops: ids may exceed 32 bits
      if (byte < 0x80) return result;
      shift += 7;
    }
  }

  // each field: [number, wireType, value]; length-delimited values are sub-arrays
  *fields() {
    while (this.pos < this.bytes.length) {
      const key = this.varint();
      const number = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) yield [number, wire, this.varint()];
      else if (wire === 2) {
        const size = this.varint();
        yield [number, wire, this.bytes.subarray(this.pos, this.pos + size)];
        this.pos += size;
      } else if (wire === 1) { yield [number, wire, this.view.getFloat64(this.pos, true)]; this.pos += 8; }
      else if (wire === 5) { yield [number, wire, this.view.getFloat32(this.pos, true)]; this.pos += 4; }
      else throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

function packed(bytes) {
  const reader = new Reader(bytes);
  const values = [];
  while (reader.pos < bytes.length) values.push(reader.varint());
  return values;
}

const zigzag = (n) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);
const utf8 = new TextDecoder();

function decodeValue(bytes) {
  for (const [number, , value] of new Reader(bytes).fields()) {
    if (number === 1) return utf8.decode(value);
    if (number === 2 || number === 3 || number === 4 || number === 5) return value;
    if (number === 6) return zigzag(value);
    if (number === 7) return Boolean(value);
  }
  return null;
}

// MoveTo (1) starts a part, LineTo (2) extends it, ClosePath (7) ends a ring
function decodeGeometry(commands) {
  const parts = [];
  let part = null;
  let x = 0;
  let y = 0;
  for (let i = 0; i < commands.length;) {
    const command = commands[i] & 7;
    const count = Math.floor(commands[i] / 8);
    i += 1;
    if (command === 7) { if (part && part.length) part.push(part[0]); continue; }
    for (let n = 0; n < count; n += 1) {
      x += zigzag(commands[i]);
      y += zigzag(commands[i + 1]);
      i += 2;
      if (command === 1) { part = []; parts.push(part); }
      part.push([x, y]);
    }
  }
  return parts;
}

const TYPES = { 1: 'Point', 2: 'LineString', 3: 'Polygon' };

function decodeLayer(bytes) {
  const layer = { name: '', extent: 4096, features: [] };
  const keys = [];
  const values = [];
  const rawFeatures = [];
  for (const [number, , value] of new Reader(bytes).fields()) {
    if (number === 1) layer.name = utf8.decode(value);
    else if (number === 2) rawFeatures.push(value);
    else if (number === 3) keys.push(utf8.decode(value));
    else if (number === 4) values.push(decodeValue(value));
    else if (number === 5) layer.extent = value;
  }
  for (const raw of rawFeatures) {
    const feature = { id: null, type: 'Unknown', properties: {}, geometry: [] };
    for (const [number, , value] of new Reader(raw).fields()) {
      if (number === 1) feature.id = value;
      else if (number === 2) {
        const tags = packed(value);
        for (let i = 0; i < tags.length; i += 2) feature.properties[keys[tags[i]]] = values[tags[i + 1]];
      } else if (number === 3) feature.type = TYPES[value] ?? 'Unknown';
      else if (number === 4) feature.geometry = decodeGeometry(packed(value));
    }
    layer.features.push(feature);
  }
  return layer;
}

// bytes: Uint8Array of one tile; returns { layerName: { name, extent, features } }
export function decodeTile(bytes) {
  const layers = {};
  for (const [number, , value] of new Reader(bytes).fields()) {
    if (number === 3) {
      const layer = decodeLayer(value);
      layers[layer.name] = layer;
    }
  }
  return layers;
}
