// Package render turns an event into the body a receiver gets. It owns the default
// envelope described in API.md ("What a receiver gets"); URL placeholders and body
// templates belong here too.
package render
