// Package docs holds hookd's reference documents: API.md (the HTTP contract and wire
// format), ARCHITECTURE.md and STYLE.md. It has no code; its test keeps API.md and the
// served OpenAPI document (api/openapi.yaml) naming the same routes.
package docs
