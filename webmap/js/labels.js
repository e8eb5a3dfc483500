// Chinese labels for roles and layers, in one place.
export const ROLE_NAMES = {
  admin: '管理员',
  district_operator: '区级操作员',
  street_operator: '街道操作员',
  community_operator: '社区操作员',
  grid_worker: '网格员',
  planner: '规划人员',
};

export const LAYER_NAMES = {
  streets: '街道',
  communities: '社区',
  grids: '网格',
  households: '住户',
  basemap: '底图',
};

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}
