package devtemporal

import (
	"context"
	"fmt"
	"net/http"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// uiReadyTimeout bounds the wait for the UI to answer after it starts.
const uiReadyTimeout = 10 * time.Second

// uiServer is a running Temporal Web UI, served from the assets compiled
// into github.com/temporalio/ui-server/v2.
type uiServer struct {
	srv  *uiserver.Server
	done chan struct{}
}

// startUI starts the UI on p.ui and waits until its health check answers.
// The UI needs no running Temporal frontend to start: it dials
// frontendHostPort per request.
func startUI(ctx context.Context, o Options, p ports, frontendHostPort string) (*uiServer, error) {
	addr := hostPort(o.IP, p.ui)
	// ui-server's Start exits the process (echo's Logger.Fatal) when it cannot
	// listen, so look again right before it tries.
	if err := checkPortFree(o.IP, p.ui); err != nil {
		return nil, fmt.Errorf("start temporal ui: %w", err)
	}
	u := &uiServer{
		srv: uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
			Host:                o.IP,
			Port:                p.ui,
			TemporalGRPCAddress: frontendHostPort,
			EnableUI:            true,
			DefaultNamespace:    o.Namespace,
			DisableNewsFetch:    true,                                // offline: nothing fetched from outside
			CORS:                uiconfig.CORS{CookieInsecure: true}, // plain HTTP on loopback
			HideLogs:            true,
		})),
		done: make(chan struct{}),
	}
	go func() {
		defer close(u.done)
		_ = u.srv.Start() // returns once stopped; listen errors exit inside
	}()
	if err := waitHTTP(ctx, "http://"+addr+"/healthz", uiReadyTimeout); err != nil {
		u.stop()
		return nil, fmt.Errorf("start temporal ui: %w", err)
	}
	return u, nil
}

// stop closes the UI's listener and connections and waits for it to return.
func (u *uiServer) stop() {
	if u == nil {
		return
	}
	u.srv.Stop()
	<-u.done
}

// waitHTTP polls url until it answers 200, ctx ends or timeout passes.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("build request: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last: %v)", url, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
