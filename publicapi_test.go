package herald_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

var updateAPI = flag.Bool("update-api", false, "rewrite testdata/api/*.txt from go doc")

// TestPublicAPI keeps the public surface of the library written down: `go
// doc -all` of each package users import must equal its file in
// testdata/api, so that any change to the API shows up in review as a
// change to that file. After an intended change, run
//
//	go test -run TestPublicAPI -update-api .
func TestPublicAPI(t *testing.T) {
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	for _, pkg := range []struct{ path, golden string }{
		{"github.com/heraldrt/herald", "herald.txt"},
		{"github.com/heraldrt/herald/client", "client.txt"},
	} {
		t.Run(pkg.golden, func(t *testing.T) {
			cmd := exec.Command(goTool, "doc", "-all", pkg.path)
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("go doc -all %s: %v", pkg.path, err)
			}
			file := filepath.Join("testdata", "api", pkg.golden)
			if *updateAPI {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (create it with: go test -run TestPublicAPI -update-api .)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the public API of %s changed; if that is intended, run\n\tgo test -run TestPublicAPI -update-api .\nand commit %s.\n%s", pkg.path, file, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff lists the lines only in want (-) and only in got (+), enough
// to see what changed in an API listing.
func lineDiff(want, got string) string {
	count := map[string]int{}
	for _, l := range bytes.Split([]byte(got), []byte("\n")) {
		count[string(l)]++
	}
	var out bytes.Buffer
	for _, l := range bytes.Split([]byte(want), []byte("\n")) {
		if count[string(l)] > 0 {
			count[string(l)]--
			continue
		}
		out.WriteString("- " + string(l) + "\n")
	}
	wantCount := map[string]int{}
	for _, l := range bytes.Split([]byte(want), []byte("\n")) {
		wantCount[string(l)]++
	}
	for _, l := range bytes.Split([]byte(got), []byte("\n")) {
		if wantCount[string(l)] > 0 {
			wantCount[string(l)]--
			continue
		}
		out.WriteString("+ " + string(l) + "\n")
	}
	return out.String()
}
