"""Attendance pipeline: turns daily school register extracts into an event log and marts."""
