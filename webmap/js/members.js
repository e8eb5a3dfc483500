// Team members on the command centre map: the initial layer from GET /members, then live 'position'
// events (moves and availability changes), coloured by availability.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson } from './api.js';
import { escapeHtml, t } from './i18n.js';
import './texts-command.js';

export const STATUS_COLOURS = { available: '#1a9850', en_route: '#fdae61', on_scene: '#d73027', off_duty: '#999999' };

function styleOf(status) {
  return {
    radius: 5, color: '#222', weight: 1, fillOpacity: 1, fillColor: STATUS_COLOURS[status] ?? '#4575b4',
    className: `wg-member wg-member-${status ?? 'unknown'}`,
  };
}

export class MemberLayer {
  constructor() {
    this.layer = L.layerGroup();
    this.markers = new Map();
    this.names = new Map();
  }

  // Everyone homed in the caller's area with a known position (operators only; others see live moves)
  async load(me) {
    if (!me.may_read_team) return 0;
    const page = await getJson('/members', { scope: me.scope_code });
    page.items.forEach((member) => {
      this.names.set(member.id, member.name);
      // a live event may have arrived while the list loaded: it is newer, keep it
      if (!this.markers.has(member.id)) this.place(member.id, member.lon, member.lat, member.status);
    });
    return page.count;
  }

  onEvent(event) {
    if (event.kind !== 'position' || !event.data) return;
    const { member_id: id, lon, lat, status } = event.data;
    this.place(id, lon, lat, status);
  }

  place(id, lon, lat, status) {
    let marker = this.markers.get(id);
    const known = lon !== null && lon !== undefined && lat !== null && lat !== undefined;
    if (!marker) {
      if (!known) return; // no position yet: nothing to draw until the first fix
      marker = L.circleMarker([lat, lon], styleOf(status)).addTo(this.layer);
      this.markers.set(id, marker);
    } else {
      if (known) marker.setLatLng([lat, lon]);
      marker.setStyle(styleOf(status));
    }
    const name = this.names.get(id) ?? `${t('role.grid_worker')} ${id}`;
    marker.bindTooltip(`${escapeHtml(name)} · ${status ? t(`member.${status}`) : ''}`);
  }

  get count() {
    return this.markers.size;
  }
}
