package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// writeText prints a result for people.
func writeText(w io.Writer, r *Result) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("herald bench %s: target %s at %s", r.Scenario, r.Target, strings.Join(r.urls(), ", "))
	p("%-16s %d clients, %d worker(s), %d source address(es), size %d B, duration %.0fs",
		"setup", r.Clients, r.Workers, r.SourceIPs, r.Size, r.Duration)
	switch {
	case r.Scenario == scenarioChurn:
		p("%-16s %d connects-and-subscribes (%.0f/s), %d failed", "churn", r.Connected, r.ConnectionsPerSecond, r.ConnectFailures)
	case r.Storm != nil:
		s := r.Storm
		p("%-16s %d subscribed in %.2fs (%.0f handshakes/s), %d failed", "storm", r.Connected, s.Seconds, s.HandshakesPerSecond, r.ConnectFailures)
		p("%-16s %d recovered, %d publications (%d missed each), %d short", "recovery", s.Recovered, s.RecoveredPublications, s.Missed, s.Short)
	default:
		p("%-16s %d in %.2fs (%.0f connections/s), %d failed", "connected", r.Connected, r.SetupSeconds, r.ConnectionsPerSecond, r.ConnectFailures)
	}
	p("%-16s %s", "connect latency", latencyLine(r.ConnectLatency))
	if pub := r.Publications; pub != nil {
		p("%-16s %d sent, %d ok, %d failed (%.1f/s)", "publications", pub.Sent, pub.OK, pub.Failed, pub.PerSecond)
		if pub.LastError != "" {
			p("%-16s %s", "last failure", pub.LastError)
		}
	}
	if r.Scenario == scenarioFanout || r.Scenario == scenarioChat {
		p("%-16s %d (%.0f/s), expected %d, lost %d, duplicated %d", "deliveries",
			r.Deliveries, r.DeliveriesPerSecond, r.Expected, r.Lost, r.Duplicates)
		p("%-16s %s", "latency", latencyLine(r.Latency))
		p("%-16s %d bytes read by the clients, %.1f per delivery (%s)", "wire", r.WireBytes, r.WireBytesPerDelivery, r.Encoding)
	}
	if s := r.Server; s != nil {
		label := "server"
		if len(s.Processes) > 1 {
			label = fmt.Sprintf("server (%d PIDs)", len(s.Processes))
		}
		line := fmt.Sprintf("RSS %.1f MiB -> %.1f MiB", float64(s.RSSBeforeKiB)/1024, float64(s.RSSAfterKiB)/1024)
		if s.RSSPerClientBytes != 0 {
			line += fmt.Sprintf(" (%.2f KB per client)", s.RSSPerClientBytes/1000)
		}
		line += fmt.Sprintf("; CPU %.2fs (%.0f%% of a core)", s.CPUSeconds, s.CPUPercent)
		if s.CPUPerDeliveryUS > 0 {
			line += fmt.Sprintf(", %.2f µs per delivery", s.CPUPerDeliveryUS)
		}
		if s.CPUPerConnectionUS > 0 {
			line += fmt.Sprintf(", %.0f µs per connection", s.CPUPerConnectionUS)
		}
		if s.WriteCallsPerDelivery > 0 {
			line += fmt.Sprintf(", %.3f write calls per delivery", s.WriteCallsPerDelivery)
		}
		if len(s.Processes) > 1 {
			line = "sum: " + line
		}
		p("%-16s %s", label, line)
		if len(s.Processes) > 1 {
			for _, pu := range s.Processes {
				p("%-16s pid %d %s: RSS %.1f MiB -> %.1f MiB; CPU %.2fs (%.0f%% of a core); %d write calls", "", pu.PID, pu.Name,
					float64(pu.RSSBeforeKiB)/1024, float64(pu.RSSAfterKiB)/1024, pu.CPUSeconds, pu.CPUPercent, pu.WriteCalls)
			}
		}
	}
	for _, g := range r.Generator.Workers {
		p("%-16s worker %d: %d clients, %.0f%% of a core (peak %.0f%%), RSS %.1f MiB",
			"load generator", g.Worker, g.Clients, g.CPUPercent, g.PeakPercent, float64(g.RSSKiB)/1024)
	}
	p("%-16s coordinator %.0f%% of a core; machine CPUs %.0f%% busy", "", r.Generator.CoordinatorCPU, r.MachineBusyPercent)
	p("%-16s %d (connections dropped %d, unreadable messages %d)", "errors", r.Errors, r.Dropped, r.BadMessages)
	kinds := make([]string, 0, len(r.ErrorKinds))
	for k := range r.ErrorKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		p("%-16s %6d  %s", "", r.ErrorKinds[k], k)
	}
	for _, warning := range r.Warnings {
		p("warning: %s", warning)
	}
}

// latencyLine formats a latency summary.
func latencyLine(l Latency) string {
	if l.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%d samples)",
		ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max), l.Count)
}

// ms formats milliseconds with sensible precision.
func ms(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%.3fms", v)
	case v < 100:
		return fmt.Sprintf("%.2fms", v)
	default:
		return fmt.Sprintf("%.0fms", v)
	}
}

// urls is every target URL, or the single one of a result that predates
// the list.
func (r *Result) urls() []string {
	if len(r.URLs) > 0 {
		return r.URLs
	}
	return []string{r.URL}
}
