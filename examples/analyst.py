#!/usr/bin/env python3
"""hurricane-db from pandas, as an analyst: a reader login, SQLAlchemy and psycopg2.

    python3 -m pip install pandas sqlalchemy psycopg2-binary
    export HURRICANE_DB_URL="$(hurricane-db db url --user ana)"   # a reader login
    export PGPASSWORD=...                                         # or ~/.pgpass
    python3 examples/analyst.py

HURRICANE_DB_URL (else DATABASE_URL) is a libpq URL (postgresql://user@host:port/db).
SQLAlchemy 2.1 maps a bare postgresql:// to the psycopg 3 driver, so the scheme is
rewritten to postgresql+psycopg2:// here; libpq still reads PGPASSWORD and ~/.pgpass.

Numbers: lat, long and shape_length are numeric columns. psycopg2 returns them as
decimal.Decimal (exact: 25.700000 is 25.7, not 25.699999999999999). pandas.read_sql
converts them to float64 by default (coerce_float=True): fine for plots and means.
With coerce_float=False they stay Decimal in an object column: exact, slower, and
what you want to compare or sum to the last digit; .astype(float) converts later.
pressure is NULL when not measured: as float64 that is NaN; dtype={"pressure":
"Int16"} keeps whole numbers with <NA>. Times are timestamptz and arrive as
datetime64[us, UTC].
"""

import decimal
import os
import sys

import pandas as pd
from sqlalchemy import create_engine, text


def engine_from_env():
    url = os.environ.get("HURRICANE_DB_URL") or os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("analyst.py: set HURRICANE_DB_URL to a reader login's URL")
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            url = "postgresql+psycopg2://" + url[len(scheme):]
    return create_engine(url)


def main():
    engine = engine_from_env()
    with engine.connect() as conn:
        who = conn.execute(
            text(
                "SELECT current_user AS login, "
                "has_table_privilege('hurricanes', 'INSERT') AS can_insert"
            )
        ).one()
        print(f"login: {who.login} (may insert into hurricanes: {who.can_insert})")

        cats = pd.read_sql(
            text("SELECT code, meaning, saffir_simpson FROM categories ORDER BY code"), conn
        )
        print(f"categories: {len(cats)} codes: {', '.join(cats.code)}")
        h5 = cats.set_index("code").loc["H5"]
        print(f"H5 means: {h5.meaning}")

        # The H5 observations of 2005, with what their category means.
        sql = text(
            "SELECT h.fid, h.name, h.\"timestamp\", h.lat, h.long, h.wind_kts, h.pressure, "
            "       c.saffir_simpson "
            "FROM hurricanes h JOIN categories c ON c.code = h.cat "
            "WHERE h.cat = :cat AND h.\"timestamp\" >= :start AND h.\"timestamp\" < :end "
            "ORDER BY h.fid"
        )
        params = {"cat": "H5", "start": "2005-01-01T00:00:00Z", "end": "2006-01-01T00:00:00Z"}

        floats = pd.read_sql(sql, conn, params=params)  # coerce_float=True, the default
        print(f"rows: {len(floats)}; storms: {', '.join(sorted(floats.name.unique()))}")
        print(f"default read_sql: lat {floats.lat.dtype}, timestamp {floats.timestamp.dtype}")

        exact = pd.read_sql(sql, conn, params=params, coerce_float=False)
        first = exact.lat.iloc[0]
        print(
            f"coerce_float=False: lat {exact.lat.dtype}, "
            f"values {type(first).__module__}.{type(first).__name__} ({first!r})"
        )
        assert isinstance(first, decimal.Decimal)

        converted = exact.astype({"lat": float, "long": float})
        print(f"astype(float): lat {converted.lat.dtype}")

        # Exactness: the value stored, and what the float64 really holds.
        print(f"stored: {first}; as float64 it is {decimal.Decimal(float(first))}")

        print(floats.head(3).to_string(index=False))


if __name__ == "__main__":
    main()
