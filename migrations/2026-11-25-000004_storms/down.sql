DROP INDEX hurricanes_position_idx;
DROP TRIGGER storms_refresh_insert ON hurricanes;
DROP TRIGGER storms_refresh_update ON hurricanes;
DROP TRIGGER storms_refresh_delete ON hurricanes;
DROP TRIGGER storms_refresh_truncate ON hurricanes;
DROP FUNCTION storms_after_insert(), storms_after_update(), storms_after_delete(),
    storms_after_truncate(), storms_refresh(smallint[]);
DROP TABLE storms;
