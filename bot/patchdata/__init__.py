"""Device data from the RMM: imports, API pulls, deadlines per device and update, and where a client stands."""
