"""The kernel: who acts, the clock, the question bank, names and lookups of clients, escaping, durations, time
zones, settings, and the view types every capability returns. It imports nothing above it.
"""
