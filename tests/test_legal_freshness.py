"""Freshness of the legality data: every row must have been re-checked recently.

Fails, listing the stale states, when a row's ``verified_on`` in data/legal is older than
LEGAL_MAX_AGE_MONTHS months (default 12) before today. The dates live in the data; to clear
a failure, re-check the rows against their sources and update them (data/legal/README.md).
"""

from __future__ import annotations

from datetime import date

from actions.settings import PROJECT_ROOT
from actions.store.legal_data import max_age_months, read_legal_data, stale_rows


def test_no_legal_row_is_older_than_the_allowed_age():
    months = max_age_months()
    stale = stale_rows(read_legal_data(PROJECT_ROOT / "data"), date.today(), months)
    listing = "\n".join(
        f"  {row.table}: {row.state_code} {row.state_name}, last verified {row.verified_on.isoformat()}"
        for row in stale
    )
    assert not stale, (
        f"{len(stale)} legal data row(s) were verified more than {months} months ago "
        f"(LEGAL_MAX_AGE_MONTHS); re-check them against their sources:\n{listing}"
    )
