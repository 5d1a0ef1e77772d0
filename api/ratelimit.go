package api

import (
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// maxBuckets bounds the rate limits' memory: past this many API keys in use, the bucket
// of the key least recently seen is dropped (about 100 bytes each). A dropped key starts
// again with a full bucket, which only errs on the side of letting it through.
const maxBuckets = 10_000

// keyLimits is a token bucket per API key (golang.org/x/time/rate), keyed by the key's
// id. The buckets live in this process's memory: with N API replicas behind a load
// balancer a key gets up to N times the limit.
type keyLimits struct {
	perSecond int
	buckets   *lru.Cache[string, *rate.Limiter]
}

// newKeyLimits returns limits of perSecond requests per second per key, with a burst of
// as many; nil (no limit) when perSecond is 0 or less.
func newKeyLimits(perSecond int) *keyLimits {
	if perSecond <= 0 {
		return nil
	}
	buckets, err := lru.New[string, *rate.Limiter](maxBuckets)
	if err != nil { // only for a size below 1
		panic(err)
	}
	return &keyLimits{perSecond: perSecond, buckets: buckets}
}

// bucket returns keyID's bucket, making a full one for a key not seen (or dropped).
func (l *keyLimits) bucket(keyID string) *rate.Limiter {
	if b, ok := l.buckets.Get(keyID); ok {
		return b
	}
	b := rate.NewLimiter(rate.Limit(l.perSecond), l.perSecond)
	if prev, ok, _ := l.buckets.PeekOrAdd(keyID, b); ok {
		return prev // a concurrent request of the same key made it first
	}
	return b
}

// limitRate answers 429 with Retry-After once the caller's key has used up its bucket;
// it runs after authenticate, so an unknown key is a 401 and costs no bucket. The
// refused request takes no token, and Retry-After is the wait for the next one in whole
// seconds, at least 1 (RFC 9110 §10.2.3 takes only whole seconds).
func (s *server) limitRate(c *gin.Context) {
	if s.limits == nil {
		return
	}
	now := s.now()
	r := s.limits.bucket(caller(c).KeyID).ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if wait == 0 {
		return
	}
	r.CancelAt(now)
	c.Header("Retry-After", strconv.Itoa(retryAfterSeconds(wait.Seconds())))
	fail(c, errorf(http.StatusTooManyRequests,
		"this API key may make %d requests per second to each hookd API process; nothing was done, send again after Retry-After seconds",
		s.limits.perSecond))
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1; rate.InfDuration (a
// reservation that can never be met) becomes a day.
func retryAfterSeconds(wait float64) int {
	const day = 24 * 60 * 60
	return int(min(max(math.Ceil(wait), 1), day))
}
