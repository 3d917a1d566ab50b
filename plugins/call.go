package plugins

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/sys"
)

// run calls hook on a pooled or fresh instance under the hook's timeout.
// Waiting for a free instance is bounded by ctx alone, so a full pool does
// not eat into the plugin's timeout.
func (p *Plugin) run(ctx context.Context, hook string, input []byte) ([]byte, *Failure) {
	inst, err := p.pool.take(ctx, p.done)
	if err != nil {
		return nil, p.waitFailure(ctx, hook, err)
	}
	callCtx, cancel := context.WithTimeout(ctx, p.manifest.HookTimeout(hook))
	defer cancel()

	if inst == nil {
		var f *Failure
		if inst, f = p.newInstance(ctx, callCtx, hook); f != nil {
			p.pool.free()
			return nil, f
		}
	}
	out, f, healthy := p.invoke(ctx, callCtx, inst, hook, input)
	p.release(inst, healthy)
	p.flushDroppedLogs()
	return out, f
}

func (p *Plugin) waitFailure(ctx context.Context, hook string, err error) *Failure {
	if errors.Is(err, ErrClosed) {
		return p.failure(hook, FailureError, err, "plugin closed")
	}
	msg := fmt.Sprintf("waiting for a free instance (pool size %d): %v", p.rt.cfg.PoolSize,
		ctx.Err())
	return p.failure(hook, FailureError, err, msg)
}

// invoke writes input to the guest's buffer, calls the hook export and reads
// the result. healthy is false when the instance must not be reused.
func (p *Plugin) invoke(parent, callCtx context.Context, inst *instance, hook string,
	input []byte) (out []byte, f *Failure, healthy bool) {
	ptr, err := inst.call(callCtx, inst.buffer, uint64(len(input)))
	if err != nil {
		return nil, p.classify(parent, callCtx, inst.alloc, hook, err), false
	}
	if uint32(ptr) == 0 {
		return nil, p.failure(hook, FailureOutOfMemory, nil, fmt.Sprintf(
			"podplug_buffer(%d) returned 0: the guest could not allocate", len(input))), true
	}
	if !inst.memory.Write(uint32(ptr), input) {
		return nil, p.failure(hook, FailureBadOutput, nil, fmt.Sprintf(
			"podplug_buffer(%d) returned pointer %d, outside guest memory of %d bytes",
			len(input), uint32(ptr), inst.memory.Size())), true
	}

	packed, err := inst.call(callCtx, inst.hooks[hook], uint64(len(input)))
	if err != nil {
		return nil, p.classify(parent, callCtx, inst.alloc, hook, err), false
	}
	out, f = p.readResult(inst, hook, packed)
	return out, f, true
}

// readResult copies the result that packed, (ptr << 32) | len, points to
// out of guest memory and checks it.
func (p *Plugin) readResult(inst *instance, hook string, packed uint64) ([]byte, *Failure) {
	ptr, n := uint32(packed>>32), uint32(packed)
	if n == 0 {
		return nil, p.failure(hook, FailureBadOutput, nil, "result is empty")
	}
	if n > uint32(p.manifest.MaxOutputBytes) {
		return nil, p.failure(hook, FailureBadOutput, nil, fmt.Sprintf(
			"result is %d bytes, over maxOutputBytes %d", n, p.manifest.MaxOutputBytes))
	}
	view, ok := inst.memory.Read(ptr, n)
	if !ok {
		return nil, p.failure(hook, FailureBadOutput, nil, fmt.Sprintf(
			"result at pointer %d with length %d is outside guest memory of %d bytes",
			ptr, n, inst.memory.Size()))
	}
	out := bytes.Clone(view)
	if f := p.checkResult(hook, out); f != nil {
		return nil, f
	}
	return out, nil
}

// classify turns the error of a guest call into a Failure.
func (p *Plugin) classify(parent, callCtx context.Context, alloc *cappedMemory, hook string,
	err error) *Failure {
	var hostErr *hostError
	var exitErr *sys.ExitError
	switch {
	case p.isClosed():
		return p.failure(hook, FailureError, ErrClosed, "plugin closed during the call")
	case errors.As(err, &hostErr):
		return p.failure(hook, FailureError, err, hostErr.Error())
	case parent.Err() != nil:
		return p.failure(hook, FailureError, parent.Err(), "call cancelled: "+parent.Err().Error())
	case errors.Is(callCtx.Err(), context.DeadlineExceeded):
		return p.failure(hook, FailureTimeout, context.DeadlineExceeded,
			"exceeded "+p.manifest.HookTimeout(hook).String())
	case alloc.growRejected:
		return p.failure(hook, FailureOutOfMemory, err,
			"memory would grow past memoryLimitPages "+formatPages(p.manifest.MemoryLimitPages))
	case errors.As(err, &exitErr):
		return p.failure(hook, FailureTrap, err,
			fmt.Sprintf("guest exited with code %d", exitErr.ExitCode()))
	}
	var trap *hostTrap
	if errors.As(err, &trap) {
		return p.failure(hook, FailureTrap, err, trap.Error())
	}
	return p.failure(hook, FailureTrap, err, firstLine(err))
}

// firstLine returns the first line of err's message, without wazero's
// stack trace.
func firstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
