package activities

// replayService is what the replay activities ask of the service (internal/dispatch).
// Skeleton: the replays work of issue 9 declares its methods.
type replayService interface{}
