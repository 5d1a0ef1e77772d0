package store

// RetentionSQL exposes the retention steps' statements to the benchmark, which prints
// their plans (EXPLAIN ANALYZE).
var RetentionSQL = []struct{ Name, SQL string }{
	{"deliveries", deleteExpiredDeliveriesSQL},
	{"batches", deleteExpiredBatchesSQL},
	{"events", deleteExpiredEventsSQL},
	{"replay rows", deleteExpiredReplayRowsSQL},
	{"replays", deleteExpiredReplaysSQL},
}
