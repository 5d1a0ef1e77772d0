package webhook

import "github.com/hookd/hookd/internal/validation"

// A webhook's status (API.md "status"). It is not one of the Settings, because hookd
// changes it too: an admin writes StatusEnabled or StatusDisabled, and hookd sets
// StatusDisabledDueToErrors (today when the receiver answers 410 Gone). Writing
// StatusEnabled clears that and the consecutive failure count.
const (
	StatusEnabled             = "ENABLED"
	StatusDisabled            = "DISABLED"
	StatusDisabledDueToErrors = "DISABLED_DUE_TO_ERRORS"
)

// ValidateStatus checks a status an admin writes and returns nil or a *validation.Errors
// naming "status": only StatusEnabled and StatusDisabled may be written.
func ValidateStatus(status string) error {
	var v validation.Errors
	switch status {
	case StatusEnabled, StatusDisabled:
	case StatusDisabledDueToErrors:
		v.Add("status", "is set only by hookd; write ENABLED or DISABLED")
	default:
		v.Add("status", "must be ENABLED or DISABLED")
	}
	return v.Err()
}
