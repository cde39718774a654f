"""How a pull fails: one request (`Failure`, `RequestFailed`) or the whole pull (`PullFailed`)."""


class PullFailed(Exception):
    """The pull stopped. Everything committed before it stays; the next pull resumes there."""

    def __init__(
        self,
        reason: str,
        *,
        url: str | None = None,
        status: int | None = None,
        extracts_saved: int = 0,
        extracts_committed: int = 0,
    ) -> None:
        self.reason = reason
        self.url = url
        self.status = status
        self.extracts_saved = extracts_saved
        self.extracts_committed = extracts_committed
        super().__init__(self._message())

    def _message(self) -> str:
        if self.url is None:
            # Refused before any request: configuration or local state to fix.
            return f"pull from the feed failed: {self.reason}"
        saved = (
            "1 extract was" if self.extracts_saved == 1 else f"{self.extracts_saved} extracts were"
        )
        return (
            f"pull from the feed failed (GET {self.url}): {self.reason}. "
            f"{saved} saved by this pull before the failure "
            f"({self.extracts_committed} in committed pages); "
            "the next pull resumes after the last committed page"
        )


class Failure(Exception):
    """One request failed; `retryable` says whether trying again might help."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class RequestFailed(Exception):
    def __init__(self, url: str, failure: Failure, attempts: int) -> None:
        self.url = url
        self.failure = failure
        self.attempts = attempts
