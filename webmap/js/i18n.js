// Interface texts in Simplified Chinese (default) and English; t('key', {name}) fills {name}.
const TEXTS = {
  zh: {
    'app.command': '网格化指挥中心', 'app.command_of': '{area}网格化指挥中心', 'app.planner': '网格规划',
    'app.planner_of': '{area}网格规划', 'app.field': '网格员', 'app.field_of': '{area}网格员',
    'notice.demo': '演示数据', 'notice.demo_detail': '{names}的街道、社区或住户为合成的演示数据',
    'nav.command': '指挥中心', 'nav.planner': '规划', 'nav.field': '移动端', 'lang.switch': 'English',
    'login.title': '登录', 'login.username': '用户名', 'login.password': '密码', 'login.submit': '登录',
    'login.failed': '登录失败：{reason}', 'login.bad': '用户名或密码错误', logout: '退出',
    'role.admin': '管理员', 'role.city_operator': '市级操作员', 'role.district_operator': '区级操作员', 'role.street_operator': '街道操作员',
    'role.community_operator': '社区操作员', 'role.grid_worker': '网格员', 'role.planner': '规划人员',
    'layer.streets': '街道', 'layer.communities': '社区', 'layer.grids': '网格', 'layer.households': '住户',
    'layer.incidents': '事件', 'layer.members': '人员位置', 'layer.basemap': '底图', 'layer.moved': '变动住户', 'layer.roads': '道路', 'layer.heat': '事件热力',
    'heat.title': '事件热力图', 'heat.days': '近 {n} 天', 'heat.count': '{n} 件', 'heat.off': '关闭',
    'scope.label': '范围', 'scope.district': '全区', households: '户数', residents: '人数', code: '代码',
    'households.building': '楼栋 {id}', 'households.one': '住户 {id}', 'households.zoom': '放大到 14 级以显示住户',
    'count.open': '未结案', 'count.overdue': '超期', 'count.closed_today': '今日结案', 'count.members': '在线人员',
    'cases.title': '案件', 'cases.none': '暂无案件', 'cases.all': '全部', 'cases.overdue_only': '仅超期',
    'cases.unavailable': '案件服务暂不可用', 'case.timeline': '处置过程', 'case.explanation': '派遣说明',
    'case.chosen': '选派', 'case.eta': '预计到达', 'case.minutes': '{n} 分钟', 'case.straight': '直线 {m} 米',
    'case.straight_differs': '按直线距离会选派 {id}（与道路用时结果不同）',
    'case.straight_same': '按直线距离选派结果相同', 'case.candidates': '候选人 {n} 名',
    'case.deadline_uncertain': '期限待定', 'case.deadline_uncertain_hint': '期限超出工作日历覆盖的年份，节假日未知，仅按工作日估算',
    'calendar.ending': '工作日历只覆盖到 {date}（还剩 {n} 天）：请导入 {year} 年国务院节假日安排（wangge calendar import）。',
    'calendar.ended': '工作日历已于 {date} 到期：此后的节假日未知，期限仅按工作日估算并标为“期限待定”。请导入新一年的国务院节假日安排（wangge calendar import）。',
    'case.overdue': '超期', 'case.supervised': '督办', 'case.grid': '网格', 'case.assigned': '处置人',
    'case.note': '备注', 'case.done': '已提交', 'case.select': '点击列表或地图上的案件查看详情',
    'state.reported': '上报', 'state.accepted': '受理', 'state.registered': '立案', 'state.dispatched': '派遣',
    'state.in_progress': '处置中', 'state.disposed': '处置反馈', 'state.verified': '核查', 'state.closed': '结案',
    'state.returned': '回退', 'state.suspended': '挂账', 'state.void': '作废',
    'action.accept': '受理', 'action.register': '立案', 'action.dispatch': '派遣', 'action.start': '开始处置',
    'action.dispose': '处置完成', 'action.verify': '核查通过', 'action.rework': '返工', 'action.close': '结案',
    'action.return': '回退', 'action.self_dispose': '自行处置', 'action.request_extension': '申请延期',
    'action.grant_extension': '批准延期', 'action.deny_extension': '驳回延期', 'action.suspend': '挂账',
    'action.resume': '恢复', 'action.void': '作废', 'action.supervise': '督办', 'action.escalate': '升级',
    'action.reassign': '改派', 'action.arrive': '到达现场', 'action.report': '上报', 'action.rating': '回访评价',
    'tier.grid': '本网格', 'tier.community': '本社区', 'tier.street': '本街道',
    'live.on': '实时连接', 'live.off': '实时连接中断，正在重连…', 'live.unavailable': '实时推送暂不可用',
    'kpi.title': '考核', 'kpi.ranking': '街道月度排名', 'kpi.unavailable': '考核服务暂不可用',
    'kpi.closure_rate': '结案率', 'kpi.on_time': '按期结案率', 'kpi.cases': '立案数', 'kpi.score': '综合得分',
    'planner.plan_a': '方案 A', 'planner.plan_b': '方案 B', 'planner.compare': '比较',
    'planner.activate': '启用方案 B', 'planner.activated': '已启用：{name}',
    'planner.confirm': '确认启用“{name}”？当前方案将归档，住户与网格员将重新分配。',
    'planner.same_community': '社区不变的住户', 'planner.same_grid': '网格不变的住户',
    'planner.deviation': '户数偏差', 'planner.level': '层级', 'planner.swipe': '卷帘对比',
    'planner.side': '并排对比', 'planner.metric': '指标', 'planner.max_dev': '最大偏差', 'planner.mean_dev': '平均偏差',
    'planner.within5': '±5% 以内', 'planner.within10': '±10% 以内', 'planner.count': '数量',
    'planner.need_two': '至少需要两个方案才能比较', 'planner.only_planners': '仅规划人员和管理员可启用方案',
    'planner.loading': '正在比较方案…', 'planner.moved_buildings': '有住户变动的楼栋 {n} 栋',
    'status.draft': '草案', 'status.active': '当前', 'status.archived': '归档',
    'field.accept': '接单', 'field.assignments': '我的任务', 'field.map': '地图', 'field.report': '巡查上报', 'field.visit': '走访签到',
    'field.available': '可接单', 'field.off_duty': '休息', 'field.eta': '约 {n} 分钟 · {km} 公里',
    'field.no_assignments': '暂无任务', 'field.photo': '照片', 'field.category': '类别', 'field.submit': '提交',
    'field.household': '住户编号', 'field.queued': '离线，已保存 {n} 项待发送', 'field.synced': '已同步',
    'field.insecure_title': '需要安全连接（HTTPS）',
    'field.insecure': '此页面是通过不安全的连接打开的（{origin}）。手机浏览器在这种连接上会禁用定位、离线上报队列和照片校验，网格员功能无法使用，密码也会以明文传输。请改用管理员提供的 https:// 地址打开，并按管理员的说明在手机上安装证书。',
    'field.insecure_missing': '浏览器未提供：{list}',
    'field.offline': '离线', 'field.online': '在线', 'field.position': '当前位置', 'field.no_position': '尚未定位',
    'field.description': '问题描述', 'field.sent': '已发送', 'field.back': '返回',
    'field.action': '任务操作', 'field.report_kind': '上报', 'field.visit_kind': '走访', 'field.availability': '状态',
    'field.photo_type': '照片须为 JPEG、PNG 或 WebP 格式', 'field.photo_too_large': '照片不能超过 5 MB',
    'field.route_road': '道路路线', 'field.route_straight': '直线（无道路路线）',
    'error.load': '加载失败：{reason}',
  },
  en: {
    'app.command': 'Grid Command Centre', 'app.command_of': '{area} Grid Command Centre', 'app.planner': 'Grid planning',
    'app.planner_of': '{area} grid planning', 'app.field': 'Grid worker', 'app.field_of': '{area} grid worker',
    'notice.demo': 'Demo data', 'notice.demo_detail': 'Streets, communities or households of {names} are synthetic demo data',
    'nav.command': 'Command', 'nav.planner': 'Planner', 'nav.field': 'Field', 'lang.switch': '中文',
    'login.title': 'Log in', 'login.username': 'Username', 'login.password': 'Password', 'login.submit': 'Log in',
    'login.failed': 'Login failed: {reason}', 'login.bad': 'wrong username or password', logout: 'Log out',
    'role.admin': 'Administrator', 'role.city_operator': 'City operator', 'role.district_operator': 'District operator', 'role.street_operator': 'Street operator',
    'role.community_operator': 'Community operator', 'role.grid_worker': 'Grid worker', 'role.planner': 'Planner',
    'layer.streets': 'Streets', 'layer.communities': 'Communities', 'layer.grids': 'Grids', 'layer.households': 'Households',
    'layer.incidents': 'Incidents', 'layer.members': 'Team positions', 'layer.basemap': 'Basemap', 'layer.moved': 'Moved households', 'layer.roads': 'Roads', 'layer.heat': 'Incident heat',
    'heat.title': 'Incident heatmap', 'heat.days': 'last {n} days', 'heat.count': '{n} cases', 'heat.off': 'off',
    'scope.label': 'Scope', 'scope.district': 'Whole district', households: 'Households', residents: 'Residents', code: 'Code',
    'households.building': 'Building {id}', 'households.one': 'Household {id}', 'households.zoom': 'Zoom to 14 to see households',
    'count.open': 'Open', 'count.overdue': 'Overdue', 'count.closed_today': 'Closed today', 'count.members': 'Members online',
    'cases.title': 'Cases', 'cases.none': 'No cases', 'cases.all': 'All', 'cases.overdue_only': 'Overdue only',
    'cases.unavailable': 'Case service unavailable', 'case.timeline': 'Timeline', 'case.explanation': 'Why this member',
    'case.chosen': 'Chosen', 'case.eta': 'ETA', 'case.minutes': '{n} min', 'case.straight': '{m} m straight line',
    'case.straight_differs': 'Straight-line distance would have chosen {id} (differs from road time)',
    'case.straight_same': 'Straight-line distance gives the same choice', 'case.candidates': '{n} candidates',
    'case.deadline_uncertain': 'Deadline uncertain', 'case.deadline_uncertain_hint': 'The deadline lies past the years the working calendar covers: holidays there are unknown, weekdays were counted',
    'calendar.ending': 'The working calendar only covers until {date} ({n} days left): import the {year} State Council holiday schedule (wangge calendar import).',
    'calendar.ended': 'The working calendar ended on {date}: later holidays are unknown, deadlines are counted on weekdays and marked "deadline uncertain". Import the new State Council holiday schedule (wangge calendar import).',
    'case.overdue': 'Overdue', 'case.supervised': 'Supervised', 'case.grid': 'Grid', 'case.assigned': 'Assigned to',
    'case.note': 'Note', 'case.done': 'Done', 'case.select': 'Pick a case in the list or on the map',
    'state.reported': 'Reported', 'state.accepted': 'Accepted', 'state.registered': 'Registered', 'state.dispatched': 'Dispatched',
    'state.in_progress': 'In progress', 'state.disposed': 'Disposed', 'state.verified': 'Verified', 'state.closed': 'Closed',
    'state.returned': 'Returned', 'state.suspended': 'Suspended', 'state.void': 'Void',
    'action.accept': 'Accept', 'action.register': 'Register', 'action.dispatch': 'Dispatch', 'action.start': 'Start',
    'action.dispose': 'Disposed', 'action.verify': 'Verify', 'action.rework': 'Rework', 'action.close': 'Close',
    'action.return': 'Return', 'action.self_dispose': 'Self-dispose', 'action.request_extension': 'Request extension',
    'action.grant_extension': 'Grant extension', 'action.deny_extension': 'Deny extension', 'action.suspend': 'Suspend',
    'action.resume': 'Resume', 'action.void': 'Void', 'action.supervise': 'Supervise', 'action.escalate': 'Escalate',
    'action.reassign': 'Reassign', 'action.arrive': 'Arrived', 'action.report': 'Report', 'action.rating': 'Rating',
    'tier.grid': 'own grid', 'tier.community': 'community', 'tier.street': 'street',
    'live.on': 'Live', 'live.off': 'Live connection lost, reconnecting…', 'live.unavailable': 'Live updates unavailable',
    'kpi.title': 'Assessment', 'kpi.ranking': 'Monthly street ranking', 'kpi.unavailable': 'Assessment service unavailable',
    'kpi.closure_rate': 'Closure rate', 'kpi.on_time': 'On-time rate', 'kpi.cases': 'Cases', 'kpi.score': 'Score',
    'planner.plan_a': 'Plan A', 'planner.plan_b': 'Plan B', 'planner.compare': 'Compare',
    'planner.activate': 'Activate plan B', 'planner.activated': 'Activated: {name}',
    'planner.confirm': 'Activate "{name}"? The current plan is archived and households and workers move.',
    'planner.same_community': 'Households keeping their community', 'planner.same_grid': 'Households keeping their grid',
    'planner.deviation': 'Deviation from target', 'planner.level': 'Level', 'planner.swipe': 'Swipe',
    'planner.side': 'Side by side', 'planner.metric': 'Metric', 'planner.max_dev': 'Max deviation', 'planner.mean_dev': 'Mean deviation',
    'planner.within5': 'Within ±5%', 'planner.within10': 'Within ±10%', 'planner.count': 'Count',
    'planner.need_two': 'At least two plans are needed to compare', 'planner.only_planners': 'Only planners and admins can activate',
    'planner.loading': 'Comparing plans…', 'planner.moved_buildings': '{n} buildings with moved households',
    'status.draft': 'draft', 'status.active': 'active', 'status.archived': 'archived',
    'field.accept': 'Accept', 'field.assignments': 'My assignments', 'field.map': 'Map', 'field.report': 'Report', 'field.visit': 'Visit',
    'field.available': 'Available', 'field.off_duty': 'Off duty', 'field.eta': '~{n} min · {km} km',
    'field.no_assignments': 'No assignments', 'field.photo': 'Photo', 'field.category': 'Category', 'field.submit': 'Submit',
    'field.household': 'Household id', 'field.queued': 'Offline: {n} action(s) waiting', 'field.synced': 'Synchronised',
    'field.insecure_title': 'A secure connection (HTTPS) is needed',
    'field.insecure': 'This page was opened over an insecure connection ({origin}). On such a connection the phone\'s browser disables location, the offline queue and photo checks, so the field app cannot work, and passwords would cross the network in clear. Open the https:// address your administrator gives you and install the certificate on the phone as they explain.',
    'field.insecure_missing': 'Not available in this browser: {list}',
    'field.offline': 'Offline', 'field.online': 'Online', 'field.position': 'My position', 'field.no_position': 'No position yet',
    'field.description': 'Description', 'field.sent': 'Sent', 'field.back': 'Back',
    'field.action': 'Case action', 'field.report_kind': 'Report', 'field.visit_kind': 'Visit', 'field.availability': 'Availability',
    'field.photo_type': 'The photo must be a JPEG, PNG or WebP image', 'field.photo_too_large': 'The photo must not exceed 5 MB',
    'field.route_road': 'road route', 'field.route_straight': 'straight line (no road route)',
    'error.load': 'Loading failed: {reason}',
  },
};
const LANG_KEY = 'wangge.lang';
// A page's own texts, merged in by a module of texts ({zh: {...}, en: {...}}) that the page imports.
export function addTexts(texts) {
  Object.entries(texts).forEach(([lang, entries]) => Object.assign(TEXTS[lang], entries));
}

export function language() {
  const stored = localStorage.getItem(LANG_KEY);
  return stored === 'en' ? 'en' : 'zh';
}

export function t(key, values = {}) {
  const text = TEXTS[language()][key] ?? TEXTS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
}

export function locale() {
  return language() === 'en' ? 'en-GB' : 'zh-CN';
}

// Fill every [data-i18n] element of the page and set <html lang>.
export function translatePage(root = document) {
  document.documentElement.lang = language() === 'en' ? 'en' : 'zh-CN';
  root.querySelectorAll('[data-i18n]').forEach((element) => {
    element.textContent = t(element.dataset.i18n);
  });
}

// A button that switches the language and reloads the page in it.
export function bindLanguageSwitch(button) {
  button.textContent = t('lang.switch');
  button.addEventListener('click', () => {
    localStorage.setItem(LANG_KEY, language() === 'en' ? 'zh' : 'en');
    window.location.reload();
  });
}

export function escapeHtml(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  })[c]);
}
