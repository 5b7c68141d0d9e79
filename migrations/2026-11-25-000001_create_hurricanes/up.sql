-- One row per IHW observation (six-hourly, sometimes off-hour).
-- Column names mirror the IHW CSV; YEAR/MONTH/DAY/AD_TIME become one UTC timestamp.
CREATE TABLE hurricanes (
    fid          integer       PRIMARY KEY,
    "timestamp"  timestamptz   NOT NULL,
    btid         smallint      NOT NULL,
    name         varchar       NOT NULL,
    lat          numeric(8,6)  NOT NULL
        CONSTRAINT hurricanes_lat_range CHECK (lat BETWEEN -90 AND 90),
    long         numeric(9,6)  NOT NULL
        CONSTRAINT hurricanes_long_range CHECK (long BETWEEN -180 AND 180),
    wind_kts     smallint      NOT NULL
        CONSTRAINT hurricanes_wind_kts_nonnegative CHECK (wind_kts >= 0),
    -- NULL: not measured (the IHW file writes 0).
    pressure     smallint      NULL
        CONSTRAINT hurricanes_pressure_range CHECK (pressure BETWEEN 800 AND 1100),
    cat          varchar(2)    NOT NULL,
    basin        varchar(16)   NOT NULL,
    shape_length numeric(8,6)  NOT NULL
        CONSTRAINT hurricanes_shape_length_nonnegative CHECK (shape_length >= 0)
);

COMMENT ON TABLE hurricanes IS 'IHW hurricane track observations, one row per FID';
COMMENT ON COLUMN hurricanes.pressure IS 'millibars; NULL when not measured';
COMMENT ON COLUMN hurricanes.shape_length IS 'degrees to the storm''s next observation (0 at its last)';

-- A storm's track in time order.
CREATE INDEX hurricanes_btid_timestamp_idx ON hurricanes (btid, "timestamp");
-- Time-range scans.
CREATE INDEX hurricanes_timestamp_idx ON hurricanes ("timestamp");
