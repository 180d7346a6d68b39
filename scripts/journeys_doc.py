"""Write docs/journeys.md from the steps the browser journeys saved (`make journeys`).

    python scripts/journeys_doc.py docs/images/journeys docs/journeys.md

The journeys (tests marked `journey` under tests/e2e) save a screenshot after each step and list
them in journeys.json; this page shows them role by role, in the order they were walked.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# Each role once, in the order of a day at the shop, with what its journey shows.
ROLES: list[tuple[str, str, str]] = [
    (
        "customer-zh",
        "Customer (Chinese): 李娜",
        "Signs in, follows a parcel on its way and urges it, returns a delivered item after the "
        "eligibility preview, reads the case's timeline and asks support when the refund arrives; "
        "then the same on a phone.",
    ),
    (
        "customer-en",
        "Customer (English): Emma",
        "The same day in English: a return shipped back with a tracking number, her inbox and the "
        "support form, with no Chinese on the pages; then on a phone.",
    ),
    (
        "agent",
        "Service agent",
        "From the queue to a ticket: a macro fills the reply (nothing is sent), the agent edits, sends "
        "with a status, and opens a compensation case for the order in one click; the customer reads the reply.",
    ),
    (
        "supervisor",
        "Supervisor",
        "The queues and agents' load, a ticket reassigned to another platform agent (merchant staff "
        "are never offered), tickets near their deadline, the audit log a page at a time.",
    ),
    (
        "merchant",
        "Merchant staff (贝贝母婴)",
        "Only the shop's own orders; an urge handled with a note the customer reads; a return "
        "approved, received once shipped with a tracking number, inspected and refunded.",
    ),
    (
        "warehouse",
        "Warehouse (self-operated)",
        "One unit reported out of stock, with the refund shown and confirmed once; a returned parcel "
        "received and inspected.",
    ),
    (
        "rider",
        "Rider",
        "Today's deliveries with masked contacts; picked up and delivered, one failed attempt with a "
        "reason and a photo, on a desktop and on a phone.",
    ),
    (
        "arbitrator",
        "Arbitrator",
        "What exists today: every case and order to read, contacts masked. The disputes the arbitrator "
        "will decide are not built yet (issue 15).",
    ),
    (
        "admin",
        "Administrator",
        "Users and roles (an account switched off and on), a return policy's dry run, the audit log. "
        "API tokens have no page: `aftersales token create` makes them (docs/api.md).",
    ),
]

HEADER = """# Every role's day

One browser journey per role, walked by the test suite in headless Chromium against a real
`aftersales serve` and `aftersales worker` over the demo shop, from sign-in, with real clicks. Each
screenshot is taken right after the step under it; 390 px wide ones are a phone.

`make journeys` walks them again and rewrites this page and its screenshots in
`docs/images/journeys/`; `pytest -m journey` walks them without keeping screenshots.
"""


def render(steps: list[dict[str, str]], images: str) -> str:
    known = {key for key, _title, _about in ROLES}
    unknown = sorted({s["journey"] for s in steps} - known)
    if unknown:
        raise SystemExit(f"journeys without a section in scripts/journeys_doc.py: {unknown}")
    out = [HEADER]
    for key, title, about in ROLES:
        mine = [s for s in steps if s["journey"] == key]
        out.append(f"\n## {title}\n\n{about}\n")
        if not mine:
            out.append("\n_Not walked in the last run._\n")
            continue
        tests = sorted({s.get("test", "") for s in mine if s.get("test")})
        if tests:
            out.append("\nTest: " + ", ".join(f"`{t}`" for t in tests) + "\n")
        for n, s in enumerate(mine, 1):
            where = " (phone, 390 px)" if s.get("width") == "390" else ""
            out.append(f"\n{n}. {s['step']}{where}\n\n   ![{s['step']}]({images}/{s['file']})\n")
    return "".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    shots, doc = Path(argv[1]), Path(argv[2])
    steps = json.loads((shots / "journeys.json").read_text(encoding="utf-8"))
    images = Path(os.path.relpath(shots.resolve(), doc.resolve().parent)).as_posix()
    doc.write_text(render(steps, images), encoding="utf-8")
    print(f"{doc}: {len(steps)} steps of {len({s['journey'] for s in steps})} journeys")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
