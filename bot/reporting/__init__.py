"""Reports, window check-ins, policy reviews and the audit pack."""
