package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// runCoordinator runs cfg's scenario across workers and returns the merged
// result. ctx ends the measured phase early (Ctrl-C).
func runCoordinator(ctx context.Context, cfg config, stderr io.Writer) (*Result, error) {
	co := &coordinator{cfg: cfg, stderr: stderr, started: time.Now(), phase: "setup"}
	r := &Result{
		Scenario: cfg.Scenario, Target: cfg.Target, Encoding: cfg.Encoding, URL: cfg.URLs[0], URLs: cfg.URLs,
		Clients: cfg.Clients, Workers: cfg.Workers, SourceIPs: max(1, len(cfg.SourceIPs)),
		Rate: cfg.Rate, Size: cfg.Size, Rooms: cfg.Rooms, Duration: cfg.Duration.Seconds(),
	}
	var srv *serverWatch
	if len(cfg.ServerPIDs) > 0 {
		var err error
		if srv, err = newServerWatch(cfg.ServerPIDs); err != nil {
			return nil, fmt.Errorf("--server-pid: %w", err)
		}
		if note := affinityReminder(cfg.ServerPIDs); note != "" {
			fmt.Fprintln(stderr, note)
		}
	}
	if err := co.spawn(); err != nil {
		_ = co.finish(5 * time.Second)
		return nil, err
	}

	// Setup: every worker connects its clients and says ready.
	allReady := func() bool {
		for _, wp := range co.workers {
			if !wp.ready {
				return false
			}
		}
		return true
	}
	setupStart := time.Now()
	if !co.until(ctx, setupStart.Add(cfg.SetupTimeout), allReady) {
		co.command("stop")
		werr := co.finish(15 * time.Second)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted while connecting clients")
		}
		return nil, fmt.Errorf("setup did not finish within %s (raise --setup-timeout, or lower --clients): %v", cfg.SetupTimeout, werr)
	}
	r.SetupSeconds = time.Since(setupStart).Seconds()
	setup := co.sum()
	if cfg.Scenario != scenarioChurn && cfg.Scenario != scenarioStorm {
		if setup.Connects == 0 {
			co.command("stop")
			co.until(context.Background(), time.Now().Add(5*time.Second), co.allResults)
			_ = co.finish(15 * time.Second)
			return nil, fmt.Errorf("no client could connect to %s (is the server running?): %s", strings.Join(cfg.URLs, ", "), co.firstErrors())
		}
		r.ConnectionsPerSecond = float64(setup.Connects) / r.SetupSeconds
	}

	// The measured phase.
	co.phase = "run"
	selfCPU0, _ := procCPU("self")
	busy0, total0, _ := machineCPU()
	if srv != nil {
		srv.start()
	}
	runStart := time.Now()
	co.command("go")
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	var pub *publisher
	pubDone := make(chan struct{})
	if cfg.Scenario == scenarioFanout {
		pub = newPublisher(cfg)
		co.pub = pub
		go func() {
			defer close(pubDone)
			pub.run(runCtx, cfg.Rate)
		}()
	} else {
		close(pubDone)
	}
	runUntil := func() bool { return false }
	if cfg.Scenario == scenarioStorm {
		runUntil = co.stormOver // --duration only bounds it
	}
	co.until(runCtx, runStart.Add(cfg.Duration), runUntil)
	co.phase = "drain"
	<-pubDone // waits for requests in flight
	cancel()
	runEnd := time.Now()
	elapsed := runEnd.Sub(runStart).Seconds()
	if srv != nil {
		r.Server = srv.stop(elapsed)
	}
	busy1, total1, _ := machineCPU()
	if total1 > total0 {
		r.MachineBusyPercent = 100 * (busy1 - busy0) / (total1 - total0)
	}
	selfCPU1, _ := procCPU("self")
	r.Generator.CoordinatorCPU = 100 * (selfCPU1 - selfCPU0) / elapsed

	// Stop, drain and collect.
	co.command("stop")
	collected := co.until(context.Background(), time.Now().Add(cfg.Drain+2*handshakeTimeout), co.allResults)
	werr := co.finish(30 * time.Second)
	if !collected {
		return nil, fmt.Errorf("workers did not report a result: %v", werr)
	}

	results := make([]*workerResult, len(co.workers))
	for i, wp := range co.workers {
		results[i] = wp.result
	}
	if pub != nil {
		r.Publications = &Publications{Sent: pub.sent.Load(), OK: pub.ok.Load(), Failed: pub.failed.Load()}
		r.Publications.LastError, _ = pub.lastErr.Load().(string)
	} else if cfg.Scenario == scenarioChat {
		p := &Publications{}
		for _, wr := range results {
			p.Sent += wr.Progress.PubSent
			p.OK += wr.Progress.PubAcked
			p.Failed += wr.PubFailed
		}
		r.Publications = p
	}
	r.mergeResults(results)
	if r.Publications != nil {
		r.Publications.PerSecond = float64(r.Publications.OK) / elapsed
	}
	r.DeliveriesPerSecond = float64(r.Deliveries) / elapsed
	if cfg.Scenario == scenarioChurn {
		r.ConnectionsPerSecond = float64(r.Connected) / elapsed
	}
	if cfg.Scenario == scenarioStorm {
		if r.Connected == 0 {
			return nil, fmt.Errorf("no client could connect to %s (is the server running?): %s", strings.Join(cfg.URLs, ", "), co.firstErrors())
		}
		r.mergeStorm(results, cfg.Missed)
	}
	co.usage(r, runStart, runEnd)
	if r.Server != nil {
		if n := r.Connected; n > 0 && cfg.Scenario == scenarioIdle {
			r.Server.RSSPerClientBytes = float64(r.Server.RSSAfterKiB-r.Server.RSSBeforeKiB) * 1024 / float64(n)
		}
		if r.Deliveries > 0 {
			r.Server.CPUPerDeliveryUS = r.Server.CPUSeconds * 1e6 / float64(r.Deliveries)
			r.Server.WriteCallsPerDelivery = float64(r.Server.WriteCalls) / float64(r.Deliveries)
		}
		if n := r.Connected; n > 0 && cfg.Scenario == scenarioStorm {
			r.Server.CPUPerConnectionUS = r.Server.CPUSeconds * 1e6 / float64(n)
		}
	}
	r.warn()
	if werr != nil {
		r.Warnings = append(r.Warnings, werr.Error())
	}
	return r, nil
}

