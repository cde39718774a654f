"""The schools reference as the generator made it: what the `schools` mart must say.

Independent of the project's SQL: read straight from the generator's schools, which every
delivered extract carries (one schools row per school and extract, never changed)."""

from synthetic import SyntheticLA


def expected_schools(la: SyntheticLA, last_day_index: int) -> dict[tuple, dict]:
    """Keyed by (urn,): every school of the authority, which sends an extract each day."""
    del last_day_index  # a school's reference data does not change over the generated days
    return {
        (school.urn,): {
            "la_code": school.la_code,
            "school_name": school.name,
            "phase": school.phase,
        }
        for school in la.schools
    }


def school_names(la: SyntheticLA) -> dict[str, str]:
    """Each school's name by URN, as a report must show it."""
    return {school.urn: school.name for school in la.schools}
