package store

// StatsSQL exposes the statement behind Stats and Timeseries to the benchmark, which
// prints its plans (EXPLAIN ANALYZE).
var StatsSQL = statsSQL
