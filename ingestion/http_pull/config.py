"""The pull's configuration, read from the environment by the DAG's pull task."""

# No URL, no pull (docs/http-pull.md).
URL_ENV = "ATTENDANCE_FEED_URL"
TOKEN_ENV = "ATTENDANCE_FEED_TOKEN"
SOURCE_ENV = "ATTENDANCE_FEED_SOURCE"
DEFAULT_SOURCE = "mis"
