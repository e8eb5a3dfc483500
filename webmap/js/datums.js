// WGS-84 <-> GCJ-02 for display only (the server's gis_api/loaders/chinese_datums.py is the
// reference; tests/browser compare the two on sample points to well under 0.5 m). GCJ-02 tiles
// (Amap) are drawn about 500 m off WGS-84 around Wuhan: basemap.js shifts them by this offset.
const A = 6378245.0; // Krasovsky 1940 semi-major axis used by the obfuscation
const EE = 0.00669342162296594323; // its first eccentricity squared
const TOLERANCE_DEG = 1e-10;
const MAX_ITERATIONS = 30;

export function outOfChina(lon, lat) {
  return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
}

function offset(lon, lat) {
  const x = lon - 105.0;
  const y = lat - 35.0;
  const shared = ((20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0) / 3.0;
  let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  dlat += shared + ((20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin((y / 3.0) * Math.PI)) * 2.0) / 3.0;
  dlat += ((160.0 * Math.sin((y / 12.0) * Math.PI) + 320.0 * Math.sin((y * Math.PI) / 30.0)) * 2.0) / 3.0;
  let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  dlon += shared + ((20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin((x / 3.0) * Math.PI)) * 2.0) / 3.0;
  dlon += ((150.0 * Math.sin((x / 12.0) * Math.PI) + 300.0 * Math.sin((x / 30.0) * Math.PI)) * 2.0) / 3.0;
  const radians = (lat / 180.0) * Math.PI;
  const magic = 1.0 - EE * Math.sin(radians) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dlat = (dlat * 180.0) / (((A * (1.0 - EE)) / (magic * sqrtMagic)) * Math.PI);
  dlon = (dlon * 180.0) / ((A / sqrtMagic) * Math.cos(radians) * Math.PI);
  return [dlon, dlat];
}

// [lon, lat] in GCJ-02 of a WGS-84 point (unchanged outside China, as everywhere else).
export function wgs84ToGcj02(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  const [dlon, dlat] = offset(lon, lat);
  return [lon + dlon, lat + dlat];
}

// [lon, lat] in WGS-84 of a GCJ-02 point: fixed-point iteration, as the server does.
export function gcj02ToWgs84(lon, lat) {
  let [x, y] = [lon, lat];
  for (let i = 0; i < MAX_ITERATIONS; i += 1) {
    const [fx, fy] = wgs84ToGcj02(x, y);
    const [ex, ey] = [fx - lon, fy - lat];
    x -= ex;
    y -= ey;
    if (Math.max(Math.abs(ex), Math.abs(ey)) < TOLERANCE_DEG) break;
  }
  return [x, y];
}
