"""Carrier formats mapped to our logistics nodes: every documented status and sub-status of every
vocabulary lands somewhere on purpose, fixtures written from each format's documented schema read
as expected, zone-less timestamps are read in the zone the format documents, and a scan keeps one
identity however it arrives."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aftersales.integrations.carriers import FORMATS, aftership, cainiao, easypost, shippo, track17
from aftersales.integrations.carriers.model import (
    Maps,
    Node,
    PayloadError,
    Reason,
    Tracking,
    instant,
    scan_identity,
    zone_of_offset,
)
from aftersales.orders.domain import ExceptionReason, LogisticsNode

DATA = Path(__file__).resolve().parents[1] / "data" / "carriers"
N, R = Node, Reason


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def rows(tracking: Tracking) -> list[tuple[str, str | None, str, datetime]]:
    return [(s.node.value, s.reason.value if s.reason else None, s.carrier_code, s.occurred_at) for s in tracking.scans]


def _well_formed(mapped: Maps) -> None:
    assert mapped.node is None or isinstance(mapped.node, Node)
    if mapped.node is Node.EXCEPTION:
        assert isinstance(mapped.reason, Reason), "an exception always says why"
    else:
        assert mapped.reason is None


# --- the vocabularies, as each format documents them ----------------------------------------------
EASYPOST_STATUSES = ["unknown", "pre_transit", "in_transit", "out_for_delivery", "delivered", "available_for_pickup",
                     "return_to_sender", "failure", "cancelled", "error"]  # fmt: skip
EASYPOST_DETAILS = [
    "address_correction", "arrived_at_destination", "arrived_at_facility", "arrived_at_pickup_location",
    "awaiting_information", "cancelled", "damaged", "delayed", "delivery_exception", "departed_facility",
    "departed_origin_facility", "expired", "failure", "held", "in_transit", "label_created", "lost", "missorted",
    "out_for_delivery", "received_at_destination_facility", "received_at_origin_facility", "refused", "return",
    "status_update", "transferred_to_destination_carrier", "transit_exception", "unknown", "weather_delay",
]  # fmt: skip
AFTERSHIP_TAGS = ["Pending", "InfoReceived", "InTransit", "OutForDelivery", "AttemptFail", "Delivered",
                  "AvailableForPickup", "Exception", "Expired"]  # fmt: skip
AFTERSHIP_SUBTAGS = (
    [f"Delivered_00{i}" for i in range(1, 5)] + ["AvailableForPickup_001"]
    + [f"Exception_{i:03d}" for i in range(1, 14)] + [f"AttemptFail_00{i}" for i in range(1, 4)]
    + [f"InTransit_00{i}" for i in range(1, 10)] + ["InfoReceived_001"]
    + ["OutForDelivery_001", "OutForDelivery_003", "OutForDelivery_004"]
    + [f"Pending_00{i}" for i in range(1, 7)] + ["Expired_001"]
)  # fmt: skip
SEVENTEEN_MAIN = ["NotFound", "InfoReceived", "InTransit", "Expired", "AvailableForPickup", "OutForDelivery",
                  "DeliveryFailure", "Delivered", "Exception"]  # fmt: skip
SEVENTEEN_SUB = [
    "NotFound_Other", "NotFound_InvalidCode", "InfoReceived", "InTransit_PickedUp", "InTransit_Other",
    "InTransit_Departure", "InTransit_Arrival", "InTransit_CustomsProcessing", "InTransit_CustomsReleased",
    "InTransit_CustomsRequiringInformation", "Expired_Other", "AvailableForPickup_Other", "OutForDelivery_Other",
    "DeliveryFailure_Other", "DeliveryFailure_NoBody", "DeliveryFailure_Security", "DeliveryFailure_Rejected",
    "DeliveryFailure_InvalidAddress", "Delivered_Other", "Exception_Other", "Exception_Returning",
    "Exception_Returned", "Exception_NoBody", "Exception_Security", "Exception_Damage", "Exception_Rejected",
    "Exception_Delayed", "Exception_Lost", "Exception_Destroyed", "Exception_Cancel",
]  # fmt: skip
SHIPPO_STATUSES = ["PRE_TRANSIT", "TRANSIT", "DELIVERED", "RETURNED", "FAILURE", "UNKNOWN"]
SHIPPO_SUBSTATUSES = [
    "information_received", "address_issue", "contact_carrier", "delayed", "delivery_attempted",
    "delivery_rescheduled", "delivery_scheduled", "location_inaccessible", "notice_left", "out_for_delivery",
    "package_accepted", "package_arrived", "package_damaged", "package_departed", "package_disposed",
    "package_forwarded", "package_held", "package_lost", "package_processed", "package_processing",
    "package_undeliverable", "pickup_available", "reschedule_delivery", "return_to_sender", "delivered", "other",
]  # fmt: skip


@pytest.mark.parametrize("status", EASYPOST_STATUSES)
@pytest.mark.parametrize("detail", ["", *EASYPOST_DETAILS])
def test_every_easypost_status_and_detail_is_mapped(status: str, detail: str) -> None:
    _well_formed(easypost.classify(status, detail, "d"))


@pytest.mark.parametrize("tag", AFTERSHIP_TAGS)
def test_every_aftership_tag_is_mapped(tag: str) -> None:
    mapped, code = aftership.classify(tag, "", "c")
    _well_formed(mapped)
    assert code == tag


@pytest.mark.parametrize("subtag", AFTERSHIP_SUBTAGS)
def test_every_aftership_subtag_is_mapped_and_agrees_with_its_tag(subtag: str) -> None:
    tag = subtag.split("_")[0]
    mapped, code = aftership.classify(tag, subtag, "c")
    _well_formed(mapped)
    assert code == subtag and subtag in aftership.SUBTAG
    by_tag = aftership.TAG[tag]
    # A sub-status refines its status; it never moves a parcel to another stage, except exceptions
    # that are returns, and acceptance / hub scans within transit.
    if by_tag.node is not Node.EXCEPTION and by_tag.node is not Node.IN_TRANSIT:
        assert mapped.node is by_tag.node


@pytest.mark.parametrize("main", SEVENTEEN_MAIN)
@pytest.mark.parametrize("sub", SEVENTEEN_SUB)
def test_every_17track_main_status_by_sub_status_is_mapped(main: str, sub: str) -> None:
    if sub.split("_")[0] != main:
        return  # 17TRACK's sub-status belongs to one main status, its prefix
    mapped, code = track17.classify(sub, "", "e")
    _well_formed(mapped)
    assert code == sub and sub in track17.SUB_STATUS


@pytest.mark.parametrize("main", SEVENTEEN_MAIN)
def test_a_17track_sub_status_added_later_falls_back_to_its_main_status(main: str) -> None:
    mapped, _ = track17.classify(f"{main}_SomethingNew", "", "e")
    assert mapped == track17.MAIN_STATUS[main]


@pytest.mark.parametrize("status", SHIPPO_STATUSES)
@pytest.mark.parametrize("substatus", ["", *SHIPPO_SUBSTATUSES])
def test_every_shippo_status_and_substatus_is_mapped(status: str, substatus: str) -> None:
    _well_formed(shippo.classify(status, substatus, "h"))


@pytest.mark.parametrize("code", sorted(cainiao.ACTION_CODE))
def test_every_cainiao_action_code_is_mapped(code: str) -> None:
    mapped = cainiao.classify(code, "d")
    _well_formed(mapped)
    assert mapped.node is not None, "every Cainiao actionCode is a movement of the parcel"


def test_the_reasons_each_vocabulary_names() -> None:
    assert easypost.classify("failure", "refused", "d") == Maps(N.EXCEPTION, R.REFUSED)
    assert easypost.classify("in_transit", "damaged", "d") == Maps(N.EXCEPTION, R.DAMAGED)
    assert easypost.classify("failure", "lost", "d") == Maps(N.EXCEPTION, R.LOST)
    assert easypost.classify("return_to_sender", "return", "d") == Maps(N.RETURNED)
    assert easypost.classify("delivered", "arrived_at_destination", "d") == Maps(N.DELIVERED)
    assert aftership.classify("Exception", "Exception_003", "c")[0] == Maps(N.EXCEPTION, R.REFUSED)
    assert aftership.classify("Exception", "Exception_004", "c")[0] == Maps(N.EXCEPTION, R.CUSTOMS_HOLD)
    assert aftership.classify("Exception", "Exception_007", "c")[0] == Maps(N.EXCEPTION, R.BAD_ADDRESS)
    assert aftership.classify("AttemptFail", "AttemptFail_002", "c")[0] == Maps(N.EXCEPTION, R.FAILED_DELIVERY)
    assert aftership.classify("Exception", "Exception_011", "c")[0] == Maps(N.RETURNED)
    assert aftership.classify("Exception", "Exception_016", "c")[0] == Maps(N.EXCEPTION, R.OTHER)  # newer subtag
    assert track17.classify("DeliveryFailure_InvalidAddress", "", "e")[0] == Maps(N.EXCEPTION, R.BAD_ADDRESS)
    assert track17.classify("Exception_Lost", "", "e")[0] == Maps(N.EXCEPTION, R.LOST)
    assert track17.classify("Exception_Security", "", "e")[0] == Maps(N.EXCEPTION, R.CUSTOMS_HOLD)
    assert track17.classify("", "Returning", "e")[0] == Maps(N.RETURNED)
    assert shippo.classify("TRANSIT", "package_damaged", "h") == Maps(N.EXCEPTION, R.DAMAGED)
    assert shippo.classify("FAILURE", "package_lost", "h") == Maps(N.EXCEPTION, R.LOST)
    assert shippo.classify("RETURNED", "return_to_sender", "h") == Maps(N.RETURNED)
    assert cainiao.classify("REJECT", "d") == Maps(N.EXCEPTION, R.REFUSED)
    assert cainiao.classify("CUS_TAX", "d") == Maps(N.EXCEPTION, R.CUSTOMS_HOLD)
    assert cainiao.classify("CC_SOMETHING_FAILURE", "d") == Maps(N.EXCEPTION, R.CUSTOMS_HOLD)
    assert cainiao.classify("RT_NEW_STEP", "d") == Maps(N.RETURNED)


def test_an_unknown_code_names_its_field() -> None:
    with pytest.raises(PayloadError) as caught:
        easypost.classify("teleported", "", "tracking_details[2]")
    assert caught.value.field == "tracking_details[2].status"
    with pytest.raises(PayloadError) as caught:
        cainiao.classify("BEAMED_UP", "module[0].detailList[3]")
    assert caught.value.field == "module[0].detailList[3].actionCode"
    with pytest.raises(PayloadError, match="sub_status"):
        track17.classify("Teleported_Other", "", "e")


def test_our_nodes_and_reasons_are_the_orders_context_words() -> None:
    assert {n.value for n in Node} == {n.value for n in LogisticsNode}
    assert {r.value for r in Reason} == {r.value for r in ExceptionReason}


# --- fixtures --------------------------------------------------------------------------------------
def test_easypost_webhook_and_tracker_list() -> None:
    [first] = easypost.parse(load("easypost_event_1.json"))
    assert (first.tracking_number, first.carrier) == ("9400100000000000000001", "USPS")
    assert first.field == "result.tracking_code"
    assert rows(first) == [
        ("info_received", None, "pre_transit/label_created", utc(2026, 11, 1, 20, 0)),  # zone-less: UTC
        ("picked_up", None, "in_transit/received_at_origin_facility", utc(2026, 11, 2, 1, 10)),
        ("departed_hub", None, "in_transit/departed_facility", utc(2026, 11, 2, 9, 30)),  # -08:00 honoured
    ]
    [later] = easypost.parse(load("easypost_event_2.json"))
    assert [s.node for s in later.scans][-3:] == [N.ARRIVED_HUB, N.OUT_FOR_DELIVERY, N.DELIVERED]
    assert later.scans[-1].occurred_at == utc(2026, 11, 4, 21, 42)
    assert later.scans[-1].place == "BROOKLYN, NY, US"
    [listed] = easypost.parse(load("easypost_trackers.json"))
    assert [s.identity for s in listed.scans] == [s.identity for s in later.scans]


def test_aftership_webhook_zone_less_checkpoints_in_the_countrys_zone() -> None:
    [tracking] = aftership.parse(load("aftership_webhook.json"))
    assert (tracking.tracking_number, tracking.carrier) == ("YT2611020000001", "yunexpress")
    assert tracking.field == "msg.tracking_number"
    assert rows(tracking) == [
        ("info_received", None, "InfoReceived_001", utc(2026, 11, 2, 1, 15)),  # 09:15 in China
        ("picked_up", None, "InTransit_002", utc(2026, 11, 2, 10, 40)),  # 18:40 in China
        ("departed_hub", None, "InTransit_007", utc(2026, 11, 2, 18, 5)),
        ("arrived_hub", None, "InTransit_003", utc(2026, 11, 5, 12, 30)),
        ("out_for_delivery", None, "OutForDelivery_001", utc(2026, 11, 6, 13, 10)),
        ("exception", "refused", "Exception_003", utc(2026, 11, 6, 16, 25)),
        ("returned", None, "Exception_010", utc(2026, 11, 7, 14, 0)),
    ]
    assert tracking.scans[0].place == "Shenzhen, CHN"


def test_aftership_list_gives_one_tracking_each() -> None:
    trackings = aftership.parse(load("aftership_trackings.json"))
    assert [(t.tracking_number, t.field) for t in trackings] == [
        ("YT2611020000001", "data.trackings[0].tracking_number"),
        ("YT2611020000002", "data.trackings[1].tracking_number"),
    ]
    assert rows(trackings[1])[-1] == ("delivered", None, "Delivered_003", utc(2026, 11, 9, 13, 0))


def test_17track_push_every_kind_of_time() -> None:
    [tracking] = track17.parse(load("17track_push.json"))
    assert (tracking.tracking_number, tracking.carrier) == ("RB261102001CN", "3011")
    assert sorted(rows(tracking), key=lambda r: r[3]) == [
        ("info_received", None, "InfoReceived", utc(2026, 11, 2, 12, 0)),  # raw, zone-less, China
        ("picked_up", None, "InTransit_PickedUp", utc(2026, 11, 3, 2, 12)),  # time_iso with +08:00
        ("departed_hub", None, "InTransit_Departure", utc(2026, 11, 3, 15, 40)),  # raw with its timezone
        ("arrived_hub", None, "InTransit_Arrival", utc(2026, 11, 4, 13, 5)),  # time_utc
        ("exception", "damaged", "Exception_Damage", utc(2026, 11, 5, 8, 20)),
    ]
    [listed] = track17.parse(load("17track_gettrackinfo.json"))
    assert listed.field == "data.accepted[0].number"
    assert {s.identity for s in listed.scans} == {s.identity for s in tracking.scans}


def test_17track_stopped_push_carries_no_scans() -> None:
    [tracking] = track17.parse({"event": "TRACKING_STOPPED", "data": {"number": "RB261102001CN", "carrier": 3011}})
    assert tracking.scans == ()


def test_shippo_webhook_history_and_current_status_once() -> None:
    [tracking] = shippo.parse(load("shippo_webhook.json"))
    assert (tracking.tracking_number, tracking.carrier) == ("9205590164917312751089", "usps")
    got = rows(tracking)
    assert got[:5] == [
        ("info_received", None, "PRE_TRANSIT:information_received", utc(2026, 11, 2, 15, 0)),
        ("picked_up", None, "TRANSIT:package_accepted", utc(2026, 11, 2, 22, 30)),
        ("departed_hub", None, "TRANSIT:package_departed", utc(2026, 11, 3, 4, 45)),  # zone-less: UTC
        ("exception", "bad_address", "TRANSIT:address_issue", utc(2026, 11, 4, 17, 20)),
        ("delivered", None, "DELIVERED:delivered", utc(2026, 11, 5, 19, 2)),
    ]
    # The current status repeats the last history entry under another object_id: the same scan.
    assert tracking.scans[-1].identity == tracking.scans[-2].identity


def test_cainiao_beijing_time_unless_the_event_says_otherwise() -> None:
    [tracking] = cainiao.parse(load("cainiao_trace.json"))
    assert (tracking.tracking_number, tracking.field) == ("LP00561234567890", "module[0].mailNo")
    assert sorted(rows(tracking), key=lambda r: r[3]) == [
        ("info_received", None, "GWMS_ACCEPT", utc(2026, 11, 2, 12, 0)),  # 20:00 Beijing
        ("picked_up", None, "PU_PICKUP_SUCCESS", utc(2026, 11, 3, 1, 30)),
        ("arrived_hub", None, "SC_INBOUND_SUCCESS", utc(2026, 11, 3, 10, 2, 45)),
        ("departed_hub", None, "SC_OUTBOUND_SUCCESS", utc(2026, 11, 3, 15, 10)),
        ("departed_hub", None, "LH_DEPART", utc(2026, 11, 5, 4, 0)),  # epoch milliseconds
        ("in_transit", None, "CC_IM_SUCCESS", utc(2026, 11, 7, 20, 0)),  # GMT+1
        ("out_for_delivery", None, "GTMS_DELIVERING", utc(2026, 11, 9, 7, 1)),
        ("delivered", None, "GTMS_SIGNED", utc(2026, 11, 9, 14, 30, 12)),
    ]


def test_a_cainiao_single_event_push() -> None:
    [tracking] = cainiao.parse({"mailNo": "LP1", "actionCode": "GOT", "timeStr": "2026-11-02 08:00:00", "desc": "揽收"})
    assert rows(tracking) == [("picked_up", None, "GOT", utc(2026, 11, 2, 0, 0))]


# --- time and identity ------------------------------------------------------------------------------
def test_reading_times() -> None:
    shanghai = zone_of_offset("GMT+8")
    assert shanghai is not None
    assert instant("2026-11-02 08:00:00", "t", shanghai) == utc(2026, 11, 2, 0, 0)
    assert instant("2026-11-02T08:00:00+0100", "t", shanghai) == utc(2026, 11, 2, 7, 0)
    assert instant("2026-11-02T08:00:00z", "t", shanghai) == utc(2026, 11, 2, 8, 0)
    assert instant("2026-11-02", "t", shanghai) == utc(2026, 11, 1, 16, 0)
    assert instant(1793851200, "t", shanghai) == instant(1793851200000, "t", shanghai) == utc(2026, 11, 5, 4, 0)
    assert instant("1793851200000", "t", shanghai) == utc(2026, 11, 5, 4, 0)
    assert zone_of_offset("UTC-5") is not None and zone_of_offset("nowhere") is None
    for bad in ("yesterday", "", None, True, "2026-13-40 25:00"):
        with pytest.raises(PayloadError) as caught:
            instant(bad, "detailList[0].timeStr", shanghai)
        assert caught.value.field == "detailList[0].timeStr"


def test_a_scan_keeps_its_identity_through_any_push() -> None:
    a = scan_identity("yt1", "InTransit_003", datetime.fromisoformat("2026-11-05T07:30:00-05:00"), "Jamaica,  NY")
    b = scan_identity("YT1", "InTransit_003", utc(2026, 11, 5, 12, 30), "jamaica, ny")
    assert a == b and a.startswith("scan-") and len(a) <= 64
    assert scan_identity("YT1", "InTransit_003", utc(2026, 11, 5, 12, 30), "Newark") != a
    assert scan_identity("YT1", "InTransit_007", utc(2026, 11, 5, 12, 30), "jamaica, ny") != a
    first = aftership.parse(load("aftership_webhook.json"))[0].scans
    again = aftership.parse(load("aftership_webhook_again.json"))[0].scans
    assert [s.identity for s in again[: len(first)]] == [s.identity for s in first]
    assert len({s.identity for s in again}) == len(first) + 1


# --- what is not a tracking ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "payload", "field"),
    [
        ("easypost", {"object": "Event", "description": "batch.updated", "result": {}}, "description"),
        ("easypost", {"object": "Refund", "id": "rfnd_1"}, "object"),
        ("easypost", {"object": "Tracker", "tracking_details": []}, "tracking_code"),
        ("aftership", {"event": "edd_revise", "msg": {}}, "event"),
        ("aftership", {"msg": {"tracking_number": "X", "checkpoints": [{"tag": "Gone"}]}}, "msg.checkpoints[0].tag"),
        ("17track", {"event": "TRACKING_UPDATED", "data": {"carrier": 3011}}, "data.number"),
        ("17track", {"data": {"rejected": []}}, "data.accepted"),
        ("shippo", {"event": "transaction_created", "data": {}}, "event"),
        ("shippo", {"tracking_number": "1", "tracking_history": [{"status": "TRANSIT", "status_date": "soon"}]},
         "tracking_history[0].status_date"),
        ("cainiao", {"refundId": "R1", "amount": "9.90"}, "mailNo"),
        ("cainiao", {"mailNo": "LP1", "detailList": "none"}, "detailList"),
        ("cainiao", [1, 2], "(payload)"),
    ],
)  # fmt: skip
def test_a_payload_that_is_not_a_tracking_names_the_field(fmt: str, payload: object, field: str) -> None:
    with pytest.raises(PayloadError) as caught:
        FORMATS[fmt](payload)
    assert caught.value.field == field
