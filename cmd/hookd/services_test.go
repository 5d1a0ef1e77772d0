package main

import (
	"io"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/hookd/hookd/internal/config"
)

// TestTemporalRequestsGoUncompressed: hookd's Temporal client does not gzip its requests
// (the SDK's default), whatever else is configured; see temporalOptions.
func TestTemporalRequestsGoUncompressed(t *testing.T) {
	for _, cfg := range []config.Config{
		{TemporalAddress: "127.0.0.1:7233", TemporalNamespace: "default"},
		{TemporalAddress: "ns.tmprl.cloud:7233", TemporalNamespace: "ns", TemporalTLS: true, TemporalAPIKey: "k"},
	} {
		opts := temporalOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if _, ok := opts.ConnectionOptions.GrpcCompression.(*client.GrpcCompressionNone); !ok {
			t.Errorf("%s: GrpcCompression %T, want *client.GrpcCompressionNone", cfg.TemporalAddress, opts.ConnectionOptions.GrpcCompression)
		}
	}
}
