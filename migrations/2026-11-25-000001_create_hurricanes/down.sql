DROP TABLE hurricanes;
