package js_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/client"
	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/js"
)

// TestPackedSDKInNode packs the SDK with npm pack, installs the tarball
// into a fresh folder (as a user's project would, with ws and TypeScript
// from js/node_modules), compiles the typed example it ships with tsc in
// strict mode, runs the example against a real server, then runs the
// channel checks of web/e2e/channels.checks.mjs under Node.js with it.
func TestPackedSDKInNode(t *testing.T) {
	deps := requireNode(t)
	fresh := t.TempDir()
	packDir := t.TempDir()
	out := run(t, ".", "npm", "pack", "--silent", "--pack-destination", packDir)
	tarball := filepath.Join(packDir, strings.TrimSpace(lastLine(out)))

	write(t, filepath.Join(fresh, "package.json"), `{"name":"fresh","private":true,"type":"module"}`)
	run(t, fresh, "npm", "install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", tarball)
	pkg := filepath.Join(fresh, "node_modules", "@heraldrt", "herald")
	for _, f := range []string{"herald.js", "herald.d.ts", "README.md", "package.json", "examples/node-chat.ts"} {
		if _, err := os.Stat(filepath.Join(pkg, f)); err != nil {
			t.Errorf("the tarball lacks %s", f)
		}
	}
	for _, f := range []string{"tsconfig.json", "scripts", "src", "test", "node_modules", "package-lock.json"} {
		if _, err := os.Stat(filepath.Join(pkg, f)); err == nil {
			t.Errorf("the tarball ships %s, which is not in package.json's files", f)
		}
	}
	for _, dep := range []string{"ws", "typescript", "@types"} {
		if err := os.Symlink(filepath.Join(deps, dep), filepath.Join(fresh, "node_modules", dep)); err != nil {
			t.Fatal(err)
		}
	}

	// The typed example, compiled as a user would, strictly.
	example, err := os.ReadFile(filepath.Join(pkg, "examples", "node-chat.ts"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(fresh, "node-chat.ts"), string(example))
	write(t, filepath.Join(fresh, "tsconfig.json"), `{"compilerOptions":{"target":"es2022","module":"nodenext","moduleResolution":"nodenext","strict":true,"types":["node"],"outDir":"out"},"files":["node-chat.ts"]}`)
	run(t, fresh, "node", "node_modules/typescript/bin/tsc", "-p", ".")

	base := browsertest.StartChannelsServer(t)
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	out = run(t, fresh, "node", "out/node-chat.js", ws, "chat:example")
	if !strings.Contains(out, "received back at") {
		t.Errorf("the example did not receive its own message:\n%s", out)
	}
	if !strings.Contains(out, "14 bytes came back over protobuf: hello in bytes") {
		t.Errorf("the example did not receive its own bytes over Protobuf:\n%s", out)
	}

	for _, f := range []string{"../web/e2e/channels.checks.mjs", "test/run-checks.mjs"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(fresh, filepath.Base(f)), string(src))
	}
	run(t, fresh, "node", "run-checks.mjs", base)
}

// TestVersionsAgree: the npm package, the module's VERSION (sent in
// connect) and the Go SDK's SDKVersion are one version.
func TestVersionsAgree(t *testing.T) {
	raw, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Version string `json:"version"`
		Type    string `json:"type"`
		Types   string `json:"types"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^(?:export )?(?:var|const) VERSION = ["']([^"']+)["']`).FindSubmatch(js.Source())
	if m == nil {
		t.Fatal("herald.js has no VERSION")
	}
	if pkg.Version != string(m[1]) || pkg.Version != client.SDKVersion {
		t.Errorf("versions differ: package.json %s, herald.js %s, client.SDKVersion %s", pkg.Version, m[1], client.SDKVersion)
	}
	if pkg.Type != "module" || pkg.Types != "./herald.d.ts" {
		t.Errorf("package.json: type %q, types %q; want module and ./herald.d.ts", pkg.Type, pkg.Types)
	}
}

// TestTypesMatchJSDoc runs tsc: the sources in src/ type-check against
// their JSDoc, herald.d.ts is what the JSDoc generates, and the typed
// example compiles against it (npm run check, npm run types:check).
func TestTypesMatchJSDoc(t *testing.T) {
	requireNode(t)
	run(t, ".", "npm", "run", "--silent", "check")
	run(t, ".", "npm", "run", "--silent", "types:check")
}

// TestBuildIsFresh: herald.js, which the binary embeds and the npm package
// ships, is what esbuild builds from src/ now (npm run build:check), so
// that an edit of src/ without `npm run build` (or an edit of herald.js
// itself) fails here. It also imports the built module under Node.js and
// checks that it exports what the SDK always has, nothing more.
func TestBuildIsFresh(t *testing.T) {
	requireNode(t)
	run(t, ".", "npm", "run", "--silent", "build:check")
	out := run(t, ".", "node", "--input-type=module", "-e",
		`const m = await import('./herald.js'); console.log(Object.keys(m).sort().join(' '))`)
	want := "CloseCode ErrorCode Herald HeraldError Subscription VERSION shouldReconnect tokenExpiry"
	if got := strings.TrimSpace(lastLine(out)); got != want {
		t.Errorf("herald.js exports %q, want %q", got, want)
	}
}

// TestSDKUnitTests runs the SDK's unit tests under Node.js (npm test:
// node --test test/*.test.mjs): the JSON and Protobuf encodings, binary
// payloads and base64, against the modules of src/.
func TestSDKUnitTests(t *testing.T) {
	requireNode(t)
	out := run(t, ".", "npm", "test", "--silent")
	if !strings.Contains(out, "# fail 0") {
		t.Errorf("npm test did not report zero failures:\n%s", out)
	}
}

// requireNode checks for node, npm and the packages of js/package.json
// (npm ci in js/, make e2e-deps) and returns js/node_modules.
func requireNode(t *testing.T) string {
	t.Helper()
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			browsertest.NeedService(t, "SDK package test: %s is not installed; install Node.js 20 or later (apt-get install -y nodejs npm)", bin)
		}
	}
	dir, err := filepath.Abs("node_modules")
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range []string{"typescript", "ws", "@types/ws", "@types/node", "esbuild", "dts-bundle-generator", "@bufbuild/protobuf"} {
		if _, err := os.Stat(filepath.Join(dir, dep)); err != nil {
			browsertest.NeedService(t, "SDK package test: %s is not installed; run npm ci in js/ (make e2e-deps)", dep)
		}
	}
	return dir
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
