// China's offset datums in the browser, the one JS port of gis_api/loaders/chinese_datums.py (the
// reference; tests/browser/test_basemaps.py compares the two on sample points to 1e-9°):
// WGS-84 → GCJ-02 (Amap) → BD-09 (Baidu), and GCJ-02 → WGS-84 by fixed-point iteration.
// Display and hand-over only, every stored coordinate stays WGS-84: basemap.js places GCJ-02 tiles
// (Amap, about 500 m off around Wuhan) where they belong and the coordinate readout shows GCJ-02;
// navigate.js hands a destination to Amap / Baidu navigation in their own datum.
const KRASOVSKY_A = 6378245.0; // Krasovsky 1940 semi-major axis used by the obfuscation
const KRASOVSKY_EE = 0.00669342162296594323; // its first eccentricity squared
const BAIDU_FACTOR = (Math.PI * 3000.0) / 180.0;
const CHINA_LON = [72.004, 137.8347];
const CHINA_LAT = [0.8293, 55.8271];
const TOLERANCE_DEG = 1e-10;
const MAX_ITERATIONS = 30;

export function outOfChina(lon, lat) {
  return lon < CHINA_LON[0] || lon > CHINA_LON[1] || lat < CHINA_LAT[0] || lat > CHINA_LAT[1];
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
  const magic = 1.0 - KRASOVSKY_EE * Math.sin(radians) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  dlat = (dlat * 180.0) / (((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrtMagic)) * Math.PI);
  dlon = (dlon * 180.0) / ((KRASOVSKY_A / sqrtMagic) * Math.cos(radians) * Math.PI);
  return [dlon, dlat];
}

// [lon, lat] in GCJ-02 of a WGS-84 point (unchanged outside China, as every reference implementation does)
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

// [lon, lat] in BD-09 from GCJ-02 (Baidu's rotation and shift, applied everywhere)
export function gcj02ToBd09(lon, lat) {
  const radius = Math.hypot(lon, lat) + 0.00002 * Math.sin(lat * BAIDU_FACTOR);
  const theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * BAIDU_FACTOR);
  return [radius * Math.cos(theta) + 0.0065, radius * Math.sin(theta) + 0.006];
}

export function wgs84ToBd09(lon, lat) {
  return gcj02ToBd09(...wgs84ToGcj02(lon, lat));
}
