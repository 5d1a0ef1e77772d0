// Package activities holds hookd's side effects, run by Temporal on behalf of workflows:
// one delivery attempt loads the webhook and event, renders and signs the body, sends it
// through the SSRF-safe client, and records the attempt and the delivery's new state.
package activities
