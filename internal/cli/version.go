package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildInfo is what the binary knows about its own build.
type buildInfo struct {
	Version   string // module version, "(devel)" for a build from a work tree
	Commit    string // VCS revision, "" when unknown
	Time      string // commit time, RFC 3339
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string
	Platform  string // GOOS/GOARCH
}

// readBuildInfo reads the build information the Go toolchain stamps into
// the binary.
func readBuildInfo() buildInfo {
	b := buildInfo{
		Version:   "(devel)",
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := bi.Main.Version; v != "" {
		b.Version = v
	}
	if bi.GoVersion != "" {
		b.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// write prints the build information for `herald version`.
func (b buildInfo) write(w io.Writer) {
	fmt.Fprintf(w, "herald %s\n", b.Version)
	commit := b.Commit
	if commit == "" {
		commit = "unknown"
	}
	if b.Time != "" {
		commit += " (" + b.Time + ")"
	}
	if b.Modified {
		commit += " with uncommitted changes"
	}
	fmt.Fprintf(w, "commit %s\n", commit)
	fmt.Fprintf(w, "built with %s for %s\n", b.GoVersion, b.Platform)
}
