DROP INDEX hurricanes_position_idx;
DROP TRIGGER storms_refresh_insert ON hurricanes;
DROP TRIGGER storms_refresh_update ON hurricanes;
DROP TRIGGER storms_refresh_delete ON hurricanes;
DROP TRIGGER storms_refresh_truncate ON hurricanes;
DROP FUNCTION storms_after_write(), storms_refresh(smallint[]);
DROP TABLE storms;
