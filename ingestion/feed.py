"""The register extract contract (FEED_SPEC version 1): file kinds and their columns."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FileKind:
    name: str
    required_columns: tuple[str, ...]
    optional_columns: tuple[str, ...]

    @property
    def known_columns(self) -> tuple[str, ...]:
        return self.required_columns + self.optional_columns


SCHOOLS = FileKind("schools", ("urn", "la_code", "name"), ("phase",))
PUPILS = FileKind(
    "pupils",
    ("urn", "upn", "date_of_birth", "admission_date", "sen_provision", "extracted_at"),
    (
        "sex",
        "ncy",
        "leaving_date",
        "sen_primary_need",
        "fsm_eligible",
        "looked_after",
        "child_in_need",
        "child_protection_plan",
        "effective_date",
    ),
)
MARKS = FileKind(
    "marks",
    ("urn", "upn", "session_date", "session", "extracted_at"),
    ("code", "minutes_late", "last_modified"),
)

# Ingested in this order within one extract, so that a mark's pupil is known before the mark.
KINDS = (SCHOOLS, PUPILS, MARKS)

# Columns that name a person: read past, never kept anywhere (not even in quarantine).
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
    """The file's kind from its name's prefix, if it has a FEED_SPEC ending; else None."""
    lower = file_name.lower()
    if not lower.endswith(FORMATS):
        return None
    for kind in KINDS:
        if lower.startswith(kind.name):
            return kind
    return None
