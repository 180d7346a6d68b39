"""Cainiao (菜鸟): a parcel's trace as the global tracking detail gives it (`mailNo` with a `detailList`
of actionCode events; a response with several parcels in `module`, also under `data`), or one pushed
event (`mailNo` with one `actionCode`).

Each event maps by its `actionCode`. A code outside the table falls back by its shape: `RT_…` is the
return flow, `…_FAILURE`/`…_FAIL` an exception (a customs one for CC_/CUS_/CIQ_ codes); any other
unknown code is refused, naming it. Kept code: the actionCode.
Time: `time` (epoch milliseconds) is an instant; else `timeStr`, in the event's `timeZone` when given
("GMT+8"), else Asia/Shanghai: Cainiao writes Beijing time."""

from __future__ import annotations

from collections.abc import Mapping

from aftersales.integrations.carriers.model import (
    SHANGHAI,
    Maps,
    Node,
    PayloadError,
    Reason,
    Scan,
    Tracking,
    arr,
    exc,
    instant,
    join,
    make_scan,
    obj,
    text,
    zone_of_offset,
)

FORMAT = "cainiao"

_IN = Maps(Node.IN_TRANSIT)
_HUB = Maps(Node.ARRIVED_HUB)
_LEFT = Maps(Node.DEPARTED_HUB)
_STATION = Maps(Node.ARRIVED_STATION)
_OUT = Maps(Node.OUT_FOR_DELIVERY)
_DONE = Maps(Node.DELIVERED)
_BACK = Maps(Node.RETURNED)
_INFO = Maps(Node.INFO_RECEIVED)
_PICK = Maps(Node.PICKED_UP)
_CUSTOMS = exc(Reason.CUSTOMS_HOLD)
_FAILED = exc(Reason.FAILED_DELIVERY)
_OTHER = exc(Reason.OTHER)

ACTION_CODE: dict[str, Maps] = {
    # order and warehouse (before the carrier has the parcel)
    "CREATE": _INFO, "CONSIGN": _INFO, "OM_CONSIGN": _INFO, "GTMS_ASN": _INFO, "GWMS_ACCEPT": _INFO,
    "GWMS_PICK": _INFO, "GWMS_PACKAGE": _INFO, "GWMS_OUTBOUND": _INFO, "GWMS_HANDOVER": _PICK,
    "GWMS_REJECT": _OTHER, "GWMS_EXCEPTION": _OTHER, "GWMS_CANCEL": _OTHER,
    # pick-up
    "PU_PICKUP_SUCCESS": _PICK, "PU_SIGN_IN_SUCCESS": _PICK, "PU_PICKUP_FAILURE": _OTHER, "PU_SIGN_IN_FAILURE": _OTHER,
    # origin sorting centre and transit hubs
    "SC_INBOUND_SUCCESS": _HUB, "SC_SIGN_IN_SUCCESS": _HUB, "SC_OUTBOUND_SUCCESS": _LEFT, "SC_HO_OUT_SUCCESS": _LEFT,
    "SC_INBOUND_FAILURE": _OTHER, "SC_OUTBOUND_FAILURE": _OTHER, "SC_HO_OUT_FAILURE": _OTHER,
    "SC_SIGN_IN_FAILURE": _OTHER, "TD_TRANS_ARRIVE": _HUB, "TD_TRANS_DEPART": _LEFT,
    # export customs, line haul, transit-country customs
    "CC_EX_START": _IN, "CC_EX_SUCCESS": _IN, "CC_EX_FAILURE": _CUSTOMS,
    "LH_HO_IN_SUCCESS": _HUB, "LH_HO_AIRLINE": _LEFT, "LH_DEPART": _LEFT, "LH_ARRIVE": _HUB,
    "LH_HO_OUT_SUCCESS": _LEFT, "LH_OTHER": _IN, "LH_HO_IN_FAILURE": _OTHER, "LH_POST_COLLECTION": _OTHER,
    "LH_HO_AIRLINE_FAILURE": _OTHER, "LH_ARRIVE_FAILURE": _OTHER, "LH_HO_OUT_FAILURE": _OTHER,
    "CC_TRANS_START": _IN, "CC_TRANS_SUCCESS": _IN, "CC_TRANS_FAILURE": _CUSTOMS,
    # import customs
    "CC_IM_START": _IN, "CC_IM_PROCESS": _IN, "CC_IM_SUCCESS": _IN, "CC_HO_IN_SUCCESS": _IN,
    "CC_HO_OUT_SUCCESS": _IN, "CUS_DECLARE": _IN, "CUS_SUCCESS": _IN, "CIQ_SUCCESS": _IN,
    "CC_IM_FAILURE": _CUSTOMS, "CC_HO_IN_FAILURE": _CUSTOMS, "CC_HO_OUT_FAILURE": _CUSTOMS,
    "CUS_FAILURE": _CUSTOMS, "CUS_TAX": _CUSTOMS, "CIQ_FAILURE": _CUSTOMS,
    # destination delivery
    "GTMS_ACCEPT": _HUB, "GTMS_SC_ARRIVE": _HUB, "GTMS_SC_ARRIVE_FAILURE": _OTHER, "GTMS_DO_ARRIVE": _STATION,
    "GTMS_DO_DEPART": _OUT, "GTMS_DELIVERING": _OUT, "GTMS_RE_DELIVERING": _OUT, "GTMS_DEL_FAILURE": _FAILED,
    "GTMS_RELABEL": _IN, "GTMS_SIGNED": _DONE, "GTMS_SIGN_FAILURE": _FAILED, "GTMS_WAIT_SELF_PICK": _STATION,
    "GTMS_STA_SIGNED": _STATION, "GTMS_STA_SIGN_FAILURE": _FAILED, "GTMS_STATION_IN": _STATION,
    "GTMS_STATION_OUT": _IN, "GTMS_FAILURE": _FAILED, "GTMS_OTHER": _IN,
    "GTMS_STA_WAIT_CUST_CHANGE_ADDRESS": exc(Reason.BAD_ADDRESS), "GTMS_STA_CUST_TO_DOOR": _IN,
    "GTMS_STA_CHANGE": _IN, "GTMS_STA_CN_TO_DOOR": _IN, "GTMS_STA_CN_CHANGE": _IN, "GTMS_STA_CNCP_TO_DOOR": _IN,
    "GTMS_STA_CNCP_CHANGE": _IN,
    # pick-up points and lockers
    "GSTA_SIGN": _DONE, "STA_SIGN": _DONE, "GSTA_BUYER_SIGN": _DONE, "GSTA_SIGN_FAIL": _FAILED,
    "STA_SIGN_FAIL": _FAILED, "GSTA_BUYER_SIGN_FAIL": _FAILED, "GSTAHUB_INBOUND": _HUB, "GSTA_INBOUND": _STATION,
    "GSTAHUB_INBOUND_FAIL": _OTHER, "GSTA_INBOUND_FAIL": _OTHER, "GSTA_INFORM_BUYER": _STATION, "GSTA_OTHER": _IN,
    "POSTMAN_POST": _STATION,
    # domestic (China) express
    "GOT": _PICK, "DEPARTURE": _LEFT, "ARRIVAL": _HUB, "SENT_SCAN": _OUT, "SIGNED": _DONE, "AGENT_SIGN": _DONE,
    "FAILED": _FAILED, "REJECT": exc(Reason.REFUSED), "TMS_RETURN": _BACK,
    # returns
    "RETURNED": _BACK, "RT_INBOUND": _BACK, "RT_OUTBOUND": _BACK, "RT_HO_OUT": _BACK, "RT_WH_HO_IN": _BACK,
    "RT_WH_HO_IN_FAIL": _BACK, "RT_WH_INBOUND": _BACK, "RT_WH_INBOUND_FAILURE": _BACK, "RT_WH_OUTBOUND": _BACK,
    "RT_WH_HO_OUT": _BACK, "RT_TRANSWH_HO_IN": _BACK, "RT_TRANSWH_INBOUND": _BACK, "RT_TRANSWH_OUTBOUND": _BACK,
    "RT_TMS_ACCEPT": _BACK, "RT_DESTROY": exc(Reason.LOST), "RT_WH_DESTROY": exc(Reason.LOST),
}  # fmt: skip


