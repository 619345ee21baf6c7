"""Threat feeds: CISA KEV and Microsoft's Patch Tuesday, read on a schedule, turned into reviews and digests."""
