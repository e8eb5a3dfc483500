"""The plan report's words in Chinese and English, and the switch between them (CSS only, no script).

Every text is written twice, `<span class="zh">…</span><span class="en">…</span>`; a checkbox at
the top of the page hides one language. The report stays readable when saved, printed or opened
where scripts are blocked.
"""

from __future__ import annotations

import html

LANGUAGE_TOGGLE_ID = "wg-lang-en"
LANGUAGE_CSS = f"""
.wg-report{{font-family:sans-serif;margin:0.5em 1em}} .en{{display:none}}
#{LANGUAGE_TOGGLE_ID}:checked ~ * .zh, #{LANGUAGE_TOGGLE_ID}:checked ~ .zh{{display:none}}
#{LANGUAGE_TOGGLE_ID}:checked ~ * .en, #{LANGUAGE_TOGGLE_ID}:checked ~ .en{{display:inline}}
.wg-lang{{position:fixed;top:6px;right:10px;z-index:2000;background:#fff;border:1px solid #888;
  border-radius:4px;padding:2px 8px;font:13px sans-serif;cursor:pointer}}
.wg-lang-box{{position:absolute;opacity:0}}
.wg-report table{{border-collapse:collapse}} .wg-report td,.wg-report th{{border:1px solid #ccc;
  padding:2px 6px;text-align:right}} .wg-report td.text{{text-align:left}}
.wg-legend{{background:#fff;padding:6px 8px;font:12px sans-serif;line-height:18px;border-radius:4px;
  box-shadow:0 0 4px rgba(0,0,0,.3)}} .wg-legend i{{display:inline-block;width:14px;height:14px;
  margin-right:6px;vertical-align:middle;opacity:.8}}
.wg-figures{{display:flex;flex-wrap:wrap;gap:1em}}
"""


def bi(zh: str, en: str) -> str:
    """A text in both languages (escaped)."""
    return f'<span class="zh">{html.escape(zh)}</span><span class="en">{html.escape(en)}</span>'


def toggle_html(english: bool = False) -> str:
    """The checkbox and its label; must come first in <body> so the CSS reaches the whole page."""
    checked = " checked" if english else ""
    box = f'<input type="checkbox" id="{LANGUAGE_TOGGLE_ID}" class="wg-lang-box"{checked}>'
    return f'{box}<label for="{LANGUAGE_TOGGLE_ID}" class="wg-lang">{bi("English", "中文")}</label>'


# metric key -> (Chinese name, English name, Chinese explanation, English explanation)
METRICS: dict[str, tuple[str, str, str, str]] = {
    "districts": ("数量", "Count", "社区或网格的个数", "number of communities or grids"),
    "target": ("目标户数", "Target households", "每个区域应有的户数（社区为所在街道的平均）",
               "households each area aims at (communities: their street's mean)"),
    "dev_max": ("最大偏差", "Max deviation", "户数偏离目标最多的区域：|户数−目标|/目标",
                "the largest |households − target| / target"),
    "dev_mean": ("平均偏差", "Mean deviation", "各区域 |户数−目标|/目标 的平均",
                 "mean of |households − target| / target"),
    "share_within_5pct": ("±5% 以内占比", "Within ±5 %", "户数在目标 ±5% 以内的区域占比",
                          "share of areas within 5 % of the target"),
    "share_within_10pct": ("±10% 以内占比", "Within ±10 %", "户数在目标 ±10% 以内的区域占比",
                           "share of areas within 10 % of the target"),
    "pp_mean": ("紧凑度均值", "Polsby-Popper mean", "4π·面积/周长²：圆为 1，越细长或越曲折越小",
                "4π·area/perimeter²: 1 for a circle, small for thin or ragged shapes"),
    "pp_min": ("紧凑度最小值", "Polsby-Popper min", "最不紧凑区域的 Polsby-Popper 值",
               "Polsby-Popper of the least compact area"),
    "hull_ratio_mean": ("凸包比均值", "Convex hull ratio", "面积/凸包面积：1 为凸形，小则有凹口或飞地",
                        "area / area of its convex hull: 1 when convex, small with notches"),
    "barrier_crossings": ("跨屏障相邻", "Barrier crossings",
                          "同一区域内隔着主干道或水面相邻的楼栋对数（越少越好）",
                          "building pairs in one area that touch only across a major road or water"),
    "barrier_length_m": ("跨屏障长度（米）", "Barrier length (m)", "上述相邻边的总长度",
                         "total length of those shared edges"),
    "cut_edges": ("边界相邻对数", "Cut edges", "被边界分开的相邻楼栋对数",
                  "neighbouring buildings split by a boundary"),
    "cut_length_m": ("边界长度（米）", "Boundary length (m)", "区域之间边界的总长度",
                     "total length of the boundaries between areas"),
    "households_moved": ("变动户数", "Households moved", "与现行方案相比换了区域的户数",
                         "households whose area differs from the active plan"),
    "share_unchanged": ("不变占比", "Share unchanged", "与现行方案相比未换区域的住户占比",
                        "share of households keeping their area"),
    "contiguous": ("连通", "Contiguous", "每个区域是否连成一片", "whether every area is in one piece"),
}  # fmt: skip


def metric_label(key: str) -> tuple[str, str]:
    """(name, explanation) of a metric in both languages; unknown keys are shown as they are."""
    zh, en, explain_zh, explain_en = METRICS.get(key, (key, key, "", ""))
    return bi(zh, en), bi(explain_zh, explain_en)