def classify(code: str, where: str) -> Maps:
    if code in ACTION_CODE:
        return ACTION_CODE[code]
    if code.startswith("RT_"):
        return _BACK
    if code.endswith(("_FAILURE", "_FAIL")):
        return _CUSTOMS if code.startswith(("CC_", "CUS_", "CIQ_")) else _OTHER
    raise PayloadError(f"{where}.actionCode", f"'{code}' is not a Cainiao actionCode we know" if code else "missing")


def parse(payload: object) -> list[Tracking]:
    body = obj(payload, "(payload)")
    root = ""
    for key in ("data", "body"):
        if isinstance(body.get(key), Mapping):
            body, root = obj(body[key], key), key
            break
    prefix = f"{root}." if root else ""
    if "module" in body:
        items = arr(body["module"], f"{prefix}module")
        return [_parcel(obj(m, f"{prefix}module[{i}]"), f"{prefix}module[{i}]") for i, m in enumerate(items)]
    if "mailNo" in body:
        return [_parcel(body, root)]
    raise PayloadError(f"{prefix}mailNo", "missing: neither a Cainiao trace (mailNo, detailList) nor a list (module)")


def _parcel(parcel: Mapping[str, object], where: str) -> Tracking:
    prefix = f"{where}." if where else ""
    number = text(parcel, "mailNo", where)
    carrier = text(parcel, "cpCode", where, required=False) or "cainiao"
    if "detailList" in parcel:
        entries = [
            (f"{prefix}detailList[{i}]", e) for i, e in enumerate(arr(parcel["detailList"], f"{prefix}detailList"))
        ]
    elif "actionCode" in parcel:
        entries = [(where, parcel)]
    else:
        raise PayloadError(f"{prefix}detailList", "missing (and no single actionCode event)")
    scans: list[Scan] = []
    for at, raw in entries:
        event = obj(raw, at or "(payload)")
        code = text(event, "actionCode", at, required=False)
        mapped = classify(code, at)
        if event.get("time") not in (None, ""):
            when = instant(event["time"], f"{at}.time" if at else "time", SHANGHAI)
        else:
            zone_name = text(event, "timeZone", at, required=False)
            zone = (zone_of_offset(zone_name) if zone_name else None) or SHANGHAI
            when = instant(event.get("timeStr"), f"{at}.timeStr" if at else "timeStr", zone)
        place = join(event.get("city"), event.get("location")) if (event.get("city") or event.get("location")) else ""
        description = text(event, "desc", at, required=False) or text(event, "standerdDesc", at, required=False)
        scans.append(make_scan(number, mapped, code, when, place, description, at))
    return Tracking(number, carrier, tuple(scans), f"{prefix}mailNo")
