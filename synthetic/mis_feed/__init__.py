"""The reference school-MIS feed: a test and demo double of the HTTP feed the pull reads.

Not shipped in the wheel (pyproject.toml): production never serves a feed. Run it by hand
with `python -m synthetic.mis_feed --root DIR`.
"""

from synthetic.mis_feed.server import Faults, FeedServer, ServedRequest

__all__ = ["Faults", "FeedServer", "ServedRequest"]
