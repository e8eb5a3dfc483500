// "Navigate" links handing a destination to Amap or Baidu Maps: their web URLs open the installed
// app on a phone (Amap with callnative=1; Baidu offers it), the web map otherwise. Coordinates are
// converted to the datum each expects: GCJ-02 for Amap, BD-09 for Baidu.
import { wgs84ToBd09, wgs84ToGcj02 } from './datums.js';

const SOURCE = 'wangge.field';
const fixed = (value) => value.toFixed(6);

export function amapUrl(lon, lat, name) {
  const [x, y] = wgs84ToGcj02(lon, lat);
  const url = new URL('https://uri.amap.com/navigation');
  url.searchParams.set('to', `${fixed(x)},${fixed(y)},${name}`);
  url.searchParams.set('mode', 'ride');
  url.searchParams.set('coordinate', 'gaode');
  url.searchParams.set('callnative', '1');
  url.searchParams.set('src', SOURCE);
  return url.toString();
}

// Baidu's direction page needs an origin: my position when known, else the place's marker page
export function baiduUrl(lon, lat, name, from = null) {
  const [x, y] = wgs84ToBd09(lon, lat);
  const destination = `latlng:${fixed(y)},${fixed(x)}|name:${name}`;
  if (!from) {
    const url = new URL('https://api.map.baidu.com/marker');
    url.searchParams.set('location', `${fixed(y)},${fixed(x)}`);
    Object.entries({ title: name, content: name, output: 'html', coord_type: 'bd09ll', src: SOURCE })
      .forEach(([key, value]) => url.searchParams.set(key, value));
    return url.toString();
  }
  const [ox, oy] = wgs84ToBd09(from.lon, from.lat);
  const url = new URL('https://api.map.baidu.com/direction');
  url.searchParams.set('origin', `latlng:${fixed(oy)},${fixed(ox)}|name:我的位置`);
  url.searchParams.set('destination', destination);
  Object.entries({ mode: 'riding', coord_type: 'bd09ll', output: 'html', src: SOURCE })
    .forEach(([key, value]) => url.searchParams.set(key, value));
  return url.toString();
}
