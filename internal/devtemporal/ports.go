package devtemporal

import (
	"errors"
	"fmt"
	"net"

	"github.com/hookd/hookd/internal/devenv"
)

// ports are the concrete ports of one server, all on Options.IP.
type ports struct {
	frontend, http, ui        int // http 0: disabled; ui 0: no UI
	history, matching, worker int // internal gRPC services
}

// allocatePorts resolves the ports a server will use: it checks that the
// ones chosen by the caller are free, so a clash is an error here rather than
// a fatal log line deep inside the server, and picks free ones for the rest.
// Another process can still take a picked port before the server binds it,
// the same small race `temporal server start-dev` accepts.
func allocatePorts(o Options) (ports, error) {
	var p ports
	var errs []error
	picked := make(map[int]bool) // FreePort does not know the ports it gave before
	want := func(name string, port int) int {
		switch {
		case port == Disabled:
			return 0
		case port == 0:
			for {
				free, err := devenv.FreePort(o.IP)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s port: %w", name, err))
					return 0
				}
				if !picked[free] {
					picked[free] = true
					return free
				}
			}
		default:
			if err := checkPortFree(o.IP, port); err != nil {
				errs = append(errs, fmt.Errorf("%s port: %w", name, err))
			}
			picked[port] = true
			return port
		}
	}
	p.frontend = want("frontend", o.FrontendPort)
	p.http = want("frontend HTTP", o.HTTPPort)
	p.ui = want("UI", o.UIPort)
	p.history = want("history", 0)
	p.matching = want("matching", 0)
	p.worker = want("worker", 0)
	if err := errors.Join(errs...); err != nil {
		return p, fmt.Errorf("allocate ports: %w", err)
	}
	return p, nil
}

func checkPortFree(ip string, port int) error {
	l, err := net.Listen("tcp", hostPort(ip, port))
	if err != nil {
		return fmt.Errorf("%s is not free: %w", hostPort(ip, port), err)
	}
	return l.Close()
}
