"""Seeds the deployment test's fresh database, run as a process of its own with that DATABASE_URL: the filing
tests' hall (an item issuing a certificate, its clerk, reviewer and approver) and a resident of the population
registry who has no account yet. Prints what the test needs as JSON."""

from __future__ import annotations

import asyncio
import json
from datetime import date

from tests import factories
from tests.filing_fixture import hall


async def seed() -> dict[str, str]:
    h = await hall(certificate=True)
    resident = await factories.person(name="林晓雯", birth=date(1992, 3, 8), male=False)
    return {"clerk": h.clerk.mobile, "reviewer": h.reviewer.mobile, "approver": h.approver.mobile,
            "name": resident.name, "id_number": resident.id_number, "ssc_number": resident.ssc_number}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(seed())))
