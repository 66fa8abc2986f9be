//go:build linux

package websocket

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/heraldrt/herald/internal/uring"
	"golang.org/x/sys/unix"
)

// seccompChildEnv makes the test binary run as the child of
// TestSendPathFallsBackWhereSeccompForbidsIOUring.
const seccompChildEnv = "HERALD_TEST_SECCOMP_CHILD"

// TestSendPathFallsBackWhereSeccompForbidsIOUring runs the test binary
// again under a seccomp filter that answers io_uring_setup with EPERM, as
// container runtimes' default profiles do: there, auto must choose the
// write(2) path and say why in its log, and on must refuse to start.
func TestSendPathFallsBackWhereSeccompForbidsIOUring(t *testing.T) {
	if os.Getenv(seccompChildEnv) == "1" {
		seccompChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSendPathFallsBackWhereSeccompForbidsIOUring$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), seccompChildEnv+"=1", "HERALD_IO_URING=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child under seccomp failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("seccomp child: ok")) {
		t.Fatalf("the child did not run its checks:\n%s", out)
	}
}

// seccompChild installs the filter on every thread of the process, then
// starts servers on each setting.
func seccompChild(t *testing.T) {
	forbidIOUringSetup(t)
	if _, err := uring.New(8); !errors.Is(err, uring.ErrUnavailable) {
		t.Fatalf("uring.New under the filter: %v, want ErrUnavailable", err)
	}
	var logs bytes.Buffer
	s, err := NewServer(Config{IOUring: IOUringAuto, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, nil)
	if err != nil {
		t.Fatalf("auto under the filter: %v", err)
	}
	s.Stop()
	if s.SendPath() != SendPathWrite {
		t.Fatalf("auto under the filter chose %s", s.SendPath())
	}
	if !strings.Contains(logs.String(), "send path: write(2)") || !strings.Contains(logs.String(), "operation not permitted") {
		t.Fatalf("the fallback was not logged with its reason: %s", logs.String())
	}
	if _, err := NewServer(Config{IOUring: IOUringOn}, nil); !errors.Is(err, uring.ErrUnavailable) {
		t.Fatalf("on under the filter: %v, want an error matching uring.ErrUnavailable", err)
	}
	t.Log("seccomp child: ok")
}

// forbidIOUringSetup installs a seccomp filter, on every thread, that
// fails io_uring_setup with EPERM and allows everything else.
func forbidIOUringSetup(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatalf("PR_SET_NO_NEW_PRIVS: %v", err)
	}
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_IO_URING_SETUP},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		t.Fatalf("seccomp: %v", errno)
	}
}
