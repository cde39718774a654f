"""The register extract contract (docs/feed.md): file kinds and their columns, declared once.

Everything else that lists a kind's columns derives from here: what the readers keep, the
Arrow schema of the rows a round stages, the event columns of each store stream, and the
columns the synthetic generator writes.
"""

from dataclasses import dataclass

import pyarrow as pa

TEXT, DATE, TIMESTAMP, INTEGER, BOOLEAN = "text", "date", "timestamp", "integer", "boolean"
_ARROW_TYPES = {
    TEXT: pa.string(),
    DATE: pa.date32(),
    TIMESTAMP: pa.timestamp("us", tz="UTC"),
    INTEGER: pa.int32(),
    BOOLEAN: pa.bool_(),
}
# Every time an event carries (transaction, extract, ingest), as Arrow holds it.
EVENT_TIME = _ARROW_TYPES[TIMESTAMP]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    # The event column that stores it, when not of the same name; None with `stored=False`.
    stored_as: str | None = None
    # False: read and checked, but no event column of its own (a name column is never read).
    stored: bool = True
    # A person's name: read past, never kept anywhere, not even in quarantine.
    personal: bool = False

    @property
    def event_column(self) -> str:
        return self.stored_as or self.name


@dataclass(frozen=True)
class FileKind:
    name: str
    columns: tuple[Column, ...]

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def optional_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not c.required and not c.personal)

    @property
    def known_columns(self) -> tuple[str, ...]:
        """The columns the pipeline reads (required first, as the rules check them)."""
        return self.required_columns + self.optional_columns

    @property
    def file_columns(self) -> tuple[str, ...]:
        """Every column a file of this kind may carry, names included, in the contract's order."""
        return tuple(c.name for c in self.columns)

    @property
    def event_columns(self) -> tuple[str, ...]:
        """The columns of this kind's events, besides the times and provenance every event has."""
        return tuple(
            c.event_column
            for c in self.columns
            if c.stored and not c.personal and c.name not in ("extracted_at", "last_modified")
        )

    def arrow_schema(self) -> pa.Schema:
        """A staged row: its event columns typed, its two times, and its line in the file."""
        types = {c.event_column: _ARROW_TYPES[c.type] for c in self.columns}
        return pa.schema(
            [(name, types[name]) for name in self.event_columns]
            + [("transaction_time", EVENT_TIME), ("extracted_at", EVENT_TIME), ("line", pa.int32())]
        )


SCHOOLS = FileKind(
    "schools",
    (
        Column("urn", TEXT, required=True),
        Column("la_code", TEXT, required=True),
        Column("name", TEXT, required=True, stored_as="school_name"),
        Column("phase", TEXT),
    ),
)
PUPILS = FileKind(
    "pupils",
    (
        Column("urn", TEXT, required=True),
        Column("upn", TEXT, required=True),
        Column("forename", TEXT, stored=False, personal=True),
        Column("surname", TEXT, stored=False, personal=True),
        Column("date_of_birth", DATE, required=True),
        Column("sex", TEXT),
        Column("ncy", TEXT),
        Column("admission_date", DATE, required=True),
        Column("leaving_date", DATE),
        Column("sen_provision", TEXT, required=True),
        Column("sen_primary_need", TEXT),
        Column("fsm_eligible", BOOLEAN),
        Column("looked_after", BOOLEAN),
        Column("child_in_need", BOOLEAN),
        Column("child_protection_plan", BOOLEAN),
        # The valid time of the row's state: `effective_date`, else the extract's date.
        Column("effective_date", DATE, stored_as="valid_from"),
        Column("extracted_at", TIMESTAMP, required=True),
    ),
)
MARKS = FileKind(
    "marks",
    (
        Column("urn", TEXT, required=True),
        Column("upn", TEXT, required=True),
        Column("session_date", DATE, required=True),
        Column("session", TEXT, required=True),
        Column("code", TEXT),
        Column("minutes_late", INTEGER),
        # The mark's transaction time when sent (else `extracted_at`): not a column of its own.
        Column("last_modified", TIMESTAMP, stored=False),
        Column("extracted_at", TIMESTAMP, required=True),
    ),
)

# Ingested in this order within one extract, so that a mark's pupil is known before the mark.
KINDS = (SCHOOLS, PUPILS, MARKS)

# Columns that name a person, by the names MIS exports give them: read past, never kept
# anywhere (not even in quarantine).
NAME_COLUMNS = frozenset(
    {
        "forename",
        "surname",
        "first_name",
        "last_name",
        "name_of_pupil",
        "preferred_forename",
        "preferred_surname",
        "middle_names",
    }
)

FORMATS = (".csv", ".jsonl", ".csv.gz", ".jsonl.gz")


def kind_of(file_name: str) -> FileKind | None:
    """The file's kind from its name's prefix, if it has an extract's ending; else None."""
    lower = file_name.lower()
    if not lower.endswith(FORMATS):
        return None
    for kind in KINDS:
        if lower.startswith(kind.name):
            return kind
    return None
