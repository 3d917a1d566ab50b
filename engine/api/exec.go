package api

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/podplug/podplug/engine"
	"github.com/podplug/podplug/policy"
)

// The exec protocol: the client sends the ExecSpec, base64-encoded JSON, in
// the ExecHeader header of an Upgrade request. After "101 Switching
// Protocols" the client writes the process's stdin as raw bytes and
// half-closes; the server writes frames: one byte of stream (FrameStdout,
// FrameStderr, FrameExit, FrameError), four bytes of big-endian length, then
// the payload. FrameExit carries the exit code in decimal and ends the
// stream; FrameError carries a message and ends it too.
const (
	ExecHeader  = "X-Podplug-Exec"
	ExecUpgrade = "podplug-exec"

	FrameStdout byte = 1
	FrameStderr byte = 2
	FrameExit   byte = 3
	FrameError  byte = 4
)

func (s *Server) exec(w http.ResponseWriter, r *http.Request, who Subject) (any, error) {
	var spec engine.ExecSpec
	raw, err := base64.StdEncoding.DecodeString(r.Header.Get(ExecHeader))
	if err == nil {
		err = json.Unmarshal(raw, &spec)
	}
	if err != nil {
		return nil, fmt.Errorf("exec request: %v: %w", err, engine.ErrInvalid)
	}
	req := &policy.Request{Command: spec.Command, Env: spec.Env}
	if err := s.gateContainer(r.Context(), who, policy.OpContainerExec, r.PathValue("ref"), req); err != nil {
		return nil, err
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, fmt.Errorf("exec: connection cannot be taken over")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	defer conn.Close()
	fmt.Fprintf(buf,
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n", ExecUpgrade)
	if err := buf.Flush(); err != nil {
		return streamed, nil
	}
	fw := &frameWriter{w: conn}
	code, err := s.eng.Exec(r.Context(), scope(who), r.PathValue("ref"), spec, engine.ExecIO{
		Stdin:  stdinReader(buf.Reader, conn),
		Stdout: fw.stream(FrameStdout),
		Stderr: fw.stream(FrameStderr),
	})
	if err != nil {
		_ = fw.frame(FrameError, []byte(err.Error()))
		return streamed, nil
	}
	_ = fw.frame(FrameExit, []byte(strconv.Itoa(code)))
	return streamed, nil
}

// stdinReader reads what the client sent, first the bytes already buffered.
func stdinReader(buffered *bufio.Reader, conn net.Conn) io.Reader {
	if buffered.Buffered() > 0 {
		data, _ := buffered.Peek(buffered.Buffered())
		return io.MultiReader(bytes.NewReader(append([]byte(nil), data...)), conn)
	}
	return conn
}

// frameWriter writes framed output; its methods are safe for concurrent use.
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (f *frameWriter) frame(kind byte, payload []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var hdr [5]byte
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := f.w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := f.w.Write(payload)
	return err
}

type frameStream struct {
	f    *frameWriter
	kind byte
}

func (f *frameWriter) stream(kind byte) io.Writer { return &frameStream{f: f, kind: kind} }

func (s *frameStream) Write(p []byte) (int, error) {
	if err := s.f.frame(s.kind, p); err != nil {
		return 0, err
	}
	return len(p), nil
}
