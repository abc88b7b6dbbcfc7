"""A code's GS1 Digital Link linkset (RFC 9264): where its page, certificates, EPCIS events,
recall status and master data are (``application/linkset+json`` or ``?linkType=all``)."""

from __future__ import annotations

from typing import Final

from foodtrace.trace.codes import Code, Lot, Merchant

GS1: Final = "https://gs1.org/voc/"


def links(base: str, code: Code) -> dict[str, list[dict[str, str]]]:
    """GS1 Digital Link link types for this code (RFC 9264 linkset target objects)."""
    s = code.subject
    here = f"{base}{s.path()}"
    page = {"href": here, "title": "食安码信息页", "type": "text/html", "hreflang": "zh-CN"}
    links: dict[str, list[dict[str, str]]] = {f"{GS1}defaultLink": [page], f"{GS1}pip": [page]}
    if isinstance(s, Merchant):
        p = f"{base}/api/v1/parties/{s.merchant_id}"
        links[f"{GS1}certificationInfo"] = [
            {"href": f"{p}/licences", "title": "许可证", "type": "application/json"},
            {"href": f"{p}/reports", "title": "检验报告", "type": "application/json"},
            {"href": f"{base}/api/v1/parties/{s.merchant_id}/inspections", "title": "监督检查"},
        ]
    else:
        gtin = s.gtin
        if isinstance(s, Lot):
            lot = s.lot
            links[f"{GS1}traceability"] = [
                {"href": here + "?linkType=gs1:traceability", "title": "溯源", "type": "text/html"}
            ]
            links[f"{GS1}epcis"] = [
                {
                    "href": f"{base}/epcis/events?MATCH_anyEPCClass=https://id.gs1.org/01/{gtin}/10/{lot}",
                    "title": "EPCIS 事件",
                    "type": "application/json",
                }
            ]
            links[f"{GS1}certificationInfo"] = [
                {
                    "href": f"{base}/api/v1/lots/{gtin}/{lot}/reports",
                    "title": "检验报告",
                    "type": "application/json",
                }
            ]
            links[f"{GS1}recallStatus"] = [
                {
                    "href": f"{base}/epcis/events?EQ_disposition=recalled",
                    "title": "召回状态",
                    "type": "application/json",
                }
            ]
        links[f"{GS1}masterData"] = [
            {"href": f"{base}/api/v1/products/{gtin}", "type": "application/json"}
        ]
    return links
