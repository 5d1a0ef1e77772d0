// Package ids makes the opaque, prefixed, time-sortable identifiers the API hands out
// (wh_…, evt_…, dlv_…, att_…, bat_…, rpl_…, key_…, org_…).
package ids

import (
	"crypto/rand"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Prefixes of the identifiers hookd mints.
const (
	Webhook      = "wh"
	Event        = "evt"
	Delivery     = "dlv"
	Attempt      = "att"
	Batch        = "bat"
	Replay       = "rpl"
	APIKey       = "key"
	Organization = "org"
)

// New returns prefix_<ulid> in lower case. Identifiers made later sort after earlier ones
// (to the millisecond), which is what cursor paging relies on.
func New(prefix string) string {
	id := ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader)
	return prefix + "_" + strings.ToLower(id.String())
}

// HasPrefix reports whether id looks like one minted with prefix.
func HasPrefix(id, prefix string) bool {
	return strings.HasPrefix(id, prefix+"_")
}