// usage fills in the load generator's CPU and memory.
func (co *coordinator) usage(r *Result, from, to time.Time) {
	var rss int64
	for _, wp := range co.workers {
		avg, peak := wp.workerCPU(from, to)
		u := WorkerUsage{Worker: wp.index, Clients: wp.clients, CPUPercent: avg, PeakPercent: peak}
		if wp.result != nil {
			u.RSSKiB = wp.result.RSSKiB
			rss += u.RSSKiB
		}
		r.Generator.Workers = append(r.Generator.Workers, u)
	}
	if r.Connected > 0 && r.Scenario != scenarioChurn {
		r.Generator.RSSPerClientBytes = float64(rss) * 1024 / float64(r.Connected)
	}
}

// warn adds warnings about the run's trustworthiness.
func (r *Result) warn() {
	for _, w := range r.Generator.Workers {
		if w.CPUPercent > 90 {
			r.Warnings = append(r.Warnings, fmt.Sprintf(
				"worker %d used %.0f%% of a core during the run: the load generator itself may be the bottleneck (add --workers if cores are free, or lower the load)",
				w.Worker, w.CPUPercent))
		}
	}
	if r.Generator.CoordinatorCPU > 90 {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"the coordinator (publisher) used %.0f%% of a core: it may limit the publication rate", r.Generator.CoordinatorCPU))
	}
	if r.MachineBusyPercent > 95 {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"the machine's CPUs were %.0f%% busy: the server and the load generator competed for the same cores", r.MachineBusyPercent))
	}
	if r.ConnectFailures > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d connection attempts failed", r.ConnectFailures))
	}
	if p := r.Publications; p != nil && p.Failed > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d publications failed", p.Failed))
	}
	if p := r.Publications; p != nil && r.Duration > 0 && r.Rate > 0 && float64(p.Sent) < 0.95*r.Rate*r.Duration {
		r.Warnings = append(r.Warnings, fmt.Sprintf("only %d of %.0f publications could be sent: the publisher fell behind --rate", p.Sent, r.Rate*r.Duration))
	}
}
