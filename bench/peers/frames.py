"""The data-frame peers: Polars (lazy) and idiomatic vectorised pandas, each computing the two
marts from the Parquet export as a user of that library would write it."""

from pathlib import Path

from bench.peers import CODE_SET_2024_FROM, PUPIL_COLUMNS, SEN_COLUMNS
from warehouse.project import suppress_counts_below

# Each mark's code category, and the count of a pupil's sessions it goes into.
CATEGORIES = ("present", "aea", "authorised", "unauthorised")
COUNT_COLUMNS = [
    "present_sessions",
    "aea_sessions",
    "authorised_absence_sessions",
    "unauthorised_absence_sessions",
]


def run_polars(source: Path, out: Path) -> None:
    import polars as pl

    order = ["transaction_time", "extracted_at", "ingested_at", "source_line"]
    codes = pl.scan_csv(source / "register_codes.csv", infer_schema=False).select(
        "code_set", "code", "category"
    )
    year = pl.col("session_date").dt.year()
    start_year = pl.when(pl.col("session_date").dt.month() >= 9).then(year).otherwise(year - 1)
    marks = (
        pl.scan_parquet(source / "mark_events.parquet")
        .sort(order, descending=True)
        .unique(subset=["urn", "upn", "session_date", "session"], keep="first")
        .with_columns(
            code_set=pl.when(pl.col("session_date") >= pl.date(2024, 8, 19))
            .then(pl.lit("2024"))
            .otherwise(pl.lit("pre2024")),
            start_year=start_year.cast(pl.Int32),
        )
        .join(codes, on=["code_set", "code"], how="left")
    )
    counted = marks.group_by("urn", "upn", "start_year").agg(
        [
            (pl.col("category") == name).sum().cast(pl.Int32).alias(column)
            for name, column in zip(CATEGORIES, COUNT_COLUMNS, strict=True)
        ]
    )
    pupils = (
        pl.scan_parquet(source / "pupil_events.parquet")
        .sort(order, descending=True)
        .unique(subset=["urn", "upn"], keep="first")
        .select("urn", "upn", "sen_provision", "sen_primary_need")
    )
    possible = pl.sum_horizontal(COUNT_COLUMNS)
    absence = pl.col("authorised_absence_sessions") + pl.col("unauthorised_absence_sessions")
    enrolments = (
        counted.with_columns(possible_sessions=possible.cast(pl.Int32))
        .filter(pl.col("possible_sessions") > 0)
        .with_columns(
            academic_year=pl.format(
                "{}/{}",
                pl.col("start_year"),
                (pl.col("start_year") + 1).cast(pl.Utf8).str.slice(2, 2),
            ),
            is_persistent_absence=absence * 10 >= pl.col("possible_sessions"),
            is_severe_absence=absence * 2 >= pl.col("possible_sessions"),
        )
        .join(pupils, on=["urn", "upn"], how="left")
        .select(PUPIL_COLUMNS)
        .collect()
    )
    enrolments.write_parquet(out / "pupil_attendance.parquet")
    schools = (
        pl.scan_parquet(source / "school_events.parquet")
        .sort(order, descending=True)
        .unique(subset=["urn"], keep="first")
        .select("urn", "la_code")
        .filter(pl.col("la_code").is_not_null())
    )
    located = pl.concat(
        [
            enrolments.lazy().with_columns(level=pl.lit("school"), area=pl.col("urn")),
            enrolments.lazy()
            .join(schools, on="urn", how="inner")
            .with_columns(level=pl.lit("la"), area=pl.col("la_code"))
            .drop("la_code"),
        ]
    )
    below = pl.lit(suppress_counts_below())

    def is_small(column: str) -> pl.Expr:
        return (pl.col(column) >= 1) & (pl.col(column) < below)

    grouped = located.group_by("level", "area", "academic_year", "sen_provision").agg(
        schools=pl.col("urn").n_unique().cast(pl.Int32),
        enrolments=pl.len().cast(pl.Int32),
        possible_sessions=pl.col("possible_sessions").sum().cast(pl.Int32),
        absence_sessions=(
            pl.col("authorised_absence_sessions") + pl.col("unauthorised_absence_sessions")
        )
        .sum()
        .cast(pl.Int32),
        persistent=pl.col("is_persistent_absence").sum().cast(pl.Int32),
        severe=pl.col("is_severe_absence").sum().cast(pl.Int32),
    )
    group = is_small("enrolments")
    persistent = group | is_small("persistent")
    severe = group | is_small("severe")
    by_sen = grouped.with_columns(
        enrolments=pl.when(group).then(None).otherwise(pl.col("enrolments")),
        possible_sessions=pl.when(group).then(None).otherwise(pl.col("possible_sessions")),
        absence_sessions=pl.when(group).then(None).otherwise(pl.col("absence_sessions")),
        persistent_absence_enrolments=pl.when(persistent).then(None).otherwise("persistent"),
        severe_absence_enrolments=pl.when(severe).then(None).otherwise("severe"),
        suppressed=group | persistent | severe,
    ).select(SEN_COLUMNS)
    by_sen.collect().write_parquet(out / "attendance_by_sen.parquet")


