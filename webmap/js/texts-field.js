// Texts of the field app's offline, navigation and visit features and of the planner's report button.
import { addTexts } from './i18n.js';

addTexts({
  zh: {
    'field.nav_amap': '高德导航', 'field.nav_baidu': '百度导航',
    'field.cached_at': '离线：显示 {at} 缓存的任务列表', 'field.nothing_cached': '离线：本机没有缓存的任务列表',
    'field.geo_denied': '定位权限被拒绝：无法显示路线和到达时间、上报位置或附近住户。请在浏览器的网站设置中允许本站使用位置信息，然后刷新页面。',
    'field.geo_unavailable': '暂时无法定位（没有卫星或网络信号）：到开阔处稍候，定位恢复后会自动更新。',
    'field.geo_timeout': '定位超时：请确认手机已打开定位服务，定位恢复后会自动更新。',
    'field.geo_unsupported': '此浏览器不支持定位：路线、到达时间和附近住户不可用。',
    'visit.nearby': '附近住户', 'visit.scan': '扫描门牌二维码', 'visit.code': '门牌码', 'visit.use_code': '确定',
    'visit.none_chosen': '未选择住户：请从附近住户中选择，或扫描/输入门牌码', 'visit.chosen': '已选择：{label}',
    'visit.household': '住户 {id}', 'visit.building': '楼栋 {id}', 'visit.no_door': '无门牌',
    'visit.none_nearby': '附近 150 米内没有本网格的住户', 'visit.offline_nearby': '离线时无法查询附近住户，请扫描或输入门牌码',
    'visit.code_format': '门牌码格式应为 住户编号-校验码，例如 123456-20', 'visit.code_check': '门牌码校验不通过：请检查是否输错',
    'visit.camera_denied': '无法使用相机：请输入门牌码', 'visit.pick_first': '请先选择住户',
    'planner.report': '生成方案 B 报告', 'planner.report_building': '正在生成方案报告（大型方案约需十几秒）…',
    'planner.report_ready': '报告已生成（用时 {s} 秒）', 'planner.report_cached': '报告已生成（使用缓存）',
    'planner.report_open': '打开报告', 'planner.report_only': '仅规划人员和管理员可生成报告',
  },
  en: {
    'field.nav_amap': 'Amap navigation', 'field.nav_baidu': 'Baidu navigation',
    'field.cached_at': 'Offline: assignments as cached at {at}', 'field.nothing_cached': 'Offline: no assignments cached on this phone',
    'field.geo_denied': 'Location permission refused: no route, ETA, report position or nearby households. Allow this site to use your location in the browser\'s site settings, then reload.',
    'field.geo_unavailable': 'No position yet (no satellite or network fix): move into the open and wait; it updates by itself.',
    'field.geo_timeout': 'Locating timed out: check that location services are on; it updates by itself.',
    'field.geo_unsupported': 'This browser cannot locate: no route, ETA or nearby households.',
    'visit.nearby': 'Nearby households', 'visit.scan': 'Scan door QR code', 'visit.code': 'Door code', 'visit.use_code': 'Use',
    'visit.none_chosen': 'No household chosen: pick one nearby, or scan or type its door code', 'visit.chosen': 'Chosen: {label}',
    'visit.household': 'Household {id}', 'visit.building': 'Building {id}', 'visit.no_door': 'no door label',
    'visit.none_nearby': 'No household of your grid within 150 m', 'visit.offline_nearby': 'Nearby households need the network: scan or type the door code',
    'visit.code_format': 'A door code looks like household-check, e.g. 123456-20', 'visit.code_check': 'The door code does not check: mistyped?',
    'visit.camera_denied': 'The camera is not available: type the door code', 'visit.pick_first': 'Pick a household first',
    'planner.report': 'Build plan B report', 'planner.report_building': 'Building the plan report (some seconds for a large plan)…',
    'planner.report_ready': 'Report ready (built in {s} s)', 'planner.report_cached': 'Report ready (cached)',
    'planner.report_open': 'Open the report', 'planner.report_only': 'Only planners and admins can build reports',
  },
});
