"""Pull register extracts from a school-MIS-style HTTP feed into the landing folder.

The pull is split by job: `client` (authenticated GETs with retries, and what each failure
means), `deadline` (each request's and the whole pull's wall-clock deadline), `listing` (a
page of the feed's listing, checked), `checked_writer` (a file put in place only whole and
checked), `cursor` (the committed position, one pull per source at a time) and `pull` (the
walk through the pages); `config` reads the settings and limits from the environment.

The feed lists extracts a page at a time, oldest first, behind an opaque cursor (the API is in
docs/http-pull.md; `synthetic.mis_feed` is a reference implementation). Each extract's
files land as `landing/<source>/<urn>/<stamp>/<name>`, where the ingester finds them like any
other delivered file.

Why it is shaped this way:
- A file is written under a hidden temporary name, checked against the sha256 the feed
  listed, flushed to disk and only then renamed into place: the ingester never sees a partial
  or damaged file, whenever it runs.
- The cursor is committed (`landing/.pull-state/<source>.json`, replaced atomically) only
  after every file of a page is on disk. A pull that fails resumes at the first page not
  committed; files of that page already on disk with the right checksum are not fetched again.
- 429, 5xx, dropped connections and checksum mismatches are retried with exponential
  back-off (or the server's Retry-After), a bounded number of times; then `PullFailed` says
  what failed and what was kept. 401/403/404 and other 4xx are not retried: retrying cannot
  fix them.
- The token goes only in the Authorization header, only to the base URL's own origin
  (redirects are refused), and never into a log line or an error message.
- A broken or hostile feed costs a bounded time and bounded bytes: each request's whole
  answer and the whole pull have wall-clock deadlines, and a listing page and a file are read
  no further than their size limits (docs/http-pull.md#limits).
"""

from ingestion.http_pull.config import DEFAULT_SOURCE, SOURCE_ENV, TOKEN_ENV, URL_ENV
from ingestion.http_pull.cursor import read_cursor, state_path
from ingestion.http_pull.errors import PullFailed
from ingestion.http_pull.pull import PullSummary, pull_extracts, pull_from_environment

__all__ = [
    "DEFAULT_SOURCE",
    "SOURCE_ENV",
    "TOKEN_ENV",
    "URL_ENV",
    "PullFailed",
    "PullSummary",
    "pull_extracts",
    "pull_from_environment",
    "read_cursor",
    "state_path",
]
