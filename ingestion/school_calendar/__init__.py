"""A school calendar: the days each school is expected open, for the missing and stale feed
alerts and the `school_feed_status` mart (docs/usage.md, "School calendar").

`term_dates.py` reads the LA's term dates file (ATTENDANCE_TERM_DATES), `expected_days.py`
learns the open days from the registers and writes the days each school is expected open
to `ops.school_calendar`.
"""
