// Team members' live positions from 'position' events, coloured by availability.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { t } from './i18n.js';

const STATUS_COLOURS = { available: '#1a9850', en_route: '#fdae61', on_scene: '#d73027', off_duty: '#999999' };

export class MemberLayer {
  constructor() {
    this.layer = L.layerGroup();
    this.markers = new Map();
  }

  onEvent(event) {
    if (event.kind !== 'position' || !event.data) return;
    const { member_id: id, lon, lat, status } = event.data;
    const style = {
      radius: 5, color: '#222', weight: 1, fillOpacity: 1, fillColor: STATUS_COLOURS[status] ?? '#4575b4',
      className: `wg-member wg-member-${status ?? 'unknown'}`,
    };
    let marker = this.markers.get(id);
    if (!marker) {
      marker = L.circleMarker([lat, lon], style).addTo(this.layer);
      this.markers.set(id, marker);
    } else {
      marker.setLatLng([lat, lon]).setStyle(style);
    }
    marker.bindTooltip(`${t('role.grid_worker')} ${id} · ${status ?? ''}`);
  }

  get count() {
    return this.markers.size;
  }
}
