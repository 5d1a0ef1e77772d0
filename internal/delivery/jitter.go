package delivery

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"time"
)

// DefaultJitter is the spread of every scheduled retry delay: ±20%, as API.md ("What a
// receiver gets") promises, so that the retries of many deliveries that failed together
// (a receiver's outage) do not all come back at the same instant.
const DefaultJitter = 0.2

// Jitter spreads the scheduled delay d by up to ±fraction, by an amount fixed for the
// attempt (deliveryID, number): the same inputs always give the same delay, so a decision
// re-derived from a recorded attempt, or replayed by a workflow, agrees with the first.
// The factor is uniform over [1-fraction, 1+fraction), taken from the SHA-256 of the
// delivery id and attempt number (FNV's weak mixing of the last bytes left attempts 1, 2
// and 3 within a millisecond of each other); the result is rounded to the millisecond. A
// fraction of 0 or less, or a d of 0 or less, returns d unchanged; fraction is capped at 1.
func Jitter(d time.Duration, fraction float64, deliveryID string, number int) time.Duration {
	if fraction <= 0 || d <= 0 {
		return d
	}
	fraction = min(fraction, 1)
	sum := sha256.Sum256(strconv.AppendInt([]byte(deliveryID+"\x00"), int64(number), 10))
	u := float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53) // uniform in [0, 1)
	factor := 1 + fraction*(2*u-1)
	return time.Duration(float64(d) * factor).Round(time.Millisecond)
}