def run_pandas(source: Path, out: Path) -> None:
    """Idiomatic vectorised pandas: sort and drop duplicates, merge, groupby."""
    import numpy as np
    import pandas as pd

    order = ["transaction_time", "extracted_at", "ingested_at", "source_line"]
    marks = pd.read_parquet(
        source / "mark_events.parquet",
        columns=["urn", "upn", "session_date", "session", "code", *order],
    )
    marks = marks.sort_values(order, ascending=False).drop_duplicates(
        ["urn", "upn", "session_date", "session"], keep="first"
    )
    dates = pd.to_datetime(marks["session_date"])
    marks["code_set"] = np.where(dates >= pd.Timestamp(CODE_SET_2024_FROM), "2024", "pre2024")
    marks["start_year"] = np.where(dates.dt.month >= 9, dates.dt.year, dates.dt.year - 1)
    codes = pd.read_csv(source / "register_codes.csv", dtype=str, keep_default_na=False)
    marks = marks.merge(
        codes[["code_set", "code", "category"]], on=["code_set", "code"], how="left"
    )
    for category, column in zip(CATEGORIES, COUNT_COLUMNS, strict=True):
        marks[column] = (marks["category"] == category).astype("int32")
    counted = marks.groupby(["urn", "upn", "start_year"], as_index=False)[COUNT_COLUMNS].sum()
    counted["possible_sessions"] = counted[COUNT_COLUMNS].sum(axis=1).astype("int32")
    counted = counted[counted["possible_sessions"] > 0].copy()
    absence = counted["authorised_absence_sessions"] + counted["unauthorised_absence_sessions"]
    counted["is_persistent_absence"] = absence * 10 >= counted["possible_sessions"]
    counted["is_severe_absence"] = absence * 2 >= counted["possible_sessions"]
    counted["academic_year"] = (
        counted["start_year"].astype(str) + "/" + (counted["start_year"] + 1).astype(str).str[2:]
    )
    pupils = pd.read_parquet(
        source / "pupil_events.parquet",
        columns=["urn", "upn", "sen_provision", "sen_primary_need", *order],
    )
    pupils = pupils.sort_values(order, ascending=False).drop_duplicates(["urn", "upn"])
    enrolments = counted.merge(
        pupils[["urn", "upn", "sen_provision", "sen_primary_need"]], on=["urn", "upn"], how="left"
    )[PUPIL_COLUMNS]
    enrolments.to_parquet(out / "pupil_attendance.parquet", index=False)

    schools = pd.read_parquet(source / "school_events.parquet")
    schools = schools.sort_values(order, ascending=False).drop_duplicates(["urn"])
    schools = schools[schools["la_code"].notna()][["urn", "la_code"]]
    at_school = enrolments.assign(level="school", area=enrolments["urn"])
    in_la = enrolments.merge(schools, on="urn").rename(columns={"la_code": "area"})
    located = pd.concat([at_school, in_la.assign(level="la")], ignore_index=True)
    located["absence_sessions"] = (
        located["authorised_absence_sessions"] + located["unauthorised_absence_sessions"]
    )
    grouped = located.groupby(
        ["level", "area", "academic_year", "sen_provision"], as_index=False, dropna=False
    ).agg(
        schools=("urn", "nunique"),
        enrolments=("urn", "size"),
        possible_sessions=("possible_sessions", "sum"),
        absence_sessions=("absence_sessions", "sum"),
        persistent=("is_persistent_absence", "sum"),
        severe=("is_severe_absence", "sum"),
    )
    below = suppress_counts_below()

    def small(column: str) -> pd.Series:
        return grouped[column].between(1, below - 1)

    group = small("enrolments")
    persistent = group | small("persistent")
    severe = group | small("severe")
    by_sen = grouped.assign(
        enrolments=grouped["enrolments"].astype("Int32").mask(group),
        possible_sessions=grouped["possible_sessions"].astype("Int32").mask(group),
        absence_sessions=grouped["absence_sessions"].astype("Int32").mask(group),
        persistent_absence_enrolments=grouped["persistent"].astype("Int32").mask(persistent),
        severe_absence_enrolments=grouped["severe"].astype("Int32").mask(severe),
        suppressed=group | persistent | severe,
        schools=grouped["schools"].astype("int32"),
    )[SEN_COLUMNS]
    by_sen.to_parquet(out / "attendance_by_sen.parquet", index=False)
