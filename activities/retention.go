package activities

// retentionStore is what the retention activity deletes through. Skeleton: the retention
// work of issue 9 declares its methods.
type retentionStore interface{}
