"""A printable sheet for a grid: per household its 门牌 QR (for visits) and its survey QR (this period).

Cut along the lines: the door code goes on the door, the survey slip to the household. QR codes are
inline SVG (segno), so the sheet prints offline and needs no script.
"""

from __future__ import annotations

import html

import segno

from gis_api.households.doorcode import door_code, qr_payload
from gis_api.residents.schemas import SurveyLink

STYLE = """
body{font-family:sans-serif;margin:8mm}h1{font-size:16px}
.cards{display:flex;flex-wrap:wrap;gap:4mm}
.card{border:1px dashed #888;padding:3mm;width:85mm;display:flex;gap:3mm;break-inside:avoid}
.card div{font-size:11px;text-align:center}.card svg{display:block;margin:auto}
.url{font-size:8px;word-break:break-all;color:#555}
"""


def qr_svg(payload: str, scale: int = 2) -> str:
    """An inline SVG QR code (error correction M: survives a little dirt on a door)."""
    return str(segno.make(payload, error="m", micro=False).svg_inline(scale=scale))


def _card(link: SurveyLink, period: str) -> str:
    label = html.escape(link.door_label or "—")
    code, door_qr = door_code(link.household_id), qr_svg(qr_payload(link.household_id))
    return (
        f'<div class="card"><div>门牌 {label}<br>住户 {link.household_id}{door_qr}'
        f"门牌码 {code}</div><div>网格员满意度调查 {period}<br>请扫码作答{qr_svg(link.url)}"
        f'<span class="url">{html.escape(link.url)}</span></div></div>'
    )


def survey_sheet_html(grid_code: str, period: str, links: list[SurveyLink]) -> str:
    """The whole printable page."""
    cards = "".join(_card(link, period) for link in links)
    title = f"网格 {html.escape(grid_code)} 门牌码与满意度调查二维码（{period}）"
    return (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>"
        f"<p>共 {len(links)} 户。门牌码用于网格员走访签到；调查二维码每户每季度只能作答一次。</p>"
        f'<div class="cards">{cards}</div></body></html>'
    )
